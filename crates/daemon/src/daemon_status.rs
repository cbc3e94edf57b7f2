//! `SPOOL/daemon.json`: the daemon's own state for `baseliner status` — its pid and the
//! start time of that process (so that a reader can tell the daemon from another process
//! that reuses its pid), whether it is running or stopped cleanly, its summary line, why it
//! is paused, the last SIGHUP's refused config (until a good reload), the files left in
//! its private `.staging/` (which the submit group cannot list), and the open rate-limit
//! waits with the jobs each holds back. Written by the run loop
//! when one of those changes and at a clean stop; read by the CLI, which never opens the
//! store. Whether a daemon runs is decided by the spool's lock ([`observe`]), so a second
//! daemon's last words cannot make a running one look stopped.

use crate::fsutil;
use crate::lock::Probe;
use crate::spool::Spool;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// The content of `daemon.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// The daemon's process id.
    pub pid: u32,
    /// That process's start time (`/proc/PID/stat` field 22, clock ticks since boot), to
    /// recognize it; null where `/proc` could not be read.
    #[serde(default)]
    pub started: Option<u64>,
    /// False once the daemon stopped cleanly.
    #[serde(default = "yes")]
    pub running: bool,
    /// The one-line summary (also sent to systemd as `STATUS=`).
    pub summary: String,
    /// Unfinished jobs.
    pub unfinished: usize,
    /// Set while every job is paused.
    pub paused: Option<PauseDoc>,
    /// Set after a SIGHUP whose config was refused, until a reload succeeds.
    #[serde(default)]
    pub reload_refused: Option<RefusalDoc>,
    /// Files in `.staging/` whose intake is postponed, oldest first.
    #[serde(default)]
    pub staged: Vec<StagedDoc>,
    /// The rate-limit waits open when this file was written, with the jobs each holds back.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitDoc>,
    /// When this file was written.
    pub updated_at: String,
}

fn yes() -> bool {
    true
}

/// A daemon-wide pause as written in `daemon.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PauseDoc {
    /// Until when nothing is sent (RFC 3339).
    pub until: String,
    /// Why (`account problem: …`).
    pub reason: String,
}

/// A refused reload as written in `daemon.json`: the daemon runs on the config it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusalDoc {
    /// When the SIGHUP was refused (RFC 3339).
    pub at: String,
    /// Why: the check that failed, naming the file or the key.
    pub reason: String,
}

/// A file intake moved into `.staging/` and could not finish taking (it is taken at a
/// later pass).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedDoc {
    /// The file's name (as dropped; lossy UTF-8).
    pub name: String,
    /// When it was last written (RFC 3339), when known.
    pub modified: Option<String>,
}

/// An API's open rate-limit wait as written in `daemon.json`: no call of `api` is sent
/// before `until`; `jobs` are waiting for it (their next action is due, held back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitDoc {
    /// The API (`<path>?action=<action>`), the unit Qualys counts.
    pub api: String,
    /// Until when (RFC 3339).
    pub until: String,
    /// Why: the header or the 409 that opened it.
    pub why: String,
    /// The jobs waiting for a call of this API, by id.
    #[serde(default)]
    pub jobs: Vec<String>,
}

/// What the run loop publishes besides the liveness fields.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The summary line.
    pub line: &'a str,
    /// Unfinished jobs.
    pub unfinished: usize,
    /// The daemon-wide pause: until when, why.
    pub pause: Option<(Timestamp, &'a str)>,
    /// The refused reload: when, why.
    pub reload_refused: Option<(Timestamp, &'a str)>,
    /// The staged files.
    pub staged: &'a [StagedDoc],
    /// The open rate-limit waits.
    pub rate_limits: &'a [RateLimitDoc],
}

/// Whether the daemon that wrote `daemon.json` is running, as the CLI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// A daemon holds the spool's lock (without a lock file: the recorded process is
    /// alive and is the one that wrote the file).
    Running,
    /// None runs, and the last one stopped cleanly (the file says so).
    Stopped,
    /// None runs, but the file says running: the daemon was killed or crashed.
    Gone,
}

impl DaemonStatus {
    /// The state of the current process.
    pub fn now(summary: String, unfinished: usize, paused: Option<PauseDoc>) -> DaemonStatus {
        let pid = std::process::id();
        DaemonStatus {
            pid,
            started: process_start(pid),
            running: true,
            summary,
            unfinished,
            paused,
            reload_refused: None,
            staged: Vec::new(),
            rate_limits: Vec::new(),
            updated_at: Timestamp::now().to_rfc3339(),
        }
    }

    /// Judges the file against what `/proc` says now about its pid (`observed_start`: the
    /// start time of the process with that pid, `None` when there is none).
    pub fn liveness(&self, observed_start: Option<u64>) -> Liveness {
        if !self.running {
            return Liveness::Stopped;
        }
        match (observed_start, self.started) {
            (None, _) => Liveness::Gone,
            (Some(now), Some(then)) if now != then => Liveness::Gone,
            _ => Liveness::Running,
        }
    }

