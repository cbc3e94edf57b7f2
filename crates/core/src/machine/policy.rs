//! The machine's timings and retry bounds, and the absence proof time derived from them.

use crate::time::Timestamp;
use std::time::Duration;

/// Timings and retry bounds, from the config's `[polling]` section and built-in defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// First scan poll this long after the launch (`scan_first_check`, default 7m).
    pub scan_first_check: Duration,
    /// Then a poll every (`scan_every`, default 5m).
    pub scan_every: Duration,
    /// Report polls every (`report_every`, default 1m).
    pub report_every: Duration,
    /// A scan older than this fails the job, and so does a report still unfinished this
    /// long after it started running (`give_up_after`, default 72h).
    pub give_up_after: Duration,
    /// First retry delay after a transient failure (default 5s); doubles each attempt.
    pub retry_base: Duration,
    /// Retry delays are capped here while the failures are young (default 10m).
    pub retry_cap: Duration,
    /// After failing this long (default 1h) the job waits longer rather than fails …
    pub retry_patience: Duration,
    /// … with delays capped here instead (default 1h).
    pub patient_cap: Duration,
    /// Lookups after a crash search from `sent_at - lookup_slack` (clock skew; default 15m).
    pub lookup_slack: Duration,
    /// A scan (or report) missing from this many polls in a row fails the job (default 3).
    pub max_missing_polls: u32,
    /// How long a request may run (`[qualys].request_timeout`, default 120s): a request the
    /// client sent may still be applied inside Qualys until then.
    pub request_timeout: Duration,
    /// Added to `request_timeout` before a lookup that finds nothing proves a request was
    /// not applied (`[polling].absence_margin`, default 90s). Half of it is the longest a
    /// request may wait for its send slot after its intent (see [`Policy::send_within`]).
    pub absence_margin: Duration,
}

impl Policy {
    /// The earliest time at which a lookup that finds nothing proves that the request whose
    /// intent was recorded at `sent_at` was not applied and never will be (qualys-api.md
    /// §2.4): `sent_at + request_timeout + absence_margin`. Before it, "not found" means
    /// "look again then", never "send again".
    pub fn absent_after(&self, sent_at: Timestamp) -> Timestamp {
        sent_at.plus(self.request_timeout).plus(self.absence_margin)
    }

    /// The longest a request that needs an intent may wait (for a governor slot, a
    /// lookup it depends on) between its intent and its send; a driver that cannot send
    /// by then must not send at all (it reports the attempt as not sent), so that
    /// [`Policy::absent_after`] still covers the request: half the absence margin.
    pub fn send_within(&self) -> Duration {
        self.absence_margin / 2
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            scan_first_check: Duration::from_secs(7 * 60),
            scan_every: Duration::from_secs(5 * 60),
            report_every: Duration::from_secs(60),
            give_up_after: Duration::from_secs(72 * 3600),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(600),
            retry_patience: Duration::from_secs(3600),
            patient_cap: Duration::from_secs(3600),
            lookup_slack: Duration::from_secs(15 * 60),
            max_missing_polls: 3,
            request_timeout: Duration::from_secs(120),
            absence_margin: Duration::from_secs(90),
        }
    }
}
