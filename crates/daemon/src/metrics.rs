//! Metrics as a Prometheus text file (node_exporter's textfile-collector format), written
//! to `[paths].metrics` (default `STATE/baseliner.prom`) through a temporary file and a
//! rename, every minute and at stop: jobs by state, API calls and 409s by API, seconds
//! spent waiting on rate limits, the age of the oldest unfinished job, whether the daemon
//! is paused, and alerts (command, webhook) that failed.

use crate::governor::ApiStats;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// An effect outside Qualys whose failure is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `[alerts].command`.
    Command,
    /// `[alerts].webhook`.
    Webhook,
}

static COMMAND_FAILURES: AtomicU64 = AtomicU64::new(0);
static WEBHOOK_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Counts one failed, timed-out or unknown alert `effect` (since the process started).
pub fn count_alert_failure(effect: Effect) {
    let c = match effect {
        Effect::Command => &COMMAND_FAILURES,
        Effect::Webhook => &WEBHOOK_FAILURES,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

/// The failed alerts counted so far: (command, webhook).
pub fn alert_failures() -> (u64, u64) {
    (
        COMMAND_FAILURES.load(Ordering::Relaxed),
        WEBHOOK_FAILURES.load(Ordering::Relaxed),
    )
}

/// What one metrics file reports.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Jobs per public state (unfinished from memory, finished counted since the store opened).
    pub jobs: BTreeMap<&'static str, u64>,
    /// Per-API counters.
    pub apis: Vec<(String, ApiStats)>,
    /// When the oldest unfinished job was accepted.
    pub oldest_active: Option<Timestamp>,
    /// True while every job is paused (credentials, account).
    pub paused: bool,
    /// State transitions committed since start.
    pub transitions: u64,
    /// Alert commands and webhooks that failed since start: (command, webhook).
    pub alert_failures: (u64, u64),
}

/// How many of `records` are at each public step.
pub fn count_by_step<'a>(
    records: impl IntoIterator<Item = &'a JobRecord>,
) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for r in records {
        *counts
            .entry(r.checkpoint.state.step_name().as_str())
            .or_default() += 1;
    }
    counts
}

impl Snapshot {
    /// The snapshot of the run loop's counters: `unfinished` jobs (from memory), jobs
    /// `finished` since the store opened, the per-API counters, the pause and the commits.
    pub fn of<'a>(
        unfinished: impl IntoIterator<Item = &'a JobRecord> + Clone,
        finished: &BTreeMap<&'static str, u64>,
        apis: Vec<(String, ApiStats)>,
        paused: bool,
        transitions: u64,
    ) -> Snapshot {
        let mut jobs = finished.clone();
        for (step, n) in count_by_step(unfinished.clone()) {
            *jobs.entry(step).or_default() += n;
        }
        Snapshot {
            jobs,
            apis,
            oldest_active: unfinished.into_iter().map(|r| r.accepted_at).min(),
            paused,
            transitions,
            alert_failures: alert_failures(),
        }
    }
}

/// Writes the metrics file at `path` atomically; a failure is logged (the next write
/// replaces it).
pub fn write_file(path: &Path, snap: &Snapshot) {
    let text = render(snap, Timestamp::now());
    if let Err(e) = crate::fsutil::write_atomic(path, text.as_bytes()) {
        tracing::warn!("metrics file {} not written: {e}", path.display());
    }
}

/// How one per-API family reads its value.
type ApiValue = fn(&ApiStats) -> String;

/// Renders the text exposition format.
pub fn render(s: &Snapshot, now: Timestamp) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# HELP baseliner_jobs Jobs by state.");
    let _ = writeln!(out, "# TYPE baseliner_jobs gauge");
    for (state, n) in &s.jobs {
        let _ = writeln!(out, "baseliner_jobs{{state=\"{state}\"}} {n}");
    }
    let per_api: [(&str, &str, ApiValue); 3] = [
        (
            "baseliner_api_calls_total",
            "Qualys API calls sent, by API.",
            |st| st.calls.to_string(),
        ),
        (
            "baseliner_api_conflicts_total",
            "HTTP 409 answers (rate or concurrency limit), by API.",
            |st| st.conflicts.to_string(),
        ),
        (
            "baseliner_rate_limit_wait_seconds_total",
            "Seconds calls waited on rate and concurrency limits, by API.",
            |st| format!("{:.3}", st.waited_ms as f64 / 1000.0),
        ),
    ];
    for (name, help, value) in per_api {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (api, st) in &s.apis {
            let _ = writeln!(out, "{name}{{api=\"{}\"}} {}", label(api), value(st));
        }
    }
    let _ = writeln!(out, "# HELP baseliner_oldest_active_job_age_seconds Age of the oldest unfinished job (0: none).");
    let _ = writeln!(out, "# TYPE baseliner_oldest_active_job_age_seconds gauge");
    let age = s.oldest_active.map(|t| t.until(now).as_secs()).unwrap_or(0);
    let _ = writeln!(out, "baseliner_oldest_active_job_age_seconds {age}");
    let _ = writeln!(
        out,
        "# HELP baseliner_paused 1 while every job is paused by an account problem."
    );
    let _ = writeln!(out, "# TYPE baseliner_paused gauge");
    let _ = writeln!(out, "baseliner_paused {}", u8::from(s.paused));
    let _ = writeln!(
        out,
        "# HELP baseliner_transitions_total Job state transitions committed since start."
    );
    let _ = writeln!(out, "# TYPE baseliner_transitions_total counter");
    let _ = writeln!(out, "baseliner_transitions_total {}", s.transitions);
    let _ = writeln!(
        out,
        "# HELP baseliner_alert_failures_total Alerts that failed, timed out or may not have run, by kind."
    );
    let _ = writeln!(out, "# TYPE baseliner_alert_failures_total counter");
    let (command, webhook) = s.alert_failures;
    let _ = writeln!(
        out,
        "baseliner_alert_failures_total{{kind=\"command\"}} {command}"
    );
    let _ = writeln!(
        out,
        "baseliner_alert_failures_total{{kind=\"webhook\"}} {webhook}"
    );
    out
}

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_escaped_labels() {
        let mut s = Snapshot::default();
        s.jobs.insert("scan_running", 3);
        s.apis.push((
            "/api/2.0/fo/scan/?action=\"x\"".into(),
            ApiStats {
                calls: 7,
                conflicts: 2,
                waited_ms: 1500,
            },
        ));
        s.oldest_active = Some(Timestamp(0));
        s.alert_failures = (2, 1);
        let text = render(&s, Timestamp(90_000));
        assert!(text.contains("baseliner_jobs{state=\"scan_running\"} 3\n"));
        assert!(text
            .contains("baseliner_api_calls_total{api=\"/api/2.0/fo/scan/?action=\\\"x\\\"\"} 7\n"));
        assert!(text.contains(
            "baseliner_api_conflicts_total{api=\"/api/2.0/fo/scan/?action=\\\"x\\\"\"} 2\n"
        ));
        assert!(text.contains("} 1.500\n"));
        assert!(text.contains("baseliner_oldest_active_job_age_seconds 90\n"));
        assert!(text.contains("baseliner_paused 0\n"));
        assert!(text.contains("baseliner_alert_failures_total{kind=\"command\"} 2\n"));
        assert!(text.contains("baseliner_alert_failures_total{kind=\"webhook\"} 1\n"));
    }
}
