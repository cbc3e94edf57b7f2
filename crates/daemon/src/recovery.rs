//! The store against the world, at start and whenever the store is reopened: opening a
//! store that does not open (moved aside, never deleted), and bringing a store that lost
//! data back up to what the job directories' `status.json` files witness
//! ([`baseliner_core::witness`]).
//!
//! A job whose published status is ahead of its record (a restored backup, a truncated or
//! damaged database) or that the store does not hold at all (an emptied, missing or
//! replaced database) raises a lost-store alarm, an ERROR naming the job and both states,
//! and is carried on from its published record: every request that record shows as sent is
//! looked up by its exact title before anything is sent again. The store's counters are
//! moved past everything published, so no later commit or job id repeats one the spool has
//! seen. Nothing here talks to Qualys.

use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::job::{parse_job, JobRules};
use baseliner_core::store::{JobId, JobRecord, Store, StoreError};
use baseliner_core::text::escape_log;
use baseliner_core::time::Timestamp;
use baseliner_core::witness::{self, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What [`reconcile`] did.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Jobs brought back from their status files (alarms raised).
    pub rebuilt: Vec<JobId>,
    /// Jobs the store lost that could not be rebuilt (each marked failed in its status.json).
    pub lost: Vec<JobId>,
}

/// Holds every published `status.json` against the store and restores what the store
/// lost (see the module doc). Errors only when the store itself fails.
pub fn reconcile(
    spool: &Spool,
    store: &Store,
    rules: &JobRules,
    now: Timestamp,
) -> Result<Reconciled, StoreError> {
    let scan = store.scan()?;
    for (key, why) in &scan.undecodable {
        tracing::error!(
            "lost-store alarm: the stored record {} does not decode ({why}); it is rebuilt from its status.json if it has one",
            escape_log(key)
        );
    }
    let stored: BTreeMap<JobId, JobRecord> = scan
        .records
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let (files, problems) = status::read_all(spool).unwrap_or_else(|e| {
        tracing::error!("cannot list {}: {e}", spool.jobs().display());
        (Vec::new(), Vec::new())
    });
    for p in problems {
        tracing::warn!("unreadable status file: {}", escape_log(&p));
    }
    let mut out = Reconciled::default();
    let mut restore = Vec::new();
    let (mut max_gen, mut max_seq) = (0u64, 0u64);
    for file in &files {
        let Some(published) = file.published() else {
            tracing::warn!(
                "status file of {} does not read as a job's; left alone",
                escape_log(&file.id)
            );
            continue;
        };
        max_gen = max_gen.max(published.generation);
        max_seq = max_seq.max(published.id.seq().unwrap_or(0));
        let Verdict::Behind { alarm } = witness::compare(stored.get(&published.id), &published)
        else {
            continue;
        };
        let id = published.id.as_str();
        let job = read_job(spool, id, rules);
        match witness::rebuild(&published, job, now) {
            Ok(mut rec) => {
                // Beside the record, not in it: the hold and the link to a retry.
                rec.held = file.held;
                rec.retried_as = file.retried_as.as_deref().and_then(JobId::parse);
                tracing::error!(
                    job_id = id,
                    "lost-store alarm: {alarm}; the store lost committed data (a restored backup, a damaged or emptied database?): the job carries on from its status.json, and every request it shows as sent is looked up by its exact title before anything is sent again"
                );
                out.rebuilt.push(rec.id.clone());
                restore.push(rec);
            }
            Err(why) => {
                tracing::error!(
                    job_id = id,
                    "lost-store alarm: {alarm}; the job cannot be rebuilt ({why}): marked failed; its scan {} may still run in Qualys",
                    file.scan_ref.as_deref().unwrap_or("(none)")
                );
                mark_lost(spool, file, &why.to_string(), now);
                out.lost.push(published.id.clone());
            }
        }
    }
    // First past everything published, then the restored records on top of it.
    store.advance_past(max_gen, max_seq)?;
    for rec in &restore {
        store.restore(rec)?;
    }
    Ok(out)
}

/// The job's spec from its `job.toml` (written by the daemon at intake).
fn read_job(spool: &Spool, id: &str, rules: &JobRules) -> Result<baseliner_core::job::Job, String> {
    let path = spool.job_dir(id).join("job.toml");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_job("job.toml", &bytes, rules).map_err(|e| e.to_string())
}

/// Rewrites a job's status as failed, saying why (the store lost it for good).
fn mark_lost(spool: &Spool, file: &JobStatus, why: &str, now: Timestamp) {
    let mut st = file.clone();
    st.state = baseliner_core::state::StepName::Failed;
    st.error = Some(format!(
        "the state store lost this job and it could not be rebuilt: {why}"
    ));
    st.next_action_at = None;
    st.canceling = false;
    st.updated_at = now.to_rfc3339();
    if let Err(e) = status::write(spool, &st) {
        tracing::error!(job_id = file.id.as_str(), "status.json not written: {e}");
    }
}

/// Opens the store in `dir`. A database that does not open for another reason than a lock
/// or a permission (sled reports it corrupt, or panics reading it) is moved aside to
/// `DIR.damaged-<time>` (kept for the operator, never deleted) and a new one is opened: the
/// jobs come back from the spool's status files ([`reconcile`]), so a corrupt database
/// never crash-loops the service.
pub fn open_store(dir: &Path) -> Result<Store, StoreError> {
    match open_catching(dir) {
        Ok(store) => Ok(store),
        Err(e) if !damaged(&e) => Err(e.into_store_error(dir)),
        Err(e) => {
            let aside = aside_name(dir, Timestamp::now());
            tracing::error!(
                "the store {} does not open ({}): moved aside to {}; a new store is opened and the jobs are rebuilt from the spool's status files",
                dir.display(),
                e.describe(),
                aside.display()
            );
            std::fs::rename(dir, &aside).map_err(|source| StoreError::Aside {
                dir: dir.to_path_buf(),
                aside: aside.clone(),
                source,
            })?;
            Store::open(dir)
        }
    }
}

enum OpenFailure {
    Error(StoreError),
    Panic(String),
}

impl OpenFailure {
    fn describe(&self) -> String {
        match self {
            OpenFailure::Error(e) => e.to_string(),
            OpenFailure::Panic(p) => format!("sled panicked: {p}"),
        }
    }

    fn into_store_error(self, dir: &Path) -> StoreError {
        match self {
            OpenFailure::Error(e) => e,
            OpenFailure::Panic(p) => StoreError::Corrupt {
                key: dir.display().to_string(),
                detail: p,
            },
        }
    }
}

fn open_catching(dir: &Path) -> Result<Store, OpenFailure> {
    match std::panic::catch_unwind(|| Store::open(dir)) {
        Ok(Ok(store)) => Ok(store),
        Ok(Err(e)) => Err(OpenFailure::Error(e)),
        Err(panic) => Err(OpenFailure::Panic(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".to_string()),
        )),
    }
}

/// True when the failure says the database's bytes are bad, not that it is locked, not
/// ours to read, or the disk failed.
fn damaged(e: &OpenFailure) -> bool {
    match e {
        OpenFailure::Panic(_) => true,
        OpenFailure::Error(e) => e.is_damage(),
    }
}

fn aside_name(dir: &Path, now: Timestamp) -> PathBuf {
    let stamp: String = now
        .to_rfc3339()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut name = dir.as_os_str().to_os_string();
    name.push(format!(".damaged-{stamp}"));
    PathBuf::from(name)
}
