//! Workflow benchmarks, in process (the daemon library against the simulator on 127.0.0.1):
//!
//! 1. API calls per job at 1, 10 and 100 concurrent jobs, with a 30-minute scan and
//!    5-minute polls on a scaled clock (1 simulated minute = `MINUTE` real time: the
//!    simulator's scan/report timings and the daemon's `[polling]` durations are both
//!    set in scaled minutes), counted from the simulator's journal, per API;
//! 2. from those counts, jobs per hour under a 300 calls/hour limit;
//! 3. end-to-end jobs per second with every simulated delay at zero and no limits, and
//!    store flushes (fsyncs) per job.
//!
//! Run with `cargo bench -p baseliner --bench workflow`.

use baseliner::engine::Engine;
use baseliner::exec::Executor;
use baseliner::governor::Governors;
use baseliner::sdnotify::Notifier;
use baseliner::signals::Signals;
use baseliner::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::job::JobDraft;
use baseliner_core::store::Store;
use baseliner_qualys::{Client, ClientConfig, Secret};
use qualys_sim::{Sim, SimConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One simulated minute of real time.
const MINUTE: Duration = Duration::from_millis(20);

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// What one run measured.
struct Run {
    jobs: usize,
    wall: Duration,
    calls: BTreeMap<String, usize>,
    transitions: u64,
    done: usize,
}

impl Run {
    fn total(&self) -> usize {
        self.calls.values().sum()
    }
}

fn minutes(n: u32) -> Duration {
    MINUTE * n
}

/// Runs `jobs` one-address jobs to completion against a simulator with `sim_cfg`.
async fn run(jobs: usize, sim_cfg: SimConfig, polling: [Duration; 3]) -> BenchResult<Run> {
    let tmp = tempfile::tempdir()?;
    let sim = Sim::start(sim_cfg, ([127, 0, 0, 1], 0).into()).await?;
    let mut cfg = Config::demo(
        &sim.url(),
        tmp.path().join("spool"),
        tmp.path().join("state"),
        "64.39.96.0/20",
    );
    cfg.polling.scan_first_check = polling[0];
    cfg.polling.scan_every = polling[1];
    cfg.polling.report_every = polling[2];
    cfg.limits.max_active_jobs = jobs.max(1);
    let spool = Spool::new(cfg.paths.spool.clone());
    spool.create_dirs()?;
    std::fs::create_dir_all(&cfg.paths.state)?;
    let store = Arc::new(Store::open(&cfg.paths.state.join("store"))?);
    for n in 0..jobs {
        let draft = JobDraft {
            organization: format!("Bench {n}"),
            ips: vec![format!("64.39.{}.{}", 96 + n / 250, n % 250)],
            option_title: Some("New IPs option profile".into()),
            report_template_id: Some(1),
            report_format: Some("pdf".into()),
            results: Some(vec!["report".into(), "raw".into()]),
            scanner_appliance: None,
            tracking_method: None,
            scan_title: None,
            comments: None,
        };
        baseliner::fsutil::write_atomic(
            &spool.incoming().join(format!("bench{n:04}.toml")),
            draft.to_toml().as_bytes(),
        )?;
    }
    let mut client_cfg = ClientConfig::new(sim.url(), "demo", Secret::new("demo"));
    client_cfg.request_timeout = Duration::from_secs(30);
    let client = Client::new(client_cfg)?;
    let cfg = Arc::new(cfg);
    let exec = Arc::new(Executor::new(client, Governors::new(None), cfg.clone()));
    let mut engine = Engine::new(cfg, store, exec, Signals::none(), Notifier::disabled())?;
    let t = Instant::now();
    let summary = engine.run(true).await;
    let wall = t.elapsed();
    let journal = sim.journal();
    let (statuses, _) = baseliner::status::read_all(&spool)?;
    sim.shutdown().await;
    let mut calls = BTreeMap::new();
    for e in &journal {
        *calls.entry(e.api.clone()).or_insert(0) += 1;
    }
    Ok(Run {
        jobs,
        wall,
        calls,
        transitions: summary.transitions,
        done: statuses
            .iter()
            .filter(|s| s.state == baseliner_core::state::StepName::Done)
            .count(),
    })
}

/// The scaled workflow: a 30-minute scan (1 queued, 27 running, 2 processing), a 2-minute
/// report, first scan check at 7 minutes, then every 5; reports every minute.
fn scaled() -> (SimConfig, [Duration; 3]) {
    let sim = SimConfig {
        scan_queued: minutes(1),
        scan_running: minutes(27),
        scan_processing: minutes(2),
        report_running: minutes(2),
        rate_limit: 1_000_000,
        rate_window: Duration::from_secs(3600),
        concurrency_limit: 2,
        ..SimConfig::default()
    };
    (sim, [minutes(7), minutes(5), minutes(1)])
}

fn short(api: &str) -> String {
    api.replace("/api/2.0/fo/", "v2 ")
        .replace("/api/3.0/fo/", "v3 ")
        .replace("/?action=", " ")
}

fn main() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "== API calls per job (1 simulated minute = {MINUTE:?}; scan 30 min, polls every 5 min)"
    );
    let mut at_scale = None;
    for jobs in [1usize, 10, 100] {
        let (sim, polling) = scaled();
        let r = rt.block_on(run(jobs, sim, polling))?;
        println!(
            "{:>4} jobs: {} done in {:.2}s, {} calls = {:.2} calls/job",
            r.jobs,
            r.done,
            r.wall.as_secs_f64(),
            r.total(),
            r.total() as f64 / r.jobs as f64
        );
        for (api, n) in &r.calls {
            println!(
                "       {:<28} {:>5}  ({:.2}/job)",
                short(api),
                n,
                *n as f64 / r.jobs as f64
            );
        }
        if jobs == 100 {
            at_scale = Some(r);
        }
    }
    if let Some(r) = &at_scale {
        let per_job = r.total() as f64 / r.jobs as f64;
        let worst = r
            .calls
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(a, n)| (short(a), *n as f64 / r.jobs as f64));
        println!("== Jobs per hour under 300 calls/hour (from the 100-job run)");
        println!(
            "  one budget for every API:  300 / {per_job:.2} = {:.0} jobs/hour",
            300.0 / per_job
        );
        if let Some((api, n)) = worst {
            println!(
                "  300 per API (the busiest is {api}, {n:.2}/job): {:.0} jobs/hour",
                300.0 / n
            );
        }
    }

    println!("== End to end, zero latency, no limits");
    let jobs = 200;
    let sim = SimConfig {
        scan_queued: Duration::ZERO,
        scan_running: Duration::ZERO,
        scan_processing: Duration::ZERO,
        report_running: Duration::ZERO,
        rate_limit: 1_000_000,
        rate_window: Duration::from_secs(3600),
        concurrency_limit: 1000,
        ..SimConfig::default()
    };
    let ms = Duration::from_millis(1);
    let r = rt.block_on(run(jobs, sim, [ms, ms, ms]))?;
    println!(
        "{} jobs ({} done) in {:.2}s = {:.1} jobs/s; {} calls; {} commits = {:.1} commits/job",
        r.jobs,
        r.done,
        r.wall.as_secs_f64(),
        r.jobs as f64 / r.wall.as_secs_f64(),
        r.total(),
        r.transitions,
        r.transitions as f64 / r.jobs as f64
    );
    // Store::accept and every Store::commit end in one sled flush (fsync).
    println!(
        "store flushes per job: {:.1} (1 accept + {:.1} commits)",
        1.0 + r.transitions as f64 / r.jobs as f64,
        r.transitions as f64 / r.jobs as f64
    );
    Ok(())
}
