//! Logging setup: tracing to stderr. Under systemd (`$JOURNAL_STREAM` set) lines carry no
//! timestamp or colour, since journald adds its own; elsewhere they are readable text.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `filter` (from `--log`) wins over `$BASELINER_LOG`; the default
/// is `default`.
pub fn init(filter: Option<&str>, default: &str) {
    let filter = filter
        .map(str::to_string)
        .or_else(|| std::env::var("BASELINER_LOG").ok())
        .unwrap_or_else(|| default.to_string());
    let env = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default));
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if journald {
        builder.without_time().with_ansi(false).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    // A second init (tests, demo) keeps the first subscriber.
    let _ = result;
}
