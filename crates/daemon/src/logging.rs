//! Logging setup. Under systemd (`$JOURNAL_STREAM` set and the journal socket reachable)
//! events go to journald natively, with structured fields (`JOB_ID`, `SCAN_REF`, `STEP`)
//! that `journalctl JOB_ID=…` can filter on; elsewhere they are readable text on stderr.
//! One line per transition; never a secret.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `filter` (from `--log`) wins over `$BASELINER_LOG`; the default
/// is `default`.
pub fn init(filter: Option<&str>, default: &str) {
    let filter = filter
        .map(str::to_string)
        .or_else(|| std::env::var("BASELINER_LOG").ok())
        .unwrap_or_else(|| default.to_string());
    let env = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        if let Ok(journald) = tracing_journald::layer() {
            let journald = journald
                .with_field_prefix(None)
                .with_syslog_identifier("baseliner".into());
            // A second init (tests) keeps the first subscriber.
            let _ = tracing_subscriber::registry()
                .with(env)
                .with(journald)
                .try_init();
            return;
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}
