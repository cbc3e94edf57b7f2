//! The simulator's configuration: credentials, job timings, limits, templates, appliances.

use std::time::Duration;

/// How the simulated Qualys subscription behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Login accepted by Basic auth and by the session API ("demo" by default).
    pub username: String,
    /// Password accepted by Basic auth and by the session API ("demo" by default).
    pub password: String,
    /// Time a launched scan stays `Queued`.
    pub scan_queued: Duration,
    /// Time a scan then stays `Running`.
    pub scan_running: Duration,
    /// Time a scan then stays `Finished` with `PROCESSED` 0 before it becomes 1.
    pub scan_processing: Duration,
    /// Time a launched report stays `Running` before it is `Finished`.
    pub report_running: Duration,
    /// Calls allowed per API (path + action) in the sliding window.
    pub rate_limit: u32,
    /// Length of the sliding rate-limit window.
    pub rate_window: Duration,
    /// Calls of one API allowed in flight at once.
    pub concurrency_limit: u32,
    /// Report templates as (id, title); listed by `/msp/report_template_list.php`.
    pub templates: Vec<(u64, String)>,
    /// Scanner appliances as (id, name).
    pub appliances: Vec<(u64, String)>,
    /// Delay added to every response.
    pub latency: Duration,
    /// APIs (`"<path>?action=<action>"`) that answer 404 as a retired or not yet released
    /// API version does, e.g. `"/api/3.0/fo/scan/?action=list"`. Empty by default.
    pub retired_apis: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "demo".to_owned(),
            password: "demo".to_owned(),
            scan_queued: Duration::from_secs(1),
            scan_running: Duration::from_secs(8),
            scan_processing: Duration::from_secs(1),
            report_running: Duration::from_secs(2),
            rate_limit: 300,
            rate_window: Duration::from_secs(3600),
            concurrency_limit: 2,
            templates: vec![
                (1, "Technical Report".to_owned()),
                (2, "Executive Report".to_owned()),
                (3, "High Severity Report".to_owned()),
            ],
            appliances: vec![
                (1001, "scanner-dc1".to_owned()),
                (1002, "scanner-dc2".to_owned()),
            ],
            latency: Duration::ZERO,
            retired_apis: Vec::new(),
        }
    }
}

impl SimConfig {
    /// A configuration for tests: scans finish in about a second, reports in about 0.3 s,
    /// and the limits are generous enough never to get in the way.
    pub fn fast() -> SimConfig {
        SimConfig {
            scan_queued: Duration::from_millis(100),
            scan_running: Duration::from_millis(700),
            scan_processing: Duration::from_millis(200),
            report_running: Duration::from_millis(300),
            rate_limit: 10_000,
            rate_window: Duration::from_secs(3600),
            concurrency_limit: 64,
            ..SimConfig::default()
        }
    }
}
