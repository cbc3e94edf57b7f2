//! `baseliner hold ID` / `baseliner release ID`: asks the daemon to hold a job (it takes no
//! new action; an action in flight finishes) or to release it (`SPOOL/hold/ID`, holding
//! `hold` or `release`: the latest request wins). Never opens the store.

use super::retry::job_status;
use super::{runtime, Failure};
use crate::daemon_status;
use crate::fsutil;
use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::text::table_cell;

/// Runs `hold` (`hold == true`) or `release`.
pub fn hold(cfg: &Config, id: &str, hold: bool) -> Result<(), Failure> {
    let spool = Spool::new(cfg.paths.spool.clone());
    let (id, st) = job_status(&spool, id)?;
    let verb = if hold { "hold" } else { "release" };
    if st.is_terminal() {
        return Err(runtime(anyhow::anyhow!(
            "job {id} is finished ({}): nothing to {verb}",
            st.shown_state()
        )));
    }
    let request = spool.hold().join(id.as_str());
    let pending = crate::requests::read_small(&request).ok();
    let will_be_held = match pending.as_deref() {
        Some("" | "hold") => true,
        Some("release") => false,
        _ => st.held,
    };
    if will_be_held == hold {
        println!(
            "job {id} is already {}",
            if hold { "held" } else { "not held" }
        );
        return Ok(());
    }
    fsutil::ensure_dir(&spool.hold()).map_err(runtime)?;
    fsutil::write_atomic_shared(&request, format!("{verb}\n").as_bytes()).map_err(|e| {
        runtime(anyhow::anyhow!(
            "{}: {e} (a request another user wrote is still pending: try again in a few \
             seconds)",
            request.display()
        ))
    })?;
    let running = daemon_status::observe(&spool).running();
    println!(
        "{verb} requested for {id} ({}); {}",
        table_cell(&st.organization),
        if running {
            "the daemon applies it within seconds"
        } else {
            "the daemon is not running: it applies it when it starts"
        }
    );
    Ok(())
}
