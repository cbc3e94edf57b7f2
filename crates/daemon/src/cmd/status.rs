//! `baseliner status [ID] [--json]`: whether the daemon runs (and why it is paused, that
//! it refused a reload, which APIs wait for a rate limit), then a table of jobs — the files
//! still waiting in `incoming/`, and those the daemon staged but could not take yet (listed
//! in `daemon.json`: `.staging/` is the daemon's alone), as `queued`, the refused files of
//! `rejected/` with their reasons, then every accepted job with what it waits for — or one
//! job. `--json` prints the same facts as one object ([`super::status_doc`]). Reads the spool's files only (`daemon.json`, `jobs/*/status.json`,
//! `incoming/`, and the spool's lock to tell whether a daemon runs), never the store, so
//! it works while the daemon runs and for any member of the submit group.
//! Every text that came from outside (organization names, Qualys's error texts, file
//! names) is passed through [`table_cell`] before it reaches the terminal.

use super::out::Out;
use super::status_doc::{self as doc, JobView, RejectedDoc, StatusDoc, Waiting};
use super::{runtime, usage, Failure};
use crate::cli::StatusArgs;
use crate::daemon_status::{self, Liveness, Observed, RateLimitDoc, StagedDoc};
use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::config::Config;
use baseliner_core::store::JobId;
use baseliner_core::text::table_cell;
use baseliner_core::time::Timestamp;

/// Runs the command.
pub fn status(cfg: &Config, args: &StatusArgs) -> Result<(), Failure> {
    let spool = Spool::new(cfg.paths.spool.clone());
    if !spool.root().is_dir() {
        return Err(runtime(anyhow::anyhow!(
            "spool {} does not exist or is not a directory (check [paths].spool; the daemon \
             creates it when it starts)",
            spool.root().display()
        )));
    }
    let mut out = Out::new();
    let daemon = daemon_status::observe(&spool);
    let running = daemon.running();
    let now = Timestamp::now();
    let view = doc::daemon_view(&daemon, now);
    if let Some(id) = &args.id {
        if JobId::parse(id).is_none() {
            return Err(usage(anyhow::anyhow!(
                "{id:?} is not a job id (ids look like 20261128-011500-000042)"
            )));
        }
        let mut st = status::read(&spool.status_file(id))
            .map_err(|e| usage(anyhow::anyhow!("no job {id}: {e}")))?;
        // The encoded record is the daemon's witness, not for scripts.
        st.record = None;
        let view = JobView {
            waiting: doc::waiting(&st, &view, now),
            status: st,
        };
        if args.json {
            crate::outln!(
                out,
                "{}",
                serde_json::to_string_pretty(&view).map_err(runtime)?
            )?;
        } else {
            print_one(&mut out, &view, now)?;
        }
        return Ok(());
    }
    let (mut all, mut problems) = status::read_all(&spool)
        .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", spool.jobs().display())))?;
    all.iter_mut().for_each(|st| st.record = None);
    problems.extend(daemon.problems.iter().cloned());
    let jobs: Vec<JobView> = all
        .into_iter()
        .map(|st| JobView {
            waiting: doc::waiting(&st, &view, now),
            status: st,
        })
        .collect();
    let incoming = doc::incoming(&spool).map_err(runtime)?;
    let staged_files = daemon
        .doc
        .as_ref()
        .map(|d| d.staged.clone())
        .unwrap_or_default();
    let rejected = doc::rejected(&spool).map_err(runtime)?;
    if args.json {
        let whole = StatusDoc {
            daemon: view,
            queued: incoming,
            staged: staged_files,
            rejected,
            jobs,
        };
        crate::outln!(
            out,
            "{}",
            serde_json::to_string_pretty(&whole).map_err(runtime)?
        )?;
    } else {
        crate::outln!(out, "{}", daemon_line(&daemon, now))?;
        for r in &view.rate_limits {
            crate::outln!(out, "{}", rate_limit_line(r, now))?;
        }
        let mut queued = queued_rows(&incoming, "incoming/", "", now);
        queued.extend(queued_rows(
            &staged_files,
            ".staging/",
            " (intake postponed: see the daemon's log)",
            now,
        ));
        print_table(&mut out, &queued, &rejected, &jobs, running, now)?;
    }
    for p in problems {
        super::out::warn(format_args!("warning: {}", table_cell(&p)));
    }
    Ok(())
}

