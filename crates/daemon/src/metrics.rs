//! Metrics as a Prometheus text file (node_exporter's textfile-collector format), written
//! to `[paths].metrics` (default `STATE/baseliner.prom`) through a temporary file and a
//! rename, every minute and at stop: jobs by state, API calls, failures (by error class)
//! and 409s by API, seconds spent waiting on rate limits, retries, the age of the oldest
//! unfinished job, whether the daemon is paused, alerts (command, webhook) that failed,
//! and the build. Every job state, every API the client calls and every error class is
//! present from the start, with 0, so that rates and alerts work before the first event.

use crate::governor::ApiStats;
use baseliner_core::state::StepName;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
use baseliner_qualys::ErrorKind;
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
    /// Failed attempts that were followed by a retry, since start.
    pub retries: u64,
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

/// The APIs for a snapshot: every one the client calls, and the governors' counters.
#[derive(Debug, Default)]
pub struct Apis {
    /// Every API key the client calls (shown with 0 until called).
    pub known: Vec<String>,
    /// The governors' counters of the APIs called so far.
    pub stats: Vec<(String, ApiStats)>,
}

impl Snapshot {
    /// The snapshot of the run loop's counters: `unfinished` jobs (from memory), jobs
    /// `finished` since the store opened, the per-API counters, the pause and the
    /// (transitions, retries) since start.
    pub fn of<'a>(
        unfinished: impl IntoIterator<Item = &'a JobRecord> + Clone,
        finished: &BTreeMap<&'static str, u64>,
        apis: Apis,
        paused: bool,
        (transitions, retries): (u64, u64),
    ) -> Snapshot {
        let mut jobs = finished.clone();
        for (step, n) in count_by_step(unfinished.clone()) {
            *jobs.entry(step).or_default() += n;
        }
        let mut by_api: BTreeMap<String, ApiStats> = apis
            .known
            .into_iter()
            .map(|k| (k, ApiStats::default()))
            .collect();
        by_api.extend(apis.stats);
        Snapshot {
            jobs,
            apis: by_api.into_iter().collect(),
            oldest_active: unfinished.into_iter().map(|r| r.accepted_at).min(),
            paused,
            transitions,
            retries,
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
    for step in StepName::ALL {
        let n = s.jobs.get(step.as_str()).copied().unwrap_or(0);
        let _ = writeln!(out, "baseliner_jobs{{state=\"{step}\"}} {n}");
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
    let _ = writeln!(
        out,
        "# HELP baseliner_api_failures_total Qualys API calls that failed, by API and error class."
    );
    let _ = writeln!(out, "# TYPE baseliner_api_failures_total counter");
    let classes = ErrorKind::every();
    for (api, st) in &s.apis {
        for class in classes.iter().map(ErrorKind::class) {
            let n = st.failures.get(class).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "baseliner_api_failures_total{{api=\"{}\",class=\"{class}\"}} {n}",
                label(api)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP baseliner_retries_total Failed attempts of a job's step that will be tried again, since start."
    );
    let _ = writeln!(out, "# TYPE baseliner_retries_total counter");
    let _ = writeln!(out, "baseliner_retries_total {}", s.retries);
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
    let _ = writeln!(
        out,
        "# HELP baseliner_build_info The running build: version and git commit (always 1)."
    );
    let _ = writeln!(out, "# TYPE baseliner_build_info gauge");
    let _ = writeln!(
        out,
        "baseliner_build_info{{version=\"{}\",commit=\"{}\"}} 1",
        label(crate::build_info::VERSION),
        label(crate::build_info::COMMIT)
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
                failures: BTreeMap::new(),
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

    /// Every sample line is `NAME{LABELS} VALUE` with a number, and every family has one
    /// HELP and one TYPE line before its samples.
    fn assert_well_formed(text: &str) {
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap_or_default();
                assert!(declared.insert(name.to_string()), "TYPE {name} twice");
                assert!(
                    text.contains(&format!("# HELP {name} ")),
                    "{name} has no HELP"
                );
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("NAME VALUE");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().unwrap_or_default();
            assert!(declared.contains(name), "{name} sampled before its TYPE");
        }
    }

    #[test]
    fn an_empty_daemon_shows_every_state_api_and_class_with_zero() {
        let apis = Apis {
            known: vec!["/api/2.0/fo/scan/?action=list".into(), "/msp/x.php".into()],
            stats: Vec::new(),
        };
        let snap = Snapshot::of(
            std::iter::empty::<&JobRecord>(),
            &BTreeMap::new(),
            apis,
            false,
            (0, 0),
        );
        let text = render(&snap, Timestamp(0));
        assert_well_formed(&text);
        for step in StepName::ALL {
            let line = format!("baseliner_jobs{{state=\"{step}\"}} 0\n");
            assert!(text.contains(&line), "{line}");
        }
        assert_eq!(text.matches("baseliner_jobs{").count(), 11);
        for api in ["/api/2.0/fo/scan/?action=list", "/msp/x.php"] {
            for family in ["baseliner_api_calls_total", "baseliner_api_conflicts_total"] {
                let line = format!("{family}{{api=\"{api}\"}} 0\n");
                assert!(text.contains(&line), "{line}");
            }
            for kind in ErrorKind::every() {
                let line = format!(
                    "baseliner_api_failures_total{{api=\"{api}\",class=\"{}\"}} 0\n",
                    kind.class()
                );
                assert!(text.contains(&line), "{line}");
            }
        }
        assert_eq!(
            text.matches("baseliner_api_failures_total{").count(),
            2 * 16
        );
        assert!(text.contains("baseliner_retries_total 0\n"));
        assert!(text.contains("baseliner_transitions_total 0\n"));
        let build = format!(
            "baseliner_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
            crate::build_info::VERSION,
            crate::build_info::COMMIT
        );
        assert!(text.contains(&build), "{build}");
    }

    #[test]
    fn failures_count_by_api_and_class_and_retries_are_shown() {
        let gov = crate::governor::Governors::new(None);
        let scan = "/api/2.0/fo/scan/?action=launch";
        gov.count_failure(scan, ErrorKind::Transient.class());
        gov.count_failure(scan, ErrorKind::Transient.class());
        gov.count_failure(scan, ErrorKind::BadCredentials.class());
        gov.count_failure("/unlisted", ErrorKind::Protocol.class());
        let apis = Apis {
            known: vec![scan.into(), "/api/2.0/fo/report/?action=list".into()],
            stats: gov.stats(),
        };
        let mut finished = BTreeMap::new();
        finished.insert("done", 4);
        let snap = Snapshot::of(
            std::iter::empty::<&JobRecord>(),
            &finished,
            apis,
            true,
            (9, 3),
        );
        let text = render(&snap, Timestamp(0));
        assert_well_formed(&text);
        for line in [
            "baseliner_api_failures_total{api=\"/api/2.0/fo/scan/?action=launch\",class=\"transient\"} 2\n",
            "baseliner_api_failures_total{api=\"/api/2.0/fo/scan/?action=launch\",class=\"bad_credentials\"} 1\n",
            "baseliner_api_failures_total{api=\"/api/2.0/fo/scan/?action=launch\",class=\"protocol\"} 0\n",
            "baseliner_api_failures_total{api=\"/api/2.0/fo/report/?action=list\",class=\"transient\"} 0\n",
            // An API the client did not list still shows what it counted.
            "baseliner_api_failures_total{api=\"/unlisted\",class=\"protocol\"} 1\n",
            "baseliner_jobs{state=\"done\"} 4\n",
            "baseliner_jobs{state=\"failed\"} 0\n",
            "baseliner_retries_total 3\n",
            "baseliner_transitions_total 9\n",
            "baseliner_paused 1\n",
        ] {
            assert!(text.contains(line), "{line}");
        }
        assert_eq!(
            text.matches("baseliner_api_failures_total{").count(),
            3 * 16
        );
    }
}
