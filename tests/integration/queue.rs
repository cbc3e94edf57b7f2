//! Job management like a mail queue, through the real binary and the simulator: `retry`
//! (one new job per request, linked both ways, also across kill -9 at its crash points),
//! `hold`/`release` (no call for a held job, across a restart), `[retention]` and `purge`
//! (finished jobs only, crash-safe), and hostile request files.

use crate::support::*;
use baseliner::crashpoint::QUEUE_POINTS;
use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A job the simulator fails at its scan launch (no such option profile).
fn failing_job(org: &str, ip: &str) -> String {
    format!(
        "{}option_title = \"No Such Profile\"\n",
        job_toml(org, &[ip])
    )
}

fn id_of(st: &Value) -> String {
    st["id"].as_str().expect("id").to_string()
}

/// Waits for a daemon started at a crash point to abort there.
fn wait_abort(w: &World, daemon: &mut Daemon, point: &str) {
    let t = Instant::now();
    loop {
        if let Some(st) = daemon.try_wait().expect("try_wait") {
            assert!(
                st.code().is_none(),
                "{point}: exited with {st}\n{}",
                w.logs()
            );
            assert!(
                w.last_log()
                    .contains(&format!("crash point {point} reached")),
                "{point}\n{}",
                w.logs()
            );
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{point} never reached\n{}",
            w.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn stop(w: &World, daemon: &mut Daemon) {
    wait_ready(w, daemon).await;
    sigterm(daemon);
    assert_eq!(
        wait_exit(daemon, Duration::from_secs(10)),
        Some(0),
        "{}",
        w.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_makes_exactly_one_linked_job_with_the_same_fields_across_kill_9() {
    let mut w = World::new(fast_sim()).await;
    w.drop_job("bad.toml", &failing_job("Retry Org", "64.39.106.70"));
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(20), "the failure", all_finished(1))
        .await;
    stop(&w, &mut daemon).await;
    let old = w.statuses()[0].clone();
    assert_eq!(old["state"], "failed", "{old:#}");
    let old_id = id_of(&old);

    // Asked twice before the daemon applies it: one request, one job.
    for _ in 0..2 {
        let o = w.cli(&["retry", &old_id]);
        assert!(o.status.success(), "{}", out(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("the daemon is not running"),
            "{}",
            out(&o)
        );
    }
    // kill -9 after the new job is recorded, then after both files are published: the
    // request is applied again each time, and completes the same job.
    for point in QUEUE_POINTS.iter().filter(|p| p.starts_with("retry-")) {
        let mut crashing = w.start_daemon_with(&[("BASELINER_CRASH_AT", point)]);
        wait_abort(&w, &mut crashing, point);
    }
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(20), "the retry to fail too", |s| {
        all_finished(2)(s) && s[0]["retried_as"].is_string()
    })
    .await;
    stop(&w, &mut daemon).await;
    let statuses = w.statuses();
    assert_eq!(statuses.len(), 2, "exactly one new job: {statuses:#?}");
    let new_id = id_of(&statuses[1]);
    assert_eq!(statuses[0]["retried_as"], new_id.as_str());
    assert_eq!(statuses[0]["retry_of"], Value::Null);
    assert_eq!(statuses[1]["retry_of"], old_id.as_str());
    assert_eq!(statuses[1]["retried_as"], Value::Null);
    assert_eq!(statuses[1]["source"], format!("retry of {old_id}"));
    assert_eq!(
        read(&w.job_dir(&new_id).join("job.toml")),
        read(&w.job_dir(&old_id).join("job.toml")),
        "the same fields"
    );
    let launches = applied_matching(
        &w.journal(),
        "/api/2.0/fo/scan/?action=launch",
        "scan_title",
        "",
    );
    assert_eq!(launches, 0, "the simulator refused both launches");
    let attempts = w
        .journal()
        .iter()
        .filter(|e| e.api == "/api/2.0/fo/scan/?action=launch")
        .filter(|e| param(e, "scan_title").is_some_and(|t| t.contains(&new_id)))
        .count();
    assert!(attempts >= 1, "the new job ran under its own id");
    assert_eq!(
        std::fs::read_dir(w.spool.join("retry"))
            .expect("retry/")
            .count(),
        0,
        "the request went once applied"
    );
    // A second retry of the same job is refused, naming its retry.
    let again = w.cli(&["retry", &old_id]);
    assert_eq!(again.status.code(), Some(1), "{}", out(&again));
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(
        e.contains(&format!("already retried as {new_id}")),
        "{}",
        out(&again)
    );
    // The status table shows the link's source; bad ids are bad usage.
    assert_eq!(w.cli(&["retry", "../../etc"]).status.code(), Some(2));
    assert_eq!(
        w.cli(&["retry", "20990101-000000-999999"]).status.code(),
        Some(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_job_sends_nothing_across_a_restart_and_a_release_resumes_it() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(2);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("held.toml", &job_toml("Held Org", &["64.39.106.71"]));
    w.wait_for(Duration::from_secs(20), "the scan to run", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    let id = id_of(&w.statuses()[0]);
    let running = w.cli(&["retry", &id]);
    assert_eq!(running.status.code(), Some(1), "{}", out(&running));
    assert!(
        String::from_utf8_lossy(&running.stderr)
            .contains("only a failed or canceled job can be retried"),
        "{}",
        out(&running)
    );
    let o = w.cli(&["hold", &id]);
    assert!(o.status.success(), "{}", out(&o));
    w.wait_for(Duration::from_secs(10), "the hold", |s| {
        s[0]["held"] == true
    })
    .await;
    let table = w.cli(&["status"]);
    assert!(
        String::from_utf8_lossy(&table.stdout)
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("held")),
        "{}",
        out(&table)
    );
    // A restart keeps the hold (it is in the store).
    stop(&w, &mut daemon).await;
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    // A poll that was in flight when the hold was applied has arrived by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let since = SystemTime::now();
    // Every call since then (the only job is the held one; the login check at start came
    // before READY).
    let calls_since = |w: &World| w.journal().iter().filter(|e| e.at >= since).count();
    let polls_since = |w: &World| {
        w.journal()
            .iter()
            .filter(|e| e.at >= since && e.api.ends_with("/fo/scan/?action=list"))
            .count()
    };
    // Longer than the scan takes and several poll intervals: an absence, so waited out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(calls_since(&w), 0, "no call for the held job\n{}", w.logs());
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "scan_running", "{st:#}");
    assert_eq!(st["held"], true);
    let o = w.cli(&["release", &id]);
    assert!(o.status.success(), "{}", out(&o));
    w.wait_for(Duration::from_secs(30), "the released job", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "done", "{st:#}");
    assert_eq!(st["held"], false);
    assert!(polls_since(&w) >= 1);
    let finished = w.cli(&["hold", &id]);
    assert_eq!(finished.status.code(), Some(1), "{}", out(&finished));
    stop(&w, &mut daemon).await;
}

/// Appends `[retention]` to the world's config.
fn retention(w: &World, remove_after: &str) {
    let text = format!(
        "{}\n[retention]\nremove_after = \"{remove_after}\"\n",
        read(&w.config)
    );
    std::fs::write(&w.config, text).expect("config");
}

fn job_dirs(w: &World) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(w.spool.join("jobs"))
        .expect("jobs/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_finished_jobs_never_a_running_one_and_survives_kill_9() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(5);
    let mut w = World::new(sim).await;
    retention(&w, "1s");
    w.drop_job("a-bad.toml", &failing_job("Short Org", "64.39.106.72"));
    w.drop_job("b-long.toml", &job_toml("Long Org", &["64.39.106.73"]));
    // Killed between hiding the failed job's directory and deleting its record.
    let mut crashing = w.start_daemon_with(&[("BASELINER_CRASH_AT", "remove-after-rename")]);
    wait_abort(&w, &mut crashing, "remove-after-rename");
    let dirs = job_dirs(&w);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(dirs[0].starts_with(".removing-"), "{dirs:?}");
    let long_id = dirs[1].clone();
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    assert_eq!(job_dirs(&w), vec![long_id.clone()], "the removal completed");
    // The long job is older than the retention but unfinished: it stays and finishes.
    let st = &w.statuses()[0];
    assert_eq!(st["id"], long_id.as_str());
    assert!(
        !all_finished(1)(&w.statuses()),
        "still running at this point: {st:#}"
    );
    w.wait_for(Duration::from_secs(30), "the long job to finish", |s| {
        s.iter().any(|s| s["state"] == "done")
    })
    .await;
    let t = Instant::now();
    while !job_dirs(&w).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "the done job stays: {:?}\n{}",
            job_dirs(&w),
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(&w, &mut daemon).await;
    // Nothing comes back from the store at the next start: the records went too.
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    stop(&w, &mut daemon).await;
    assert!(job_dirs(&w).is_empty(), "{:?}", job_dirs(&w));
    assert!(!w.logs().contains("lost-store alarm"), "{}", w.logs());
    assert!(
        w.logs()
            .contains("removed the finished job, its directory and its record"),
        "{}",
        w.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_dry_run_removes_nothing_and_purge_removes_with_or_without_the_daemon() {
    let mut w = World::new(fast_sim()).await;
    w.drop_job("one.toml", &failing_job("Purge One", "64.39.106.74"));
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(20), "the failure", all_finished(1))
        .await;
    stop(&w, &mut daemon).await;
    let first = id_of(&w.statuses()[0]);
    tokio::time::sleep(Duration::from_millis(1100)).await; // older than 1s
    let dry = w.cli(&["purge", "--older-than", "1s", "--dry-run"]);
    assert!(dry.status.success(), "{}", out(&dry));
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        format!(
            "would remove {first}\n1 finished job(s) older than 1s would be removed (dry run: nothing removed)\n"
        )
    );
    assert_eq!(
        job_dirs(&w),
        vec![first.clone()],
        "a dry run removes nothing"
    );
    let none = w.cli(&["purge", "--older-than", "1h"]);
    assert!(none.status.success(), "{}", out(&none));
    assert_eq!(job_dirs(&w), vec![first.clone()]);
    // No daemon: the CLI removes it itself, under the daemon's locks.
    let o = w.cli(&["purge", "--older-than", "1s"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with(&format!("removed {first}\n")),
        "{}",
        out(&o)
    );
    assert!(job_dirs(&w).is_empty());
    // Through the running daemon.
    let mut daemon = w.start_daemon();
    w.drop_job("two.toml", &failing_job("Purge Two", "64.39.106.75"));
    w.wait_for(
        Duration::from_secs(20),
        "the second failure",
        all_finished(1),
    )
    .await;
    let second = id_of(&w.statuses()[0]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let o = w.cli(&["purge", "--older-than", "1s"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("removed {second}\n1 finished job(s) older than 1s removed\n")
    );
    assert!(job_dirs(&w).is_empty());
    assert_eq!(
        w.cli(&["purge", "--older-than", "soon"]).status.code(),
        Some(2)
    );
    stop(&w, &mut daemon).await;
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    stop(&w, &mut daemon).await;
    assert!(job_dirs(&w).is_empty(), "no job comes back from the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_request_files_are_refused_and_never_followed() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(4);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("target.toml", &job_toml("Target Org", &["64.39.106.76"]));
    w.wait_for(Duration::from_secs(20), "the job", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    let id = id_of(&w.statuses()[0]);
    let victim = w.dir.path().join("victim");
    std::fs::write(&victim, "hold\n").expect("victim");
    let hold = w.spool.join("hold");
    let retry = w.spool.join("retry");
    let purge = w.spool.join("purge");
    // A symlink named after a real job, pointing at a file saying "hold": not a request.
    std::os::unix::fs::symlink(&victim, hold.join(&id)).expect("symlink");
    std::fs::write(hold.join("not a job\u{1b}[31m"), "hold").expect("junk");
    std::fs::write(retry.join("20990101-000000-999999"), "").expect("unknown job");
    std::os::unix::fs::symlink(&victim, retry.join("20990101-000000-999998")).expect("symlink");
    std::fs::write(retry.join("x.toml"), "").expect("junk");
    std::fs::write(purge.join("older-than-soon"), "").expect("junk");
    std::os::unix::fs::symlink(&victim, purge.join("older-than-0")).expect("symlink");
    let log_has = |w: &World, needle: &str| w.last_log().contains(needle);
    let t = Instant::now();
    while !(log_has(&w, "retry request for an unknown job")
        && log_has(&w, "ignoring purge request \"older-than-soon\"")
        && log_has(&w, "ignoring hold request \"not a job"))
    {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "warnings missing\n{}",
            w.last_log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let a few more passes go by: each junk entry is warned about once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let log = w.last_log();
    for (needle, n) in [
        (
            format!("ignoring hold request \"{id}\": not a regular file"),
            1,
        ),
        (
            "ignoring retry request \"20990101-000000-999998\": not a regular file".into(),
            1,
        ),
        ("ignoring retry request \"x.toml\": not a job id".into(), 1),
        (
            "ignoring purge request \"older-than-0\": not a regular file".into(),
            1,
        ),
        ("retry request for an unknown job".into(), 1),
    ] {
        assert_eq!(log.matches(needle.as_str()).count(), n, "{needle}\n{log}");
    }
    assert!(!log.contains("\u{1b}[31m"), "escaped in the journal");
    assert_eq!(read(&victim), "hold\n", "never written through");
    assert!(victim.exists());
    let st = &w.statuses()[0];
    assert_eq!(st["held"], false, "a symlink is no hold request: {st:#}");
    for junk in ["x.toml", "20990101-000000-999999"] {
        assert!(!retry.join(junk).exists(), "{junk} removed");
    }
    assert!(!purge.join("older-than-soon").exists());
    // Garbage in a hold request: ignored and removed.
    std::fs::remove_file(hold.join(&id)).expect("rm symlink");
    std::fs::write(hold.join(&id), "freeze").expect("garbage");
    let t = Instant::now();
    while hold.join(&id).exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", w.last_log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(w
        .last_log()
        .contains("ignoring hold request: it holds neither"));
    assert_eq!(w.statuses()[0]["held"], false);
    w.wait_for(Duration::from_secs(30), "the job", all_finished(1))
        .await;
    assert_eq!(w.statuses().len(), 1, "no job was made");
    stop(&w, &mut daemon).await;
}