/// The first line: whether the daemon runs, and why it is paused.
fn daemon_line(o: &Observed, now: Timestamp) -> String {
    let pid = o
        .pid
        .map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"));
    let (Some(d), Some(live)) = (o.doc.as_ref(), o.live.as_ref()) else {
        return match o.live {
            // Started, but daemon.json is not written yet (or is unreadable).
            Some(Liveness::Running) => format!("daemon: running ({pid})"),
            _ => "daemon: not started yet (no daemon.json in the spool)".into(),
        };
    };
    let summary = table_cell(&d.summary);
    match live {
        // daemon.json is another process's (an earlier daemon's): no counts to show.
        Liveness::Running if o.pid.is_some_and(|p| p != d.pid) => {
            format!("daemon: running ({pid})")
        }
        Liveness::Running => {
            let mut s = format!("daemon: running ({pid}), {}", d.unfinished);
            s.push_str(" unfinished job(s)");
            if let Some(p) = &d.paused {
                let until = Timestamp::parse_rfc3339(&p.until);
                if until.is_none_or(|u| u > now) {
                    s.push_str(&format!(
                        "\nPAUSED until {}: {}",
                        until
                            .map(|u| short_time(u, now))
                            .unwrap_or_else(|| p.until.clone()),
                        table_cell(&p.reason)
                    ));
                }
            }
            if let Some(r) = &d.reload_refused {
                let at = Timestamp::parse_rfc3339(&r.at)
                    .map(|t| short_time(t, now))
                    .unwrap_or_else(|| table_cell(&r.at).into_owned());
                s.push_str(&format!(
                    "\nRELOAD REFUSED at {at}, still running the previous configuration \
                     (fix it, then send SIGHUP again): {}",
                    table_cell(&r.reason)
                ));
            }
            s
        }
        Liveness::Stopped => format!(
            "daemon: stopped (clean stop at {}): {summary}",
            table_cell(&d.updated_at)
        ),
        Liveness::Gone => format!(
            "daemon: NOT RUNNING (pid {} is gone; it did not stop cleanly; last update {})",
            d.pid,
            table_cell(&d.updated_at)
        ),
    }
}

/// `08:22Z` when `t` is today (UTC), else `2026-11-30 08:22Z`.
fn short_time(t: Timestamp, now: Timestamp) -> String {
    let (a, b) = (t.to_rfc3339(), now.to_rfc3339());
    let (date, clock) = (a.get(..10).unwrap_or(""), a.get(11..16).unwrap_or(""));
    if b.get(..10) == Some(date) {
        format!("{clock}Z")
    } else {
        format!("{date} {clock}Z")
    }
}

/// A file waiting for intake: where it is (`incoming/NAME`, `.staging/NAME`), how long
/// since it was written, and why it waits when that is known.
struct Queued {
    place: String,
    age: Option<u64>,
    note: &'static str,
}

/// The rows of files waiting for intake, in `place` (`incoming/`, `.staging/`), with a
/// note on why they wait when that is known.
fn queued_rows(
    files: &[StagedDoc],
    place: &str,
    note: &'static str,
    now: Timestamp,
) -> Vec<Queued> {
    files
        .iter()
        .map(|f| Queued {
            place: format!("{place}{}", f.name),
            age: f
                .modified
                .as_deref()
                .and_then(Timestamp::parse_rfc3339)
                .map(|t| t.until(now).as_secs()),
            note,
        })
        .collect()
}

/// A line under the daemon's for each open rate-limit wait.
fn rate_limit_line(r: &RateLimitDoc, now: Timestamp) -> String {
    let until = Timestamp::parse_rfc3339(&r.until)
        .map(|u| short_time(u, now))
        .unwrap_or_else(|| table_cell(&r.until).into_owned());
    format!(
        "RATE LIMIT: no call of {} until {until} ({}); {} job(s) waiting",
        table_cell(&r.api),
        table_cell(&r.why),
        r.jobs.len()
    )
}

