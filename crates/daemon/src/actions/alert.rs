//! The alert, at most once per job across crashes.
//!
//! The rule is [`super::once`]'s: `jobs/ID/.alert-intent` is written and fsynced before
//! the command runs, `jobs/ID/alert.json` (an [`AlertRecord`]) after it. On a repeat:
//! `alert.json` present → nothing to do; only the intent present → the command may have run
//! before a crash, so it is not run again and `alert.json` says `unknown: interrupted by a
//! crash`. An alert that fails never fails the job.

use super::command;
use super::error::ActionError;
use super::once::{Before, Once};
use baseliner_core::config::AlertsConfig;
use baseliner_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// `alert.json`: the alert's outcome. Fields are declared in alphabetical order, the
/// order the file has always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// When the outcome was recorded (RFC 3339).
    pub at: String,
    /// The command run, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Which findings triggered the alert.
    pub reason: String,
    /// When the command started, when one was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// `ok`, `failed`, `timed out …`, `not sent: …`, `unknown: interrupted by a crash`.
    pub status: String,
    /// The end of the command's standard error.
    pub stderr_tail: String,
    /// `pending` while a webhook is configured (its outcome is `webhook.json`), else null.
    pub webhook: Option<String>,
}

/// `.alert-intent`: the command about to run.
#[derive(Debug, Serialize)]
struct AlertIntent<'a> {
    command: &'a [String],
    started_at: &'a str,
}

/// Sends the alert for job `job_id` whose summary is `summary`, unless it was already
/// sent or attempted ([`super::once`]). `reason` says which findings triggered it.
pub fn alert_once(
    job_dir: &Path,
    job_id: &str,
    summary: &Path,
    reason: &str,
    cfg: &AlertsConfig,
) -> Result<Alerted, ActionError> {
    let once = Once::new(job_dir, INTENT_FILE, RESULT_FILE);
    let settle = |r: &AlertRecord| {
        once.settle(r)
            .map_err(|e| ActionError::io(once.result_path(), e))
    };
    // The webhook itself is sent by the executor (see `webhook.rs`); its outcome is
    // merged in by [`alert_summary`].
    let webhook = cfg.webhook.as_ref().map(|_| "pending".to_string());
    let record = |status: &str| AlertRecord {
        at: Timestamp::now().to_rfc3339(),
        command: None,
        exit_code: None,
        reason: reason.to_string(),
        started_at: None,
        status: status.to_string(),
        stderr_tail: String::new(),
        webhook: webhook.clone(),
    };
    match once.before() {
        Before::Settled => return Ok(Alerted::AlreadyDone),
        Before::Interrupted => {
            let r = record("unknown: interrupted by a crash");
            settle(&r)?;
            note_failure(job_id, &r.status, "");
            return Ok(Alerted::Interrupted);
        }
        Before::Untried => {}
    }
    let Some(argv) = &cfg.command else {
        let r = record("not sent: no [alerts].command configured");
        settle(&r)?;
        return Ok(Alerted::Now(r.status));
    };
    let started = Timestamp::now().to_rfc3339();
    let intent = AlertIntent {
        command: argv,
        started_at: &started,
    };
    once.intend(&intent)
        .map_err(|e| ActionError::io(once.intent_path(), e))?;
    crate::crashpoint::hit("alert-after-intent");
    let summary_arg = summary.to_string_lossy();
    let dir_arg = job_dir.to_string_lossy();
    let env = command::job_env(job_id, &dir_arg, &summary_arg, reason);
    let out = command::run(argv, &[job_id, &summary_arg], &env, cfg.command_timeout);
    crate::crashpoint::hit("alert-after-command");
    let r = AlertRecord {
        command: Some(argv.clone()),
        exit_code: out.exit_code,
        started_at: Some(started),
        stderr_tail: out.stderr_tail.clone(),
        ..record(&out.status)
    };
    settle(&r)?;
    if out.status != "ok" {
        note_failure(job_id, &out.status, &out.stderr_tail);
    }
    Ok(Alerted::Now(r.status))
}

/// `alert.json` of the job in `job_dir`, with the webhook's outcome merged in, for the
/// status display; `None` when there is none or it does not parse.
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
