//! `baseliner purge --older-than DURATION [--dry-run]`: removes the finished jobs (`done`,
//! `failed`, `canceled`) whose last step is older than DURATION, their directories and
//! store records ([`crate::removal`], the same code as `[retention]`).
//!
//! While the daemon runs (it holds the store), the request goes through `SPOOL/purge/`, the
//! daemon user's own directory: the daemon removes the jobs, and this prints the job
//! directories that went. While it does not run, this takes the daemon's locks itself (so
//! none starts meanwhile) and removes them; only as the owner of the state directory, so
//! that nothing sled writes becomes another user's. `--dry-run` lists, from the status
//! files, what would go, and removes nothing.

use super::{runtime, usage, Failure};
use crate::removal;
use crate::spool::Spool;
use crate::status;
use baseliner_core::config::Config;
use baseliner_core::store::{JobId, JobRecord};
use baseliner_core::time::{format_duration, parse_duration, Timestamp};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long `purge` waits for the daemon to apply its request.
const WAIT: Duration = Duration::from_secs(30);

/// Runs the command.
pub fn purge(cfg: &Config, older_than: &str, dry_run: bool) -> Result<(), Failure> {
    let Some(age) = parse_duration(older_than) else {
        return Err(usage(anyhow::anyhow!(
            "--older-than {older_than:?}: a duration such as \"30d\", \"12h\" or \"90s\""
        )));
    };
    let spool = Spool::new(cfg.paths.spool.clone());
    if !spool.root().is_dir() {
        return Err(runtime(anyhow::anyhow!(
            "the spool {} does not exist",
            spool.root().display()
        )));
    }
    let now = Timestamp::now();
    if dry_run {
        let (files, _) = status::read_all(&spool).map_err(runtime)?;
        let records: Vec<JobRecord> = files.iter().filter_map(|f| f.published()?.record).collect();
        let ids = removal::expired(&records, now, age);
        for id in &ids {
            println!("would remove {id}");
        }
        println!(
            "{} finished job(s) older than {} would be removed (dry run: nothing removed)",
            ids.len(),
            format_duration(age)
        );
        return Ok(());
    }
    let removed = if crate::daemon_status::observe(&spool).running() {
        through_daemon(&spool, age)?
    } else {
        by_itself(cfg, &spool, age, now)?
    };
    for id in &removed {
        println!("removed {id}");
    }
    println!(
        "{} finished job(s) older than {} removed",
        removed.len(),
        format_duration(age)
    );
    Ok(())
}

/// The job directories in `jobs/`.
fn job_dirs(spool: &Spool) -> BTreeSet<String> {
    std::fs::read_dir(spool.jobs())
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| JobId::parse(n).is_some())
                .collect()
        })
        .unwrap_or_default()
}

/// Drops a request for the running daemon and waits until it applied it; returns the job
/// directories that went meanwhile.
fn through_daemon(spool: &Spool, age: Duration) -> Result<Vec<String>, Failure> {
    let before = job_dirs(spool);
    let name = format!(
        "older-than-{}-{}-{}",
        age.as_secs(),
        std::process::id(),
        Timestamp::now().millis()
    );
    let request = spool.purge().join(name);
    crate::fsutil::write_atomic(&request, b"").map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (only the daemon's user and root may purge)"
        } else {
            ""
        };
        runtime(anyhow::anyhow!("{}: {e}{hint}", request.display()))
    })?;
    let started = Instant::now();
    while std::fs::symlink_metadata(&request).is_ok() {
        if started.elapsed() > WAIT {
            return Err(runtime(anyhow::anyhow!(
                "the daemon has not applied the purge within {}s; it stays requested ({})",
                WAIT.as_secs(),
                request.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = job_dirs(spool);
    Ok(before.difference(&after).cloned().collect())
}

/// No daemon runs: takes its locks and removes the jobs itself.
fn by_itself(
    cfg: &Config,
    spool: &Spool,
    age: Duration,
    now: Timestamp,
) -> Result<Vec<String>, Failure> {
    use std::os::unix::fs::MetadataExt;
    let state = &cfg.paths.state;
    let owner = std::fs::metadata(state)
        .map_err(|e| runtime(anyhow::anyhow!("state {}: {e}", state.display())))?
        .uid();
    if owner != rustix::process::geteuid().as_raw() {
        return Err(runtime(anyhow::anyhow!(
            "the daemon is not running, and {} belongs to uid {owner}: run purge as that user \
             (e.g. `sudo -u baseliner baseliner purge …`), so that the store stays the daemon's",
            state.display()
        )));
    }
    let _lock = crate::lock::acquire(spool, state).map_err(runtime)?;
    let store = crate::recovery::open_store(&state.join("store")).map_err(runtime)?;
    removal::finish_interrupted(spool, &store).map_err(runtime)?;
    let records = store.scan().map_err(runtime)?.records;
    let mut removed = Vec::new();
    for id in removal::expired(&records, now, age) {
        removal::remove(spool, &store, &id).map_err(runtime)?;
        removed.push(id.to_string());
    }
    Ok(removed)
}
