//! What `baseliner status` knows, as one document (`status --json`): the daemon (whether it
//! runs, its pid, its pause and why, a refused reload, the open rate-limit waits), the files
//! queued in `incoming/`, those staged in `.staging/`, those refused in `rejected/` with
//! their reasons, and every job's status file with what it waits for. The table is printed
//! from the same facts (`status.rs`). Reads files only; decides nothing but the words.

use crate::daemon_status::{Liveness, Observed, PauseDoc, RateLimitDoc, StagedDoc};
use crate::spool::Spool;
use crate::status::JobStatus;
use baseliner_core::state::StepName;
use baseliner_core::time::Timestamp;
use serde::Serialize;
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The most of a `rejected/NAME.error` file that is read.
const REASON_MAX: u64 = 4096;

/// `status --json`.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    /// The daemon.
    pub daemon: DaemonView,
    /// Files in `incoming/` not taken yet, oldest first.
    pub queued: Vec<StagedDoc>,
    /// Files the daemon took into `.staging/` but could not record yet.
    pub staged: Vec<StagedDoc>,
    /// Files refused, with why.
    pub rejected: Vec<RejectedDoc>,
    /// Every job's status file, with what it waits for.
    pub jobs: Vec<JobView>,
}

/// The daemon as `status` reports it.
#[derive(Debug, Serialize)]
pub struct DaemonView {
    /// `running`, `stopped` (cleanly), `gone` (killed or crashed), `never_started`.
    pub liveness: &'static str,
    /// The running daemon's pid (null unless running).
    pub pid: Option<u32>,
    /// The pause in force: until when, why (null when none).
    pub paused: Option<PauseDoc>,
    /// The last SIGHUP's refused config (null when the last reload was good).
    pub reload: Option<ReloadDoc>,
    /// The open rate-limit waits and the jobs each holds back.
    pub rate_limits: Vec<RateLimitDoc>,
}

/// A refused reload.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadDoc {
    /// When (RFC 3339).
    pub refused_at: String,
    /// Why.
    pub reason: String,
}

/// A refused file in `rejected/`.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedDoc {
    /// Its name there (lossy UTF-8).
    pub name: String,
    /// The first line of `NAME.error` (null when there is none).
    pub reason: Option<String>,
    /// When it was refused (its last change, RFC 3339).
    pub modified: Option<String>,
}

/// One job: its status file and what it waits for.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The status file (without the internal record).
    #[serde(flatten)]
    pub status: JobStatus,
    /// Why its next action is not happening now (null: finished, or being done now).
    pub waiting: Option<Waiting>,
}

/// What a job waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// `daemon_not_running`, `pause`, `rate_limit` or `next_action`.
    #[serde(rename = "for")]
    pub kind: &'static str,
    /// Until when (RFC 3339), when known.
    pub until: Option<String>,
    /// The API whose rate limit holds it back (`rate_limit` only).
    pub api: Option<String>,
    /// Why, in words.
    pub reason: String,
}

