//! `baseliner retry ID`: asks the daemon for a new job with the fields of a failed or
//! canceled one (`SPOOL/retry/ID`). Never opens the store: the daemon applies the request
//! and links the two jobs (`retry_of`, `retried_as`); this waits a little for the link.

use super::{runtime, usage, Failure};
use crate::daemon_status;
use crate::fsutil;
use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::config::Config;
use baseliner_core::store::JobId;
use baseliner_core::text::table_cell;
use std::time::{Duration, Instant};

/// How long `retry` waits for the daemon to name the new job.
const WAIT: Duration = Duration::from_secs(15);

/// Reads job `id`'s status file; a bad id or a missing job is bad usage (as for `cancel`).
pub(super) fn job_status(spool: &Spool, id: &str) -> Result<(JobId, JobStatus), Failure> {
    let Some(id) = JobId::parse(id) else {
        return Err(usage(anyhow::anyhow!(
            "{id:?} is not a job id (see `baseliner status`; a file still queued in incoming/ \
             is not a job yet)"
        )));
    };
    let st = status::read(&spool.status_file(id.as_str()))
        .map_err(|e| usage(anyhow::anyhow!("no job {id}: {e}")))?;
    Ok((id, st))
}

/// Runs the command.
pub fn retry(cfg: &Config, id: &str) -> Result<(), Failure> {
    let spool = Spool::new(cfg.paths.spool.clone());
    let (id, st) = job_status(&spool, id)?;
    let retried_as = st.retried_as.as_deref().and_then(JobId::parse);
    let Some(rec) = st.published().and_then(|p| p.record) else {
        return Err(runtime(anyhow::anyhow!(
            "job {id}: its status.json carries no record (written by an older version): submit \
             jobs/{id}/job.toml again instead"
        )));
    };
    baseliner_core::queue::retryable(&id, &rec.checkpoint.state, retried_as.as_ref())
        .map_err(runtime)?;
    fsutil::ensure_dir(&spool.retry()).map_err(runtime)?;
    fsutil::write_atomic(&spool.retry().join(id.as_str()), b"").map_err(runtime)?;
    let org = table_cell(&st.organization).into_owned();
    if !daemon_status::observe(&spool).running() {
        println!(
            "retry requested for {id} ({org}); the daemon is not running: it creates the new job \
             when it starts"
        );
        return Ok(());
    }
    let started = Instant::now();
    while started.elapsed() < WAIT {
        if let Some(new) = status::read(&spool.status_file(id.as_str()))
            .ok()
            .and_then(|s| s.retried_as)
        {
            println!("{id} ({org}) retried as {}", table_cell(&new));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "retry requested for {id} ({org}); the daemon has not applied it yet: `baseliner status \
         {id}` shows the new job once it has"
    );
    Ok(())
}
