//! Removing finished jobs (`[retention]`, `baseliner purge`): one job's directory and store
//! record, in the order that keeps a crash harmless.
//!
//! A job directory's `status.json` is the witness the store is rebuilt from
//! ([`crate::recovery`]): a directory whose record is gone would come back at the next start
//! as a lost job. So the directory goes first, and atomically: `jobs/ID` is renamed to
//! `jobs/.removing-ID` (the parent fsynced; `status` and the recovery skip dot-names), then
//! the record is deleted ([`Store::remove`], one flushed transaction: record, generation,
//! hold, retry link), then the renamed directory is removed. `jobs/.removing-ID` is the
//! removal's intent: a crash after the rename leaves it, and [`finish_interrupted`] (at
//! every start, before the status files are repaired from the store) completes it — the
//! record first, then the directory. Which jobs are old enough is the core's decision
//! ([`baseliner_core::queue`]).

use crate::spool::Spool;
use baseliner_core::queue;
use baseliner_core::store::{JobId, JobRecord, Store, StoreError};
use baseliner_core::time::Timestamp;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// The prefix of a job directory being removed, in `jobs/`.
pub const REMOVING_PREFIX: &str = ".removing-";

/// Why a job could not be removed.
#[derive(Debug, thiserror::Error)]
pub enum RemovalError {
    /// The job directory could not be renamed or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The store could not delete the record.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The finished jobs among `records` whose last step is older than `older_than` at `now`,
/// in acceptance order. Unfinished jobs are never among them.
pub fn expired(records: &[JobRecord], now: Timestamp, older_than: Duration) -> Vec<JobId> {
    records
        .iter()
        .filter(|r| {
            let cp = &r.checkpoint;
            queue::finished_at(cp.state.is_terminal(), &cp.history)
                .is_some_and(|at| queue::expired(at, now, older_than))
        })
        .map(|r| r.id.clone())
        .collect()
}

/// Where job `id`'s directory goes while it is removed.
fn aside(spool: &Spool, id: &JobId) -> PathBuf {
    spool.jobs().join(format!("{REMOVING_PREFIX}{id}"))
}

fn remove_tree(path: PathBuf) -> Result<(), RemovalError> {
    match std::fs::remove_dir_all(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RemovalError::Io { path, source }),
    }
}

/// Removes job `id`: its directory out of sight first (renamed, fsynced), then its record,
/// then the directory (see the module doc). A job whose directory is already gone loses
/// its record; one already removed is no error.
pub fn remove(spool: &Spool, store: &Store, id: &JobId) -> Result<(), RemovalError> {
    let dir = spool.job_dir(id.as_str());
    let aside = aside(spool, id);
    match crate::fsutil::rename_durable(&dir, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(RemovalError::Io { path: dir, source }),
    }
    crate::crashpoint::hit("remove-after-rename");
    store.remove(id)?;
    crate::crashpoint::hit("remove-after-record");
    remove_tree(aside)
}

/// Completes every removal a crash interrupted (each `jobs/.removing-ID`): the record if
/// it is still stored, then the directory. Returns the jobs completed.
pub fn finish_interrupted(spool: &Spool, store: &Store) -> Result<Vec<JobId>, RemovalError> {
    let mut done = Vec::new();
    let Ok(rd) = std::fs::read_dir(spool.jobs()) else {
        return Ok(done);
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix(REMOVING_PREFIX))
            .and_then(JobId::parse)
        else {
            continue;
        };
        store.remove(&id)?;
        remove_tree(e.path())?;
        tracing::info!(
            job_id = id.as_str(),
            "completed the removal of a finished job that a stop interrupted"
        );
        done.push(id);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::record;
    use baseliner_core::state::{HistoryEntry, JobState, StepName};

    #[test]
    fn only_finished_jobs_past_the_age_are_expired() {
        let now = Timestamp(10_000_000);
        let mut old_done = record("20260101-000000-000001", "A", &["64.39.106.1"]);
        old_done.checkpoint.state = JobState::Canceled {
            scan_ref: None,
            last_scan: None,
        };
        old_done.checkpoint.history.push(HistoryEntry {
            step: StepName::Canceled,
            at: Timestamp(1_000),
        });
        let mut recent = old_done.clone();
        recent.id = JobId::parse("20260101-000000-000002").expect("id");
        recent.checkpoint.history.push(HistoryEntry {
            step: StepName::Canceled,
            at: now,
        });
        let mut running = record("20260101-000000-000003", "C", &["64.39.106.1"]);
        running.checkpoint.history.push(HistoryEntry {
            step: StepName::Accepted,
            at: Timestamp(0),
        });
        let ids = expired(
            &[old_done.clone(), recent, running],
            now,
            Duration::from_secs(60),
        );
        assert_eq!(ids, vec![old_done.id]);
    }

    #[test]
    fn an_interrupted_removal_is_completed_record_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("spool"));
        spool.create_dirs().expect("spool");
        let store = Store::open(&dir.path().join("state")).expect("store");
        let job = record("20260101-000000-000001", "A", &["64.39.106.1"]).job;
        let (rec, _) = store
            .accept("a.toml:1", "a.toml", &job, Timestamp(0))
            .expect("accept");
        let (kept, _) = store
            .accept("b.toml:1", "b.toml", &job, Timestamp(0))
            .expect("accept");
        for r in [&rec, &kept] {
            std::fs::create_dir_all(spool.job_dir(r.id.as_str())).expect("dir");
            std::fs::write(spool.status_file(r.id.as_str()), "{}").expect("status");
        }
        // A crash right after the rename: the intent is the renamed directory.
        std::fs::rename(spool.job_dir(rec.id.as_str()), aside(&spool, &rec.id)).expect("mv");
        assert_eq!(
            finish_interrupted(&spool, &store).expect("finish"),
            vec![rec.id.clone()]
        );
        assert_eq!(store.get(&rec.id).expect("get"), None);
        assert!(!aside(&spool, &rec.id).exists());
        assert!(store.get(&kept.id).expect("get").is_some(), "others stay");
        assert!(spool.status_file(kept.id.as_str()).exists());
        // Nothing left: nothing done. A whole removal works the same.
        assert!(finish_interrupted(&spool, &store)
            .expect("again")
            .is_empty());
        remove(&spool, &store, &kept.id).expect("remove");
        assert!(!spool.job_dir(kept.id.as_str()).exists());
        assert_eq!(store.get(&kept.id).expect("get"), None);
        remove(&spool, &store, &kept.id).expect("removing twice is no error");
    }
}
