//! `baseliner cancel ID`: drops a cancel request (`SPOOL/cancel/ID`) for the daemon.
//! Never opens the store.

use super::{runtime, usage, Failure};
use crate::daemon_status;
use crate::fsutil;
use crate::spool::Spool;
use crate::status;
use baseliner_core::config::Config;
use baseliner_core::store::JobId;
use baseliner_core::text::table_cell;

/// Runs the command.
pub fn cancel(cfg: &Config, id: &str) -> Result<(), Failure> {
    let spool = Spool::new(cfg.paths.spool.clone());
    let Some(id) = JobId::parse(id) else {
        return Err(usage(anyhow::anyhow!(
            "{id:?} is not a job id (see `baseliner status`)"
        )));
    };
    let st = status::read(&spool.status_file(id.as_str()))
        .map_err(|e| usage(anyhow::anyhow!("no job {id}: {e}")))?;
    if st.is_terminal() {
        // Not bad usage: the job exists, it just has nothing left to cancel.
        return Err(runtime(anyhow::anyhow!(
            "job {id} is finished ({}): nothing to cancel",
            st.shown_state()
        )));
    }
    fsutil::ensure_dir(&spool.cancel()).map_err(runtime)?;
    fsutil::write_atomic(&spool.cancel().join(id.as_str()), b"").map_err(runtime)?;
    let running = daemon_status::observe(&spool).running();
    crate::outln!(
        super::out::Out::new(),
        "cancel requested for {id} ({}); {}",
        table_cell(&st.organization),
        if running {
            "the daemon applies it within seconds"
        } else {
            "the daemon is not running: it applies it when it starts"
        }
    )
}
