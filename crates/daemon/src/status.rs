//! `status.json` (SPEC.md "The spool"): the per-job status document, built from a store
//! record, written atomically at every transition, and read back by `baseliner status`
//! without ever opening the store. The run loop publishes a job's file after every commit
//! ([`publish`]) and, once after start, rewrites every file that lags behind the store
//! ([`repair`]).

use crate::fsutil;
use crate::spool::Spool;
use baseliner_core::state::{HistoryEntry, JobState, StepName};
use baseliner_core::store::{JobId, JobRecord, Store};
use baseliner_core::time::Timestamp;
use baseliner_core::witness::Published;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// One job's status file. Field names are part of the user-facing contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job id.
    pub id: String,
    /// The organization.
    pub organization: String,
    /// The public step name (`accepted` … `canceled`).
    pub state: StepName,
    /// The scan reference, once launched.
    pub scan_ref: Option<String>,
    /// The scan's last state as Qualys reported it.
    pub scan_state: Option<String>,
    /// The report id, once launched.
    pub report_id: Option<u64>,
    /// Why the job failed (null unless `failed`).
    pub error: Option<String>,
    /// The last transient problem (a retry is pending), null when all is well.
    pub last_error: Option<String>,
    /// When this file was written.
    pub updated_at: String,
    /// When the job was accepted.
    pub accepted_at: String,
    /// When the next action is due (null for finished jobs).
    pub next_action_at: Option<String>,
    /// The IPs, as sent to Qualys.
    pub ips: String,
    /// The spool file the job came from.
    pub source: String,
    /// Each state entered, with its time.
    pub history: Vec<HistoryItem>,
    /// Output files written so far, relative to the job directory.
    pub outputs: Vec<String>,
    /// The alert's outcome (`alert.json`), once one was due: status, exit code, stderr tail.
    #[serde(default)]
    pub alert: Option<serde_json::Value>,
    /// True while the cancel of the job's Qualys scan or report is still being sent: `state`
    /// already says `canceled`, the user's wish, and this says Qualys has not confirmed yet.
    #[serde(default)]
    pub canceling: bool,
    /// True while the job is held (`baseliner hold`): it takes no new action until
    /// `baseliner release`. Never true for a finished job.
    #[serde(default)]
    pub held: bool,
    /// The job this one is a retry of (`baseliner retry`), if it is one.
    #[serde(default)]
    pub retry_of: Option<String>,
    /// The job that retries this one, once it was retried.
    #[serde(default)]
    pub retried_as: Option<String>,
    /// The store's generation of the commit this file shows (0 in files written before
    /// generations existed). A store record older than this is a lost-store alarm.
    #[serde(default)]
    pub generation: u64,
    /// The store's record as of that commit, encoded (`baseliner_core::witness`): what the
    /// daemon carries on from if the store loses the job. Internal; not shown by `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// One `history` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// The public step name.
    pub state: StepName,
    /// When it was entered.
    pub at: String,
}

