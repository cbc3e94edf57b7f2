//! `baseliner demo`: no setup. Starts the simulator in-process on 127.0.0.1, runs the daemon
//! against it on a fresh spool and state directory, submits the sample job, shows each
//! step as it happens, and prints where the outputs are.

use super::out::Out;
use super::{runtime, Failure};
use crate::cli::DemoArgs;
use crate::engine::Engine;
use crate::exec::Executor;
use crate::governor::Governors;
use crate::sdnotify::Notifier;
use crate::signals::Signals;
use crate::spool::Spool;
use crate::status;
use crate::waits::StoreWaits;
use baseliner_core::config::Config;
use baseliner_core::job::JobDraft;
use baseliner_core::state::StepName;
use baseliner_core::store::Store;
use baseliner_core::time::Timestamp;
use baseliner_qualys::Secret;
use qualys_sim::{Sim, SimConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The demo gives up after this long.
const DEMO_LIMIT: Duration = Duration::from_secs(120);

/// Runs the command.
pub fn demo(args: &DemoArgs) -> Result<(), Failure> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "baseliner-demo-{}",
            Timestamp::now().to_rfc3339().replace([':', '-'], "")
        )),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", dir.display())))?;
    let rt = super::runtime_for_daemon()?;
    rt.block_on(run_demo(dir, args.scan_seconds))
}

async fn run_demo(dir: PathBuf, scan_seconds: u64) -> Result<(), Failure> {
    let sim_cfg = SimConfig {
        scan_queued: Duration::from_secs(1),
        scan_running: Duration::from_secs(scan_seconds.max(1)),
        scan_processing: Duration::from_secs(1),
        report_running: Duration::from_secs(2),
        ..SimConfig::default()
    };
    let sim = Sim::start(sim_cfg, ([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| runtime(anyhow::anyhow!("starting the simulator: {e}")))?;
    crate::outln!(
        Out::new(),
        "Qualys simulator listening on {} (loopback only)",
        sim.url()
    )?;
    let spool_dir = dir.join("spool");
    let state_dir = dir.join("state");
    let mut cfg = Config::demo(
        &sim.url(),
        spool_dir.clone(),
        state_dir.clone(),
        "64.39.106.0/24",
    );
    cfg.polling.scan_first_check = Duration::from_secs(2);
    cfg.polling.scan_every = Duration::from_secs(2);
    cfg.polling.report_every = Duration::from_secs(1);
    let spool = Spool::new(spool_dir.clone());
    spool.create_dirs().map_err(runtime)?;
    std::fs::create_dir_all(&state_dir).map_err(runtime)?;
    crate::lock::acquire(&spool, &state_dir)
        .map_err(runtime)?
        .hold_until_exit();
    let store = Arc::new(
        Store::open(&state_dir.join("store")).map_err(|e| runtime(anyhow::anyhow!("{e}")))?,
    );

    let job = JobDraft {
        organization: "Acme Corp".into(),
        ips: vec!["64.39.106.0-64.39.106.3".into()],
        option_title: Some("New IPs option profile".into()),
        report_template_id: Some(1),
        report_format: Some("pdf".into()),
        results: Some(vec!["report".into(), "raw".into()]),
        scanner_appliance: None,
        tracking_method: None,
        scan_title: None,
        comments: None,
    };
    let job_file = spool.incoming().join("acme-corp.toml");
    crate::fsutil::write_atomic(&job_file, job.to_toml().as_bytes()).map_err(runtime)?;
    crate::outln!(Out::new(), "submitted {}", job_file.display())?;

    let client = super::run::client_for(&cfg, Secret::new("demo"))?;
    let cfg = Arc::new(cfg);
    let gov = Governors::new(Some(Box::new(StoreWaits::new(store.clone()))));
    let exec = Arc::new(Executor::new(client, gov, cfg.clone()));
    let signals = Signals::install().map_err(runtime)?;
    let mut engine = Engine::new(
        cfg,
        store.clone(),
        exec,
        signals.clone(),
        Notifier::disabled(),
    )
    .map_err(|e| runtime(anyhow::anyhow!("{e}")))?;

    let watcher = tokio::spawn(show_progress(spool.clone(), signals.clone()));
    let limit = {
        let signals = signals.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DEMO_LIMIT).await;
            signals.request_stop();
        })
    };
    let started = std::time::Instant::now();
    let summary = engine.run(true).await;
    limit.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    watcher.abort();
    sim.shutdown().await;

    let (all, _) = status::read_all(&spool).map_err(runtime)?;
    let mut out = Out::new();
    crate::outln!(out)?;
    for st in &all {
        crate::outln!(out, "job {} ({}) is {}", st.id, st.organization, st.state)?;
        if let Some(e) = &st.error {
            crate::outln!(out, "  error: {e}")?;
        }
        let dir = spool.job_dir(&st.id);
        for f in std::iter::once("status.json".to_string()).chain(st.outputs.iter().cloned()) {
            crate::outln!(out, "  {}", dir.join(f).display())?;
        }
    }
    crate::outln!(
        out,
        "demo finished in {:.1}s; spool {}, state {}",
        started.elapsed().as_secs_f64(),
        spool_dir.display(),
        state_dir.display()
    )?;
    if summary.unfinished > 0 || all.iter().any(|s| s.state != StepName::Done) {
        return Err(runtime(anyhow::anyhow!(
            "the demo job did not finish (see the status above)"
        )));
    }
    Ok(())
}

/// Prints each job's new steps and scan states as its status file changes; when standard
/// output is gone, stops the demo (which then ends quietly at its next line).
async fn show_progress(spool: Spool, signals: Signals) {
    if progress(&spool).await.is_err() {
        signals.request_stop();
    }
}

async fn progress(spool: &Spool) -> Result<(), Failure> {
    let mut seen: HashMap<String, (usize, Option<String>)> = HashMap::new();
    loop {
        if let Ok((all, _)) = status::read_all(spool) {
            for st in all {
                let entry = seen.entry(st.id.clone()).or_insert((0, None));
                for h in st.history.iter().skip(entry.0) {
                    crate::outln!(
                        Out::new(),
                        "{}  {}  {:<16} {}",
                        clock(&h.at),
                        st.id,
                        h.state,
                        st.organization
                    )?;
                }
                entry.0 = st.history.len();
                if st.scan_state != entry.1 {
                    if let Some(s) = &st.scan_state {
                        crate::outln!(
                            Out::new(),
                            "{}  {}  {:<16} scan {} is {s}",
                            clock(&st.updated_at),
                            st.id,
                            "",
                            st.scan_ref.as_deref().unwrap_or("?")
                        )?;
                    }
                    entry.1 = st.scan_state.clone();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn clock(rfc3339: &str) -> &str {
    rfc3339.get(11..19).unwrap_or(rfc3339)
}