/// The daemon's part of the document, from what the CLI observed.
pub fn daemon_view(o: &Observed, now: Timestamp) -> DaemonView {
    let liveness = match o.live {
        Some(Liveness::Running) => "running",
        Some(Liveness::Stopped) => "stopped",
        Some(Liveness::Gone) => "gone",
        None => "never_started",
    };
    // Only the running daemon's own file says anything about now.
    let doc = o
        .doc
        .as_ref()
        .filter(|d| o.running() && o.pid.is_none_or(|p| p == d.pid));
    let open = |until: &str| Timestamp::parse_rfc3339(until).is_none_or(|u| u > now);
    DaemonView {
        liveness,
        pid: o.pid,
        paused: doc
            .and_then(|d| d.paused.clone())
            .filter(|p| open(&p.until)),
        reload: doc
            .and_then(|d| d.reload_refused.as_ref())
            .map(|r| ReloadDoc {
                refused_at: r.at.clone(),
                reason: r.reason.clone(),
            }),
        rate_limits: doc
            .map(|d| {
                d.rate_limits
                    .iter()
                    .filter(|r| open(&r.until))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What job `st` waits for, given the daemon's state: nothing when it is finished or its
/// next action is being done; else the daemon that does not run, the pause (when it ends
/// before the job is due), the rate limit whose wait lists it, or its next action's time.
pub fn waiting(st: &JobStatus, d: &DaemonView, now: Timestamp) -> Option<Waiting> {
    if st.is_terminal() {
        return None;
    }
    if d.liveness != "running" {
        return Some(Waiting {
            kind: "daemon_not_running",
            until: None,
            api: None,
            reason: "the daemon is not running".into(),
        });
    }
    let due = st
        .next_action_at
        .as_deref()
        .and_then(Timestamp::parse_rfc3339);
    if let Some(p) = &d.paused {
        let ends = Timestamp::parse_rfc3339(&p.until);
        if due.is_none_or(|t| ends.is_none_or(|e| t < e)) {
            return Some(Waiting {
                kind: "pause",
                until: Some(p.until.clone()),
                api: None,
                reason: p.reason.clone(),
            });
        }
    }
    if let Some(r) = d.rate_limits.iter().find(|r| r.jobs.contains(&st.id)) {
        return Some(Waiting {
            kind: "rate_limit",
            until: Some(r.until.clone()),
            api: Some(r.api.clone()),
            reason: r.why.clone(),
        });
    }
    match due {
        Some(t) if t > now => Some(Waiting {
            kind: "next_action",
            until: st.next_action_at.clone(),
            api: None,
            reason: match (&st.last_error, st.state) {
                (Some(e), _) => format!("a retry after: {e}"),
                (None, StepName::ScanRunning | StepName::ReportRunning) => "the next poll".into(),
                (None, _) => "the next step".into(),
            },
        }),
        _ => None,
    }
}

/// The files in `dir` (dot-files are being written and are not listed), oldest first,
/// each with its name (lossy UTF-8), its raw name and when it was last written.
fn files(dir: &Path) -> io::Result<Vec<(String, OsString, Option<Timestamp>)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
    };
    let mut out: Vec<_> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let raw = e.file_name();
            let name = raw.to_string_lossy().into_owned();
            let modified = e
                .metadata()
                .ok()
                .map(|m| Timestamp(m.mtime() * 1000 + m.mtime_nsec() / 1_000_000));
            (!name.starts_with('.')).then_some((name, raw, modified))
        })
        .collect();
    out.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    Ok(out)
}

/// The files waiting in `incoming/`, oldest first.
pub fn incoming(spool: &Spool) -> io::Result<Vec<StagedDoc>> {
    Ok(files(&spool.incoming())?
        .into_iter()
        .map(|(name, _, modified)| StagedDoc {
            name,
            modified: modified.map(Timestamp::to_rfc3339),
        })
        .collect())
}

/// The refused files in `rejected/`, oldest first, each with the first line of its
/// `NAME.error` (at most [`REASON_MAX`] bytes are read of it).
pub fn rejected(spool: &Spool) -> io::Result<Vec<RejectedDoc>> {
    let dir = spool.rejected();
    Ok(files(&dir)?
        .into_iter()
        .filter(|(name, _, _)| !name.ends_with(".error"))
        .map(|(name, raw, modified)| {
            let mut reason_file = raw;
            reason_file.push(".error");
            RejectedDoc {
                reason: first_line(&dir.join(reason_file)),
                name,
                modified: modified.map(Timestamp::to_rfc3339),
            }
        })
        .collect())
}