impl JobStatus {
    /// The status of `rec` as of `now`; `outputs` lists the files present in its directory
    /// and `alert` is the alert's outcome, if any.
    pub fn from_record(
        rec: &JobRecord,
        now: Timestamp,
        outputs: Vec<String>,
        alert: Option<serde_json::Value>,
    ) -> JobStatus {
        let cp = &rec.checkpoint;
        let state = &cp.state;
        // Kept on a failure and a cancel too (the core keeps the last state it knew).
        let scan_state = state.last_scan_status().map(|s| scan_state_text(&s));
        let error = match state {
            JobState::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        JobStatus {
            id: rec.id.as_str().to_string(),
            organization: rec.job.organization.clone(),
            state: state.step_name(),
            scan_ref: state.scan_ref().map(str::to_string),
            scan_state,
            report_id: state.report_id(),
            error,
            last_error: cp.last_error.clone(),
            updated_at: now.to_rfc3339(),
            accepted_at: rec.accepted_at.to_rfc3339(),
            next_action_at: (!state.is_terminal()).then(|| cp.due.to_rfc3339()),
            ips: rec.job.ips.to_qualys(),
            source: rec.source_name.clone(),
            history: cp
                .history
                .iter()
                .map(|h| HistoryItem {
                    state: h.step,
                    at: h.at.to_rfc3339(),
                })
                .collect(),
            outputs,
            alert,
            canceling: matches!(state, JobState::Canceling { .. }),
            held: rec.held && !state.is_terminal(),
            retry_of: rec.retry_of().map(String::from),
            retried_as: rec.retried_as.as_ref().map(|id| id.to_string()),
            generation: rec.generation,
            record: baseliner_core::witness::encode_record(rec).ok(),
        }
    }

    /// What this file witnesses of its job ([`baseliner_core::witness`]); `None` when its
    /// id or acceptance time does not read.
    pub fn published(&self) -> Option<Published> {
        let history = self
            .history
            .iter()
            .filter_map(|h| {
                Some(HistoryEntry {
                    step: h.state,
                    at: Timestamp::parse_rfc3339(&h.at)?,
                })
            })
            .collect();
        Some(Published {
            id: JobId::parse(&self.id)?,
            generation: self.generation,
            record: self
                .record
                .as_deref()
                .and_then(baseliner_core::witness::decode_record),
            step: self.state,
            canceling: self.canceling,
            scan_ref: self.scan_ref.clone(),
            report_id: self.report_id,
            error: self.error.clone(),
            accepted_at: Timestamp::parse_rfc3339(&self.accepted_at)?,
            source: self.source.clone(),
            history,
        })
    }

    /// True when the job will take no new step (a `canceled` job may still be confirming
    /// its cancel with Qualys: see [`JobStatus::canceling`]).
    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    /// What went wrong with the job's alert, if anything: the command or the webhook
    /// failed, timed out, could not start, or may not have run (a crash). `None` when no
    /// alert was due, it worked, no command is configured, or the webhook is still pending.
    pub fn alert_problem(&self) -> Option<String> {
        let a = self.alert.as_ref()?;
        let mut problems = Vec::new();
        let command = a.get("status").and_then(|v| v.as_str()).unwrap_or("");
        if !command.is_empty() && command != "ok" && !command.starts_with("not sent") {
            problems.push(format!("command {command}"));
        }
        if let Some(w) = a
            .get("webhook")
            .and_then(|w| w.get("status"))
            .and_then(|v| v.as_str())
        {
            if w != "ok" {
                problems.push(format!("webhook {w}"));
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }

    /// The state as the CLI shows it: `canceling` while a cancel is still being sent,
    /// `held` while the job is held.
    pub fn shown_state(&self) -> &str {
        if self.canceling {
            "canceling"
        } else if self.held {
            "held"
        } else {
            self.state.as_str()
        }
    }
}

fn scan_state_text(s: &baseliner_core::state::ScanStatus) -> String {
    let mut t = s.state.as_str().to_string();
    if let Some(sub) = &s.sub_state {
        t.push('/');
        t.push_str(sub);
    }
    if s.state == baseliner_core::state::ScanState::Finished && !s.processed {
        t.push_str(" (processing)");
    }
    t
}

/// Writes `status` to `jobs/ID/status.json` atomically.
pub fn write(spool: &Spool, status: &JobStatus) -> io::Result<()> {
    let dir = spool.job_dir(&status.id);
    fsutil::ensure_dir(&dir)?;
    fsutil::write_json(&dir.join("status.json"), status)
}

/// The status document of `rec` as of `now`, with the job's outputs and alert as they are
/// on disk.
fn current(spool: &Spool, rec: &JobRecord, now: Timestamp) -> JobStatus {
    let id = rec.id.as_str();
    let outputs = crate::outputs::list(spool, id);
    let alert = crate::actions::alert_summary(&spool.job_dir(id));
    JobStatus::from_record(rec, now, outputs, alert)
}

/// Rewrites `jobs/ID/status.json` from the record (and the outputs on disk). False when
/// it could not be written (logged; the next commit or start rewrites it): the file is the
/// witness of the job's intents, so a request behind an intent is not sent then.
pub fn publish(spool: &Spool, rec: &JobRecord, now: Timestamp) -> bool {
    match write(spool, &current(spool, rec, now)) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(job_id = rec.id.as_str(), "status.json not written: {e}");
            false
        }
    }
}

/// True when `jobs/ID/status.json` says what the record says (its write time aside).
pub fn matches(spool: &Spool, rec: &JobRecord) -> bool {
    match read(&spool.status_file(rec.id.as_str())) {
        Ok(on_disk) => {
            let mut current = current(spool, rec, Timestamp(0));
            current.updated_at = on_disk.updated_at.clone();
            current == on_disk
        }
        Err(_) => false,
    }
}

/// A crash between a commit and its status file leaves the file one step behind (for a
/// finished job, for good): every file that disagrees with the store is rewritten. Runs
/// after [`crate::recovery::reconcile`], which has already brought the store up to every
/// file that was ahead of it; a file still ahead of its record here (which cannot happen
/// short of a store losing data while the daemon runs) is never rewritten backwards: it is
/// reported as a lost-store alarm and left for the next start's reconcile. It may touch every job directory: it stops early once `stop()` says so
/// (the next start finishes it). Returns how many files were rewritten.
pub fn repair(spool: &Spool, store: &Store, stop: impl Fn() -> bool) -> usize {
    let records = match store.scan().map(|scan| scan.records) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("status files not checked: {e}");
            return 0;
        }
    };
    let now = Timestamp::now();
    let mut repaired = 0usize;
    // A job being removed ([`crate::removal`]) is never written back.
    let removing = |id: &JobId| {
        spool
            .jobs()
            .join(format!("{}{id}", crate::removal::REMOVING_PREFIX))
            .exists()
    };
    for rec in records
        .iter()
        .filter(|r| !removing(&r.id) && !matches(spool, r))
    {
        if stop() {
            break;
        }
        if let Some(ahead) = read(&spool.status_file(rec.id.as_str()))
            .ok()
            .and_then(|st| st.published())
            .filter(|p| p.generation > rec.generation)
        {
            tracing::error!(
                job_id = rec.id.as_str(),
                "lost-store alarm: the store's record (generation {}) is older than its status.json (generation {}); the file is kept",
                rec.generation,
                ahead.generation
            );
            continue;
        }
        publish(spool, rec, now);
        repaired += 1;
    }
    if repaired > 0 {
        tracing::info!("rewrote {repaired} status file(s) that lagged behind the store");
    }
    repaired
}

