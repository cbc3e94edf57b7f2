//! `baseliner run`: the daemon. Opens the store (which sled locks: a second daemon on the
//! same state directory is refused), recovers every unfinished job, and runs the loop
//! until SIGTERM/SIGINT.

use super::{refused, runtime, Failure};
use crate::engine::Engine;
use crate::exec::Executor;
use crate::governor::Governors;
use crate::sdnotify::Notifier;
use crate::signals::Signals;
use crate::spool::Spool;
use crate::waits::StoreWaits;
use baseliner_core::config::Config;
use baseliner_qualys::{Client, Secret};
use std::path::Path;
use std::sync::Arc;

/// Runs the daemon with the config at `path`.
pub fn run(path: &Path) -> Result<(), Failure> {
    // Before any secret is read: a child (the alert command) may not read our memory or
    // /proc/PID/environ, where the password may be.
    crate::harden::forbid_dumps()
        .map_err(|e| runtime(anyhow::anyhow!("cannot mark the daemon non-dumpable: {e}")))?;
    // The same checks as check-config and every SIGHUP.
    let checked = crate::preflight::check(path).map_err(refused)?;
    tracing::info!("password from {}", checked.source);
    let reload_path = path.to_path_buf();
    let summary = run_with(
        checked.config,
        checked.password,
        Signals::install().map_err(runtime)?,
        Notifier::from_env(),
        move || {
            crate::preflight::check(&reload_path)
                .map(|c| c.config)
                .map_err(|e| e.to_string())
        },
    )?;
    tracing::info!(
        "stopped: {} transition(s) this run, {} job(s) unfinished",
        summary.transitions,
        summary.unfinished
    );
    Ok(())
}

/// Runs the daemon with an already loaded config until a stop is requested.
pub fn run_with(
    cfg: Config,
    password: Secret,
    signals: Signals,
    notifier: Notifier,
    reload: impl Fn() -> Result<Config, String> + Send + 'static,
) -> Result<crate::engine::Summary, Failure> {
    if let Some(point) = crate::crashpoint::armed_point() {
        tracing::warn!(
            "BASELINER_CRASH_AT={point}: this process aborts at that crash point (testing only)"
        );
    }
    let spool = Spool::new(cfg.paths.spool.clone());
    spool
        .create_dirs()
        .map_err(|e| runtime(anyhow::anyhow!("spool {}: {e}", spool.root().display())))?;
    std::fs::create_dir_all(&cfg.paths.state)
        .map_err(|e| runtime(anyhow::anyhow!("state {}: {e}", cfg.paths.state.display())))?;
    // One daemon per spool and per state directory: refused before anything is written.
    crate::lock::acquire(&spool, &cfg.paths.state)
        .map_err(runtime)?
        .hold_until_exit();
    let store = Arc::new(
        crate::recovery::open_store(&cfg.paths.state.join("store"))
            .map_err(|e| runtime(anyhow::anyhow!("{e}")))?,
    );
    crate::crashpoint::arm_store_fault(&store);
    let client = client_for(&cfg, password)?;
    let rt = super::runtime_for_daemon()?;
    let cfg = Arc::new(cfg);
    let summary = rt.block_on(async {
        // Bad credentials or an unreachable platform show now, not at the first job.
        let pause = crate::probe::check(&client).await;
        let gov = Governors::new(Some(Box::new(StoreWaits::new(store.clone()))));
        let exec = Arc::new(Executor::new(client, gov, cfg.clone()));
        let mut engine = Engine::new(cfg.clone(), store.clone(), exec, signals, notifier)
            .map_err(|e| runtime(anyhow::anyhow!("{e}")))?;
        engine.on_reload(reload);
        engine.set_pause(pause);
        tracing::info!("recovered {} unfinished job(s)", engine.unfinished());
        Ok::<_, Failure>(engine.run(false).await)
    });
    // Do not wait for blocking work still running (an alert command can take a minute):
    // its job resumes from its checkpoint at the next start, and the stop stays prompt.
    rt.shutdown_timeout(STOP_LEFTOVERS);
    summary
}

/// How long a stop waits for blocking tasks the run loop left behind.
const STOP_LEFTOVERS: std::time::Duration = std::time::Duration::from_secs(1);

/// Builds the Qualys client from the config ([`crate::preflight::client`]).
pub fn client_for(cfg: &Config, password: Secret) -> Result<Client, Failure> {
    crate::preflight::client(cfg, password).map_err(refused)
}