/// The first line of the file at `path` (bounded), `None` when it cannot be read.
fn first_line(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(REASON_MAX)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(text.lines().next().unwrap_or("").trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: &str, next: Option<&str>) -> JobStatus {
        serde_json::from_value(serde_json::json!({
            "id": "20261201-000000-000001", "organization": "O", "state": state,
            "scan_ref": null, "scan_state": null, "report_id": null, "error": null,
            "last_error": null, "updated_at": "x", "accepted_at": "2026-12-01T00:00:00Z",
            "next_action_at": next, "ips": "1.2.3.4", "source": "s.toml",
            "history": [], "outputs": []
        }))
        .expect("status")
    }

    fn running() -> DaemonView {
        DaemonView {
            liveness: "running",
            pid: Some(7),
            paused: None,
            reload: None,
            rate_limits: Vec::new(),
        }
    }

    #[test]
    fn a_job_waits_for_the_pause_the_rate_limit_or_its_time_in_that_order() {
        let now = Timestamp::parse_rfc3339("2026-12-01T08:00:00Z").expect("t");
        let due = job("scan_running", Some("2026-12-01T07:59:00Z"));
        assert_eq!(waiting(&due, &running(), now), None, "being done now");
        assert_eq!(waiting(&job("done", None), &running(), now), None);
        let later = job("scan_running", Some("2026-12-01T08:05:00Z"));
        let w = waiting(&later, &running(), now).expect("waits");
        assert_eq!(
            (w.kind, w.reason.as_str()),
            ("next_action", "the next poll")
        );
        assert_eq!(w.until.as_deref(), Some("2026-12-01T08:05:00Z"));

        let mut limited = running();
        limited.rate_limits.push(RateLimitDoc {
            api: "/api/3.0/fo/scan/?action=list".into(),
            until: "2026-12-01T20:00:00Z".into(),
            why: "X-RateLimit-Remaining 0".into(),
            jobs: vec!["20261201-000000-000001".into()],
        });
        let w = waiting(&due, &limited, now).expect("held back");
        assert_eq!(w.kind, "rate_limit");
        assert_eq!(w.api.as_deref(), Some("/api/3.0/fo/scan/?action=list"));
        assert_eq!(w.until.as_deref(), Some("2026-12-01T20:00:00Z"));
        limited.rate_limits[0].jobs.clear();
        assert_eq!(waiting(&due, &limited, now), None, "only the jobs it lists");

        let mut paused = running();
        paused.paused = Some(PauseDoc {
            until: "2026-12-01T08:03:00Z".into(),
            reason: "account problem: CODE 2000".into(),
        });
        assert_eq!(waiting(&due, &paused, now).expect("w").kind, "pause");
        assert_eq!(
            waiting(&later, &paused, now).expect("w").kind,
            "next_action",
            "due after the pause ends"
        );
        let mut stopped = running();
        stopped.liveness = "stopped";
        assert_eq!(
            waiting(&due, &stopped, now).expect("w").kind,
            "daemon_not_running"
        );
    }

    #[test]
    fn rejected_files_come_with_their_bounded_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path());
        std::fs::create_dir_all(spool.rejected()).expect("dir");
        let r = spool.rejected();
        std::fs::write(r.join("a.toml"), "x").expect("w");
        std::fs::write(r.join("a.toml.error"), "outside the scope\nsecond\n").expect("w");
        std::fs::write(r.join("b.toml"), "x").expect("w");
        std::fs::write(r.join(".c.tmp"), "x").expect("w");
        std::fs::write(r.join("d.toml"), "x").expect("w");
        std::fs::write(r.join("d.toml.error"), "y".repeat(10_000)).expect("w");
        let mut got = rejected(&spool).expect("read");
        got.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<_> = got.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a.toml", "b.toml", "d.toml"]);
        assert_eq!(got[0].reason.as_deref(), Some("outside the scope"));
        assert_eq!(got[1].reason, None);
        assert_eq!(got[2].reason.as_ref().map(String::len), Some(4096));
        assert!(rejected(&Spool::new(dir.path().join("none")))
            .expect("absent")
            .is_empty());
    }
}