/// Reads one status file.
pub fn read(path: &Path) -> io::Result<JobStatus> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// Reads every job's status file, in id order (ids sort by acceptance). Unreadable files
/// are reported in the second list rather than failing the whole listing.
pub fn read_all(spool: &Spool) -> io::Result<(Vec<JobStatus>, Vec<String>)> {
    let mut ids = Vec::new();
    match std::fs::read_dir(spool.jobs()) {
        Ok(rd) => {
            for e in rd {
                let e = e?;
                if let Some(name) = e.file_name().to_str() {
                    if !name.starts_with('.') {
                        ids.push(name.to_string());
                    }
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    ids.sort();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for id in ids {
        let p = spool.status_file(&id);
        match read(&p) {
            Ok(s) => out.push(s),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("{}: {e}", p.display())),
        }
    }
    Ok((out, problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::record;

    #[test]
    fn a_cancel_still_being_sent_shows_as_canceling() {
        let mut rec = record("20261128-010000-000001", "Org", &["64.39.106.1"]);
        rec.checkpoint.state = JobState::Canceling {
            scan_ref: Some("scan/1.2".to_owned()),
            report_id: None,
            fail_reason: None,
            last_scan: None,
        };
        let st = JobStatus::from_record(&rec, Timestamp(0), Vec::new(), None);
        assert_eq!(st.state.as_str(), "canceled", "SPEC's vocabulary");
        assert!(st.canceling && st.is_terminal());
        assert_eq!(st.shown_state(), "canceling");
        assert_eq!(st.scan_ref.as_deref(), Some("scan/1.2"));

        rec.checkpoint.state = JobState::Canceled {
            scan_ref: Some("scan/1.2".to_owned()),
            last_scan: None,
        };
        let st = JobStatus::from_record(&rec, Timestamp(0), Vec::new(), None);
        assert!(!st.canceling);
        assert_eq!(st.shown_state(), "canceled");

        // Files written before the field existed read as not canceling.
        let mut json = serde_json::to_value(&st).expect("to json");
        json.as_object_mut().expect("object").remove("canceling");
        let old: JobStatus = serde_json::from_value(json).expect("old file reads");
        assert!(!old.canceling);
    }

    #[test]
    fn failed_alerts_are_problems_and_quiet_ones_are_not() {
        let rec = record("20261128-010000-000001", "Org", &["64.39.106.1"]);
        let with = |alert: serde_json::Value| {
            JobStatus::from_record(&rec, Timestamp(0), Vec::new(), Some(alert)).alert_problem()
        };
        use serde_json::json;
        assert_eq!(with(json!({"status": "ok", "webhook": null})), None);
        assert_eq!(
            with(
                json!({"status": "not sent: no [alerts].command configured", "webhook": "pending"})
            ),
            None
        );
        assert_eq!(
            with(json!({"status": "not started: /x: No such file", "webhook": {"status": "ok"}}))
                .as_deref(),
            Some("command not started: /x: No such file")
        );
        assert_eq!(
            with(json!({"status": "ok", "webhook": {"status": "failed: HTTP 500"}})).as_deref(),
            Some("webhook failed: HTTP 500")
        );
        assert_eq!(
            with(json!({"status": "timed out", "webhook": {"status": "unknown: interrupted by a crash"}})).as_deref(),
            Some("command timed out; webhook unknown: interrupted by a crash")
        );
        let none = JobStatus::from_record(&rec, Timestamp(0), Vec::new(), None);
        assert_eq!(none.alert_problem(), None);
    }
}