    /// [`DaemonStatus::liveness`] of the process this file names, looked up in `/proc`.
    pub fn check(&self) -> Liveness {
        self.liveness(process_start(self.pid))
    }
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`), `None` when there is
/// no such process.
pub fn process_start(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start(&text)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and
/// may itself hold spaces and parentheses, so fields are counted after the last `)`.
fn parse_start(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state) onwards: field 22 is the 20th of them.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// What the CLI knows of the daemon ([`observe`]).
#[derive(Debug, Clone)]
pub struct Observed {
    /// `daemon.json`, if there is one and it could be read.
    pub doc: Option<DaemonStatus>,
    /// Whether a daemon runs; `None` when none ever ran on this spool.
    pub live: Option<Liveness>,
    /// The running daemon's pid, when known.
    pub pid: Option<u32>,
    /// What could not be read (`daemon.json`, the lock file), for a warning.
    pub problems: Vec<String>,
}

impl Observed {
    /// Whether a daemon runs on this spool.
    pub fn running(&self) -> bool {
        self.live == Some(Liveness::Running)
    }
}

/// Whether a daemon runs on `spool`, and its `daemon.json`. The spool's lock decides
/// ([`crate::lock::probe`]): held, a daemon runs (the pid is the lock file's); free, none
/// does, whatever `daemon.json` says (a daemon killed outright leaves it saying running).
/// Only without a readable lock file (a daemon older than the lock) does `daemon.json`'s
/// pid, checked in `/proc`, decide.
pub fn observe(spool: &Spool) -> Observed {
    let mut problems = Vec::new();
    let doc = read(&spool.daemon_status()).unwrap_or_else(|e| {
        problems.push(e.to_string());
        None
    });
    let by_file = || doc.as_ref().map(DaemonStatus::check);
    let (live, pid) = match crate::lock::probe(&spool.daemon_lock()) {
        Ok(Probe::Held(pid)) => (
            Some(Liveness::Running),
            pid.or_else(|| doc.as_ref().filter(|d| d.running).map(|d| d.pid)),
        ),
        Ok(Probe::Free) => (
            doc.as_ref().map(|d| {
                if d.running {
                    Liveness::Gone
                } else {
                    Liveness::Stopped
                }
            }),
            None,
        ),
        Ok(Probe::Absent) => (by_file(), doc.as_ref().map(|d| d.pid)),
        Err(e) => {
            problems.push(format!("cannot test the daemon's lock: {e}"));
            (by_file(), doc.as_ref().map(|d| d.pid))
        }
    };
    let pid = pid.filter(|_| live == Some(Liveness::Running));
    Observed {
        doc,
        live,
        pid,
        problems,
    }
}

/// Writes `daemon.json` atomically.
pub fn write(spool: &Spool, st: &DaemonStatus) -> io::Result<()> {
    fsutil::write_json(&spool.daemon_status(), st)
}

/// The daemon's one-line summary (systemd's `STATUS=`, `daemon.json`'s `summary`): the
/// unfinished jobs per step, the pause (`until`, why) and a refused reload (when, why), if
/// any.
pub fn summary_line<'a>(
    unfinished: impl IntoIterator<Item = &'a JobRecord>,
    pause: Option<(Timestamp, &str)>,
    reload_refused: Option<(Timestamp, &str)>,
) -> String {
    let counts = crate::metrics::count_by_step(unfinished);
    let mut s = format!("{} unfinished job(s)", counts.values().sum::<u64>());
    for (k, v) in counts {
        s.push_str(&format!(", {v} {k}"));
    }
    if let Some((until, reason)) = pause {
        s.push_str(&format!("; PAUSED until {until}: {reason}"));
    }
    if let Some((at, reason)) = reload_refused {
        s.push_str(&format!(
            "; RELOAD REFUSED at {at}, running the previous configuration: {reason}"
        ));
    }
    s
}

/// Rewrites `daemon.json` for this process; `running` is false at a clean stop. A failure
/// is logged (the next change rewrites it).
pub fn publish(spool: &Spool, facts: Facts<'_>, running: bool) {
    let paused = facts.pause.map(|(until, reason)| PauseDoc {
        until: until.to_rfc3339(),
        reason: reason.to_owned(),
    });
    let mut doc = DaemonStatus::now(facts.line.to_owned(), facts.unfinished, paused);
    doc.running = running;
    doc.reload_refused = facts.reload_refused.map(|(at, reason)| RefusalDoc {
        at: at.to_rfc3339(),
        reason: reason.to_owned(),
    });
    doc.staged = facts.staged.to_vec();
    doc.rate_limits = facts.rate_limits.to_vec();
    if let Err(e) = write(spool, &doc) {
        tracing::warn!("{} not written: {e}", spool.daemon_status().display());
    }
}

/// Reads `daemon.json`; `Ok(None)` when there is none (the daemon never started).
pub fn read(path: &Path) -> io::Result<Option<DaemonStatus>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(running: bool, started: Option<u64>) -> DaemonStatus {
        DaemonStatus {
            pid: 42,
            started,
            running,
            summary: String::new(),
            unfinished: 0,
            paused: None,
            reload_refused: None,
            staged: Vec::new(),
            rate_limits: Vec::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_pid_alone_is_not_proof_of_life() {
        assert_eq!(doc(true, Some(7)).liveness(Some(7)), Liveness::Running);
        assert_eq!(
            doc(true, Some(7)).liveness(Some(8)),
            Liveness::Gone,
            "pid reused"
        );
        assert_eq!(doc(true, Some(7)).liveness(None), Liveness::Gone);
        assert_eq!(doc(false, Some(7)).liveness(Some(7)), Liveness::Stopped);
        assert_eq!(doc(true, None).liveness(Some(3)), Liveness::Running);
    }

    #[test]
    fn the_start_time_is_read_past_a_hostile_process_name() {
        let line = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 50";
        assert_eq!(parse_start(line), Some(98765));
        assert_eq!(parse_start("garbage"), None);
        let me = process_start(std::process::id()).expect("this process is in /proc");
        assert_eq!(DaemonStatus::now(String::new(), 0, None).started, Some(me));
    }

    #[test]
    fn files_of_older_daemons_read_as_running() {
        let old =
            r#"{"pid": 1, "summary": "s", "unfinished": 0, "paused": null, "updated_at": "x"}"#;
        let d: DaemonStatus = serde_json::from_str(old).expect("old daemon.json");
        assert!(d.running && d.started.is_none());
    }
}
