//! The alert, at most once per job across crashes.
//!
//! Before the command runs, `jobs/ID/.alert-intent` is written and fsynced; after it,
//! `jobs/ID/alert.json` records the outcome. On a repeat: `alert.json` present → nothing
//! to do; only the intent present → the command may have run before a crash, so it is not
//! run again and `alert.json` says `unknown: interrupted by a crash`. An alert that fails
//! never fails the job.

use super::command;
use super::error::ActionError;
use crate::fsutil;
use baseliner_core::config::AlertsConfig;
use baseliner_core::time::Timestamp;
use serde_json::{json, Value};
use std::path::Path;

/// The intent file, written before the command runs.
pub const INTENT_FILE: &str = ".alert-intent";
/// The outcome file.
pub const RESULT_FILE: &str = "alert.json";

/// What [`alert_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alerted {
    /// `alert.json` already existed: nothing done.
    AlreadyDone,
    /// An intent without outcome was found: recorded as unknown, not run again.
    Interrupted,
    /// The alert was handled now (command run, or recorded as not configured).
    Now(String),
}

/// Sends the alert for job `job_id` whose summary is `summary`, unless it was already
/// sent or attempted. `reason` says which findings triggered it.
pub fn alert_once(
    job_dir: &Path,
    job_id: &str,
    summary: &Path,
    reason: &str,
    cfg: &AlertsConfig,
) -> Result<Alerted, ActionError> {
    let result = job_dir.join(RESULT_FILE);
    let intent = job_dir.join(INTENT_FILE);
    if result.exists() {
        return Ok(Alerted::AlreadyDone);
    }
    // The webhook itself is sent by the executor (see `webhook.rs`); its outcome is
    // merged in by [`alert_summary`].
    let webhook = cfg.webhook.as_ref().map(|_| "pending");
    if intent.exists() {
        let v = json!({
            "status": "unknown: interrupted by a crash",
            "reason": reason,
            "exit_code": null,
            "stderr_tail": "",
            "webhook": webhook,
            "at": Timestamp::now().to_rfc3339(),
        });
        write_json(&result, &v)?;
        note_failure(job_id, &status_of(&v), "");
        return Ok(Alerted::Interrupted);
    }
    let Some(argv) = &cfg.command else {
        let v = json!({
            "status": "not sent: no [alerts].command configured",
            "reason": reason,
            "exit_code": null,
            "stderr_tail": "",
            "webhook": webhook,
            "at": Timestamp::now().to_rfc3339(),
        });
        write_json(&result, &v)?;
        return Ok(Alerted::Now(status_of(&v)));
    };
    let started = Timestamp::now().to_rfc3339();
    write_json(&intent, &json!({ "command": argv, "started_at": started }))?;
    crate::crashpoint::hit("alert-after-intent");
    let summary_arg = summary.to_string_lossy();
    let dir_arg = job_dir.to_string_lossy();
    let env = command::job_env(job_id, &dir_arg, &summary_arg, reason);
    let out = command::run(argv, &[job_id, &summary_arg], &env, cfg.command_timeout);
    crate::crashpoint::hit("alert-after-command");
    let v = json!({
        "status": out.status,
        "reason": reason,
        "command": argv,
        "exit_code": out.exit_code,
        "stderr_tail": out.stderr_tail,
        "webhook": webhook,
        "started_at": started,
        "at": Timestamp::now().to_rfc3339(),
    });
    write_json(&result, &v)?;
    if out.status != "ok" {
        note_failure(job_id, &out.status, &out.stderr_tail);
    }
    Ok(Alerted::Now(status_of(&v)))
}

/// `alert.json` of the job in `job_dir`, for the status display; `None` when there is
/// none or it does not parse.
pub fn alert_summary(job_dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(job_dir.join(RESULT_FILE)).ok()?;
    let mut v: Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(w) = super::webhook::webhook_summary(job_dir) {
        v["webhook"] = w;
    }
    Some(v)
}

/// A failed (or possibly not run) alert command: a warning in the journal with the job's
/// id, and a count in the metrics.
fn note_failure(job_id: &str, status: &str, stderr_tail: &str) {
    crate::metrics::count_alert_failure(crate::metrics::Effect::Command);
    let tail = stderr_tail.trim().escape_debug().to_string();
    tracing::warn!(job_id, "alert command {status}; stderr: {tail}");
}

fn status_of(v: &Value) -> String {
    v.get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Writes `v` durably (temporary file, fsync, rename, fsync of the directory).
fn write_json(path: &Path, v: &Value) -> Result<(), ActionError> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|e| ActionError::io(path, e.into()))?;
    bytes.push(b'\n');
    fsutil::write_atomic(path, &bytes).map_err(|e| ActionError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg(command: Option<Vec<String>>) -> AlertsConfig {
        AlertsConfig {
            min_severity: 4,
            command,
            webhook: None,
            webhook_format: Default::default(),
            command_timeout: Duration::from_secs(10),
        }
    }

    /// A command that appends its arguments to `log`.
    fn logger(log: &Path) -> Vec<String> {
        vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo \"$@\" >> \"$LOG_FILE\"".replace("$LOG_FILE", &log.to_string_lossy()),
            "sh".into(),
        ]
    }

    #[test]
    fn runs_once_with_id_and_summary_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        let summary = dir.path().join("summary.md");
        let c = cfg(Some(logger(&log)));
        let first = alert_once(dir.path(), "JOB1", &summary, "1 finding", &c).expect("alerts");
        assert_eq!(first, Alerted::Now("ok".into()));
        let second = alert_once(dir.path(), "JOB1", &summary, "1 finding", &c).expect("repeat");
        assert_eq!(second, Alerted::AlreadyDone);
        let logged = std::fs::read_to_string(&log).expect("command ran");
        assert_eq!(logged, format!("JOB1 {}\n", summary.display()));
        let v = alert_summary(dir.path()).expect("alert.json");
        assert_eq!(v["status"], "ok");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(v["reason"], "1 finding");
    }

    #[test]
    fn intent_without_outcome_is_not_run_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        std::fs::write(dir.path().join(INTENT_FILE), "{}").expect("intent");
        let c = cfg(Some(logger(&log)));
        let r = alert_once(dir.path(), "JOB2", &dir.path().join("s.md"), "x", &c).expect("ok");
        assert_eq!(r, Alerted::Interrupted);
        assert!(!log.exists(), "the command ran again");
        let v = alert_summary(dir.path()).expect("alert.json");
        assert_eq!(v["status"], "unknown: interrupted by a crash");
    }

    #[test]
    fn failing_command_is_recorded_not_raised() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = cfg(Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo boom >&2; exit 7".into(),
        ]));
        let r = alert_once(dir.path(), "J", &dir.path().join("s.md"), "x", &c).expect("ok");
        assert_eq!(r, Alerted::Now("failed".into()));
        let v = alert_summary(dir.path()).expect("alert.json");
        assert_eq!(v["exit_code"], 7);
        assert_eq!(v["stderr_tail"], "boom\n");
        assert!(alert_summary(&dir.path().join("missing")).is_none());
    }
}