fn age_secs(s: u64) -> String {
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn age(st: &JobStatus, now: Timestamp) -> String {
    match Timestamp::parse_rfc3339(&st.accepted_at) {
        Some(t) => age_secs(t.until(now).as_secs()),
        None => "?".into(),
    }
}

/// The NEXT ACTION cell: what the job waits for (the pause or a rate limit, with its end),
/// else [`next_action`].
fn next_cell(j: &JobView, running: bool, now: Timestamp) -> String {
    let end = |w: &Waiting| {
        w.until
            .as_deref()
            .and_then(Timestamp::parse_rfc3339)
            .map(|u| short_time(u, now))
            .unwrap_or_default()
    };
    match &j.waiting {
        Some(w) if w.kind == "rate_limit" => format!("rate limit {}", end(w)),
        Some(w) if w.kind == "pause" => format!("paused {}", end(w)),
        _ => next_action(j.status.next_action_at.as_deref(), running, now),
    }
}

/// The `next action` line of `status ID`: what the job waits for, in words.
fn next_line(j: &JobView, running: bool, now: Timestamp) -> String {
    let end = |w: &Waiting| {
        w.until
            .as_deref()
            .map(|u| {
                Timestamp::parse_rfc3339(u)
                    .map(|t| short_time(t, now))
                    .unwrap_or_else(|| table_cell(u).into_owned())
            })
            .unwrap_or_default()
    };
    match &j.waiting {
        Some(w) if w.kind == "rate_limit" => format!(
            "waiting for the rate limit of {} until {} ({})",
            table_cell(w.api.as_deref().unwrap_or("?")),
            end(w),
            table_cell(&w.reason)
        ),
        Some(w) if w.kind == "pause" => {
            format!("paused until {}: {}", end(w), table_cell(&w.reason))
        }
        _ => next_action(j.status.next_action_at.as_deref(), running, now),
    }
}

/// The NEXT ACTION cell: the due time while it is ahead; `now` when due and the daemon
/// runs; and, when the daemon is not running, that nothing will happen until it does.
fn next_action(at: Option<&str>, running: bool, now: Timestamp) -> String {
    let Some(at) = at else { return "-".into() };
    if !running {
        return "(daemon not running)".into();
    }
    match Timestamp::parse_rfc3339(at) {
        Some(t) if t <= now => "now".into(),
        Some(_) => at.to_string(),
        None => table_cell(at).into_owned(),
    }
}

/// The STATE cell: the state, with `!alert` when the job's alert failed.
fn state_cell(st: &JobStatus) -> String {
    match st.alert_problem() {
        Some(_) => format!("{} !alert", st.shown_state()),
        None => st.shown_state().to_string(),
    }
}

fn print_table(
    out: &mut Out,
    queued: &[Queued],
    rejected: &[RejectedDoc],
    all: &[JobView],
    running: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    if all.is_empty() && queued.is_empty() && rejected.is_empty() {
        return crate::outln!(out, "no jobs");
    }
    crate::outln!(
        out,
        "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  ERROR",
        "ID",
        "ORGANIZATION",
        "STATE",
        "SCAN STATE",
        "AGE",
        "NEXT ACTION"
    )?;
    for q in queued {
        let age = q.age.map(age_secs).unwrap_or_else(|| "?".into());
        crate::outln!(
            out,
            "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  {}",
            "-",
            "-",
            "queued",
            "-",
            age,
            if running {
                "intake"
            } else {
                "(daemon not running)"
            },
            clip(&format!("{}{}", table_cell(&q.place), q.note), 80)
        )?;
    }
    for r in rejected {
        let age = r
            .modified
            .as_deref()
            .and_then(Timestamp::parse_rfc3339)
            .map(|t| age_secs(t.until(now).as_secs()))
            .unwrap_or_else(|| "?".into());
        let why = r.reason.as_deref().unwrap_or("(no reason file)");
        crate::outln!(
            out,
            "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  {}",
            "-",
            "-",
            "rejected",
            "-",
            age,
            "-",
            clip(
                &format!("rejected/{}: {}", table_cell(&r.name), table_cell(why)),
                120
            )
        )?;
    }
    for j in all {
        let st = &j.status;
        let err = st
            .error
            .as_deref()
            .or(st.last_error.as_deref())
            .map(str::to_string)
            .or_else(|| st.alert_problem().map(|p| format!("alert: {p}")))
            .unwrap_or_default();
        crate::outln!(
            out,
            "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  {}",
            table_cell(&st.id),
            clip(&table_cell(&st.organization), 24),
            state_cell(st),
            clip(&table_cell(st.scan_state.as_deref().unwrap_or("-")), 18),
            age(st, now),
            next_cell(j, running, now),
            clip(&table_cell(&err), 80)
        )?;
    }
    Ok(())
}

fn print_one(out: &mut Out, j: &JobView, now: Timestamp) -> Result<(), Failure> {
    let st = &j.status;
    let running = j
        .waiting
        .as_ref()
        .is_none_or(|w| w.kind != "daemon_not_running");
    let cell = |s: &str| table_cell(s).into_owned();
    crate::outln!(out, "job           {}", cell(&st.id))?;
    crate::outln!(out, "organization  {}", cell(&st.organization))?;
    crate::outln!(out, "state         {}", state_cell(st))?;
    crate::outln!(out, "ips           {}", cell(&st.ips))?;
    crate::outln!(
        out,
        "scan          {}",
        cell(st.scan_ref.as_deref().unwrap_or("-"))
    )?;
    crate::outln!(
        out,
        "scan state    {}",
        cell(st.scan_state.as_deref().unwrap_or("-"))
    )?;
    crate::outln!(
        out,
        "report        {}",
        st.report_id.map(|r| r.to_string()).unwrap_or("-".into())
    )?;
    crate::outln!(out, "next action   {}", next_line(j, running, now))?;
    if let Some(e) = &st.error {
        crate::outln!(out, "error         {}", cell(e))?;
    }
    if let Some(e) = &st.last_error {
        crate::outln!(out, "last problem  {}", cell(e))?;
    }
    crate::outln!(
        out,
        "outputs       {}",
        if st.outputs.is_empty() {
            "-".into()
        } else {
            cell(&st.outputs.join(", "))
        }
    )?;
    if let Some(a) = &st.alert {
        crate::outln!(out, "alert         {}", cell(&alert_line(a)))?;
        if let Some(w) = a.get("webhook").filter(|w| !w.is_null()) {
            let text = w
                .get("status")
                .and_then(|v| v.as_str())
                .or_else(|| w.as_str())
                .unwrap_or("?");
            crate::outln!(out, "webhook       {}", cell(text))?;
        }
    }
    crate::outln!(out, "history")?;
    for h in &st.history {
        crate::outln!(out, "  {}  {}", cell(&h.at), cell(h.state.as_str()))?;
    }
    Ok(())
}

/// The alert command's outcome in one line: status, exit code, reason, end of stderr.
fn alert_line(a: &serde_json::Value) -> String {
    let mut s = a
        .get("status")
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string();
    if let Some(code) = a.get("exit_code").and_then(|v| v.as_i64()) {
        s.push_str(&format!(" (exit {code})"));
    }
    if let Some(r) = a.get("reason").and_then(|v| v.as_str()) {
        s.push_str(&format!(", for {r}"));
    }
    if let Some(t) = a
        .get("stderr_tail")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let last = t.lines().last().unwrap_or(t);
        s.push_str(&format!("; stderr: {}", clip(last, 120)));
    }
    s
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon_status::DaemonStatus;

    #[test]
    fn past_actions_are_not_shown_as_pending_when_the_daemon_is_stopped() {
        let now = Timestamp::parse_rfc3339("2026-12-01T09:00:00Z").expect("time");
        let past = "2026-12-01T08:00:00Z";
        let ahead = "2026-12-01T10:00:00Z";
        assert_eq!(next_action(Some(past), false, now), "(daemon not running)");
        assert_eq!(next_action(Some(ahead), false, now), "(daemon not running)");
        assert_eq!(next_action(Some(past), true, now), "now");
        assert_eq!(next_action(Some(ahead), true, now), ahead);
        assert_eq!(next_action(None, true, now), "-");
    }

    #[test]
    fn a_pause_reads_as_words() {
        let now = Timestamp::parse_rfc3339("2026-12-01T08:00:00Z").expect("time");
        let d = DaemonStatus {
            pid: 7,
            started: None,
            running: true,
            summary: "1 unfinished job(s)".into(),
            unfinished: 1,
            paused: Some(daemon_status::PauseDoc {
                until: "2026-12-01T08:22:00Z".into(),
                reason: "account problem: CODE 2000 Bad Login\n\u{1b}[2J".into(),
            }),
            reload_refused: Some(daemon_status::RefusalDoc {
                at: "2026-12-01T07:58:00Z".into(),
                reason: "[scope].authorized is empty\u{1b}[2J".into(),
            }),
            staged: Vec::new(),
            rate_limits: Vec::new(),
            updated_at: "2026-12-01T07:59:00Z".into(),
        };
        let observed = |live: Option<Liveness>, pid: Option<u32>| Observed {
            doc: Some(d.clone()),
            live,
            pid,
            problems: Vec::new(),
        };
        let line = daemon_line(&observed(Some(Liveness::Running), Some(7)), now);
        assert!(
            line.contains("PAUSED until 08:22Z: account problem: CODE 2000 Bad Login"),
            "{line}"
        );
        assert!(
            line.starts_with("daemon: running (pid 7), 1 unfinished"),
            "{line}"
        );
        assert!(!line.contains('{') && !line.contains('\u{1b}'), "{line}");
        assert!(
            line.contains("RELOAD REFUSED at 07:58Z") && line.contains("[scope].authorized"),
            "{line}"
        );
        let later = Timestamp::parse_rfc3339("2026-12-01T09:00:00Z").expect("time");
        assert!(
            !daemon_line(&observed(Some(Liveness::Running), Some(7)), later).contains("PAUSED")
        );
        let gone = daemon_line(&observed(Some(Liveness::Gone), None), now);
        assert!(
            gone.contains("NOT RUNNING") && !gone.contains("PAUSED"),
            "{gone}"
        );
        // The lock's holder is not the process daemon.json names: running, no stale counts.
        let other = daemon_line(&observed(Some(Liveness::Running), Some(8)), now);
        assert_eq!(other, "daemon: running (pid 8)");
        let none = Observed {
            doc: None,
            live: None,
            pid: None,
            problems: Vec::new(),
        };
        assert!(daemon_line(&none, now).contains("not started"));
        assert_eq!(
            short_time(
                Timestamp::parse_rfc3339("2026-12-02T01:05:00Z").expect("t"),
                now
            ),
            "2026-12-02 01:05Z"
        );
    }
}
