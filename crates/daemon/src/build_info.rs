//! What this binary is: the package version, the git commit and the build date that
//! `build.rs` recorded. One line for `--version`, the man page and the metrics'
//! `baseliner_build_info`.

use baseliner_core::time::Timestamp;
use std::sync::OnceLock;

/// The package version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The short git commit the binary was built from, or `unknown` (no git, a source tarball).
pub const COMMIT: &str = env!("BASELINER_COMMIT");

/// The build time in seconds since the epoch (`SOURCE_DATE_EPOCH` when it was set).
const BUILD_EPOCH: &str = env!("BASELINER_BUILD_EPOCH");

/// The build date, `YYYY-MM-DD` (UTC).
pub fn build_date() -> String {
    date_of(BUILD_EPOCH)
}

/// `VERSION (commit COMMIT, built DATE)`: what `baseliner --version` prints after the name.
pub fn version() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| version_line(VERSION, COMMIT, BUILD_EPOCH))
}

fn version_line(version: &str, commit: &str, epoch: &str) -> String {
    format!("{version} (commit {commit}, built {})", date_of(epoch))
}

/// The UTC date of `epoch` (seconds, as text); `unknown` when it is not a number.
fn date_of(epoch: &str) -> String {
    match epoch.trim().parse::<i64>() {
        Ok(secs) => Timestamp(secs.saturating_mul(1000))
            .to_rfc3339()
            .chars()
            .take(10)
            .collect(),
        Err(_) => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_version_commit_and_utc_date() {
        // 2026-12-02T23:59:59Z, a SOURCE_DATE_EPOCH.
        assert_eq!(
            version_line("0.1.0", "abc1234", "1796255999"),
            "0.1.0 (commit abc1234, built 2026-12-02)"
        );
        assert_eq!(date_of("0"), "1970-01-01");
        assert_eq!(date_of("garbage"), "unknown");
        assert!(version().starts_with(VERSION));
        assert!(version().contains(COMMIT));
    }
}
