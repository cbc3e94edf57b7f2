//! The crash suite: the real `baseliner run` killed with SIGKILL at pseudo-random moments,
//! and aborted at every named crash point, then restarted; afterwards every job is done,
//! every effect on Qualys happened exactly once, no spool file was lost or taken twice,
//! and no output is half-written (see [`assert_exactly_once`]).
//!
//! `BASELINER_SOAK=N` multiplies the rounds by N (a longer soak; see README "Testing").

use crate::support::*;
use baseliner::crashpoint::POINTS;
use std::process::Child;
use std::time::{Duration, Instant};

/// Per-job crash points, also tried at their 2nd and 3rd hit.
const PER_JOB: &[&str] = &[
    "before-intent",
    "after-intent",
    "after-effect",
    "after-commit",
    "before-status",
];

/// How many times the soak multiplies the rounds (1 unless `BASELINER_SOAK` says more).
fn soak() -> u64 {
    std::env::var("BASELINER_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// A deterministic xorshift64 step.
fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// A world with millisecond polling, so that jobs move through their steps between kills.
/// Alerts are on for every finding (severity 1 and up): the command appends the job id to
/// `alerts.log` and the webhook receiver each body to `webhooks.log` in the test
/// directory, so a repeated alert shows.
async fn crash_world() -> World {
    let w = World::new(fast_sim()).await;
    w.set_polling("200ms", "200ms", "200ms");
    // A lookup that finds nothing proves absence 3 s + 2 s (the test config's
    // absence_margin) after the send: longer than a slow-applied launch takes inside the
    // simulator (SLOW_APPLY), as in Qualys.
    w.replace_config("request_timeout = \"5s\"", "request_timeout = \"3s\"");
    let log = w.dir.path().join("alerts.log");
    let (hook, _) = webhook_receiver(Some(w.dir.path().join("webhooks.log"))).await;
    let mut text = read(&w.config);
    text.push_str(&format!(
        "\n[alerts]\nmin_severity = 1\ncommand = [\"sh\", \"-c\", \"echo \\\"$1\\\" >> {}\", \"alert\"]\nwebhook = \"{hook}\"\n",
        log.display()
    ));
    std::fs::write(&w.config, text).expect("config with alerts");
    w
}

/// How long after its arrival a slow-applied mutation takes effect in the crash suite:
/// long enough that a kill usually lands while it is in flight, and that the restarted
/// daemon's first lookup runs before it is applied (qualys-api.md §2.4).
const SLOW_APPLY: Duration = Duration::from_millis(1500);

/// The crash suite's faults on the four mutations: a fifth applied with the answer lost,
/// and a third applied slowly (after the daemon that sent them may have been killed).
fn crash_faults(seed: u64) -> qualys_sim::Faults {
    qualys_sim::Faults {
        seed,
        p_drop_after_apply: 0.2,
        p_slow_apply: 0.35,
        slow_apply: SLOW_APPLY,
        only_apis: [
            LAUNCH_SCAN_API,
            LAUNCH_REPORT_API,
            ADD_GROUP_API,
            EDIT_GROUP_API,
        ]
        .map(String::from)
        .to_vec(),
        ..qualys_sim::Faults::default()
    }
}

/// No job's alert command ran twice, and at least one ran.
fn assert_alerts_at_most_once(w: &World) {
    let log = std::fs::read_to_string(w.dir.path().join("alerts.log")).unwrap_or_default();
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for id in log.lines() {
        *seen.entry(id).or_default() += 1;
    }
    assert!(!seen.is_empty(), "no alert command ran");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "alert commands run more than once: {twice:?}"
    );
    // The webhook: each job's POST at most once too.
    let hooks = std::fs::read_to_string(w.dir.path().join("webhooks.log")).unwrap_or_default();
    let mut posted = std::collections::HashMap::<String, usize>::new();
    for line in hooks.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("webhook body is JSON");
        let id = v["job_id"].as_str().expect("job_id").to_string();
        *posted.entry(id).or_default() += 1;
    }
    assert!(!posted.is_empty(), "no webhook was posted");
    let twice: Vec<_> = posted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "webhooks posted more than once: {twice:?}"
    );
}

/// Drops the next numbered job (a fresh organization and address) and records it.
fn drop_next(w: &World, dropped: &mut Vec<(String, String)>) {
    let n = dropped.len();
    let name = format!("crash{n:03}.toml");
    let content = job_toml(
        &format!("Crash Org {n}"),
        &[&format!("64.39.{}.{}", 97 + n / 250, n % 250)],
    );
    w.drop_job(&name, &content);
    dropped.push((name, content));
}

