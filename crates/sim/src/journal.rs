//! The request journal: one [`JournalEntry`] per request the simulator received.

use std::time::SystemTime;

/// What the simulator saw and answered for one request.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// Arrival time.
    pub at: SystemTime,
    /// HTTP method.
    pub method: String,
    /// Path as requested, e.g. `/api/2.0/fo/scan/`.
    pub path: String,
    /// `"<path>?action=<action>"`, the rate-limit key.
    pub api: String,
    /// Query and form-body parameters, decoded, in order.
    pub params: Vec<(String, String)>,
    /// HTTP status sent (0 if the connection was dropped without a response).
    pub status: u16,
    /// Qualys CODE of the body, if any.
    pub code: Option<u32>,
    /// The request changed the model (a launch, an add…).
    pub applied: bool,
    /// When the change took effect (later than `at` for a slow-applied mutation, and possibly
    /// after the client gave up); `None` when nothing was applied.
    pub applied_at: Option<SystemTime>,
    /// The connection was dropped after applying (fault).
    pub dropped: bool,
    /// Calls of this API in flight when it arrived, including itself.
    pub in_flight: u32,
    /// Arrived while a ToWait window announced to the client was still open for this API.
    pub during_wait: bool,
}
