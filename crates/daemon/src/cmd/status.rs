//! `baseliner status [ID] [--json]`: a table of jobs, or one job, from the status files.
//! Never opens the store, so it works while the daemon runs.

use super::{runtime, usage, Failure};
use crate::cli::StatusArgs;
use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::config::Config;
use baseliner_core::store::JobId;
use baseliner_core::time::Timestamp;

/// Runs the command.
pub fn status(cfg: &Config, args: &StatusArgs) -> Result<(), Failure> {
    let spool = Spool::new(cfg.paths.spool.clone());
    if let Some(id) = &args.id {
        if JobId::parse(id).is_none() {
            return Err(usage(anyhow::anyhow!(
                "{id:?} is not a job id (ids look like 20261128-011500-000042)"
            )));
        }
        let st = status::read(&spool.status_file(id))
            .map_err(|e| usage(anyhow::anyhow!("no job {id}: {e}")))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&st).map_err(runtime)?);
        } else {
            print_one(&st);
        }
        return Ok(());
    }
    let (all, problems) = status::read_all(&spool).map_err(runtime)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all).map_err(runtime)?);
    } else {
        print_table(&all, Timestamp::now());
        if let Ok(text) = std::fs::read_to_string(spool.daemon_status()) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(p) = v.get("paused").filter(|p| !p.is_null()) {
                    println!("\nDAEMON PAUSED: {p}");
                }
            }
        }
    }
    for p in problems {
        eprintln!("warning: {p}");
    }
    Ok(())
}

fn age(st: &JobStatus, now: Timestamp) -> String {
    let Some(t) = Timestamp::parse_rfc3339(&st.accepted_at) else {
        return "?".into();
    };
    let s = t.until(now).as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn print_table(all: &[JobStatus], now: Timestamp) {
    if all.is_empty() {
        println!("no jobs");
        return;
    }
    println!(
        "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  ERROR",
        "ID", "ORGANIZATION", "STATE", "SCAN STATE", "AGE", "NEXT ACTION"
    );
    for st in all {
        let err = st
            .error
            .as_deref()
            .or(st.last_error.as_deref())
            .unwrap_or("");
        println!(
            "{:<22}  {:<24}  {:<16}  {:<18}  {:>5}  {:<20}  {}",
            st.id,
            clip(&st.organization, 24),
            st.shown_state(),
            clip(st.scan_state.as_deref().unwrap_or("-"), 18),
            age(st, now),
            st.next_action_at.as_deref().unwrap_or("-"),
            clip(err, 80)
        );
    }
}

fn print_one(st: &JobStatus) {
    println!("job           {}", st.id);
    println!("organization  {}", st.organization);
    println!("state         {}", st.shown_state());
    println!("ips           {}", st.ips);
    println!("scan          {}", st.scan_ref.as_deref().unwrap_or("-"));
    println!("scan state    {}", st.scan_state.as_deref().unwrap_or("-"));
    println!(
        "report        {}",
        st.report_id.map(|r| r.to_string()).unwrap_or("-".into())
    );
    println!(
        "next action   {}",
        st.next_action_at.as_deref().unwrap_or("-")
    );
    if let Some(e) = &st.error {
        println!("error         {e}");
    }
    if let Some(e) = &st.last_error {
        println!("last problem  {e}");
    }
    println!(
        "outputs       {}",
        if st.outputs.is_empty() {
            "-".into()
        } else {
            st.outputs.join(", ")
        }
    );
    if let Some(a) = &st.alert {
        let status = a.get("status").and_then(|v| v.as_str()).unwrap_or("?");
        println!("alert         {status}");
    }
    println!("history");
    for h in &st.history {
        println!("  {}  {}", h.at, h.state);
    }
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