fn kill9(child: &mut Child) {
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

/// Runs the daemon without crash points until every job is finished (or `limit`), stops it
/// with SIGTERM, and checks the guarantees; a stuck or failed job is reported with the
/// specific violation.
async fn finish_and_check(w: &mut World, dropped: &[(String, String)], limit: Duration) {
    let mut daemon = w.start_daemon();
    let t = Instant::now();
    while !all_finished(dropped.len())(&w.statuses()) && t.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_ready(w, &daemon).await;
    sigterm(&daemon);
    let code = wait_exit(&mut daemon, Duration::from_secs(15));
    assert_exactly_once(w, dropped);
    assert_alerts_at_most_once(w);
    assert_eq!(code, Some(0), "clean stop after the crashes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_repeats_nothing() {
    let started = Instant::now();
    let mut w = crash_world().await;
    // A fifth of the changes are applied and their response lost, and a third applied
    // slowly, so that a kill often lands while a launch is in flight or its outcome unknown.
    w.sim.set_faults(crash_faults(7 + soak()));
    let jobs = 20;
    let rounds = 50 * soak();
    let mut dropped = Vec::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut kills = 0;
    for round in 0..rounds {
        // Spread the drops over the first rounds so that intake is interrupted too.
        if round % 2 == 0 && dropped.len() < jobs {
            drop_next(&w, &mut dropped);
        }
        let mut daemon = w.start_daemon();
        let ms = 100 + next(&mut rng) % 700;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        assert!(
            daemon.try_wait().expect("try_wait").is_none(),
            "the daemon exited on its own in round {round}\n{}",
            w.logs()
        );
        kill9(&mut daemon);
        kills += 1;
    }
    while dropped.len() < jobs {
        drop_next(&w, &mut dropped);
    }
    finish_and_check(&mut w, &dropped, Duration::from_secs(60)).await;
    assert!(kills >= 50, "only {kills} kills");
    eprintln!(
        "crash suite: {kills} SIGKILLs over {jobs} jobs in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_crash_point_is_recovered_from() {
    let started = Instant::now();
    let mut w = crash_world().await;
    let mut variants: Vec<String> = Vec::new();
    for _ in 0..soak() {
        for p in POINTS {
            variants.push(p.to_string());
            if PER_JOB.contains(p) {
                variants.push(format!("{p}@2"));
                variants.push(format!("{p}@3"));
            }
        }
    }
    let mut dropped = Vec::new();
    let mut unreached = Vec::new();
    for v in &variants {
        // Fresh work for every variant: enough intakes and steps for the N-th hit.
        let nth: usize = v.split_once('@').map_or(1, |(_, n)| n.parse().unwrap_or(1));
        for _ in 0..nth {
            drop_next(&w, &mut dropped);
        }
        let mut daemon = w.start_daemon_with(&[("BASELINER_CRASH_AT", v)]);
        let t = Instant::now();
        let mut extra = 0;
        let aborted = loop {
            if let Some(st) = daemon.try_wait().expect("try_wait") {
                break Some(st);
            }
            // Late points (the alert, the webhook) need a job to get all the way through:
            // give the daemon more work every 15 s, up to a minute, before giving up.
            if t.elapsed() > Duration::from_secs(15 * (extra + 1)) {
                if extra == 3 {
                    kill9(&mut daemon);
                    break None;
                }
                drop_next(&w, &mut dropped);
                extra += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        match aborted {
            Some(st) => assert!(
                st.code().is_none(),
                "{v}: the daemon exited with {st} instead of aborting\n{}",
                w.logs()
            ),
            None => unreached.push(v.clone()),
        }
        // Restart without the crash point and let it recover and make progress.
        let mut clean = w.start_daemon();
        tokio::time::sleep(Duration::from_millis(700)).await;
        kill9(&mut clean);
    }
    assert!(
        unreached.is_empty(),
        "crash points never reached: {unreached:?}"
    );
    finish_and_check(&mut w, &dropped, Duration::from_secs(60)).await;
    eprintln!(
        "crash points: {} variants over {} jobs in {:.1}s",
        variants.len(),
        dropped.len(),
        started.elapsed().as_secs_f64()
    );
}
