//! A file whose intake is postponed stays in `SPOOL/.staging/` (the daemon's private
//! directory, which a member of the submit group cannot list): `baseliner status` still
//! shows it as queued (the daemon publishes the staged files in `daemon.json`), and the
//! daemon warns about it once, not at every intake pass.

use crate::support::*;
use std::time::{Duration, Instant};

/// Waits until `cond` holds, or panics naming `what` (with the daemon's log).
async fn wait_until(w: &World, what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lines of the daemon's log about `name` being postponed.
fn postponed_warnings(w: &World, name: &str) -> usize {
    w.last_log()
        .lines()
        .filter(|l| l.contains(name) && l.contains("postponed"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_file_shows_as_queued_and_is_warned_about_once() {
    let mut w = World::new(fast_sim()).await;
    // Unprivileged, so that the mode of jobs/ binds the daemon.
    let daemon = w.start_daemon_unprivileged();
    wait_ready(&w, &daemon).await;

    // jobs/ is not writable: every intake is postponed after its file was staged.
    let jobs = w.spool.join("jobs");
    chmod(&jobs, 0o555);
    w.drop_job("held.toml", &job_toml("Held Org", &["64.39.106.12"]));
    let staged = w.spool.join(".staging/held.toml");
    wait_until(&w, "held.toml to be staged and postponed", || {
        staged.exists() && postponed_warnings(&w, "held.toml") > 0
    })
    .await;

    // `status` lists it, from daemon.json (the submit group cannot list .staging/).
    let start = Instant::now();
    loop {
        let table = String::from_utf8_lossy(&w.cli(&["status"]).stdout).into_owned();
        if table
            .lines()
            .any(|l| l.contains("queued") && l.contains(".staging/held.toml"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "`status` does not show the staged file as queued:\n{table}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let doc: serde_json::Value =
        serde_json::from_str(&read(&w.spool.join("daemon.json"))).expect("daemon.json");
    assert_eq!(doc["staged"][0]["name"], "held.toml", "{doc:#}");

    // Three more intake passes: each removes one cancel request (a pass takes cancel
    // requests after the intake), and none warns about held.toml again.
    for n in 1..=3 {
        let request = w.spool.join(format!("cancel/20260101-000000-00000{n}"));
        std::fs::write(&request, "").expect("cancel request");
        wait_until(&w, "a cancel request to be handled", || !request.exists()).await;
    }
    assert!(staged.exists(), "still staged");
    assert_eq!(
        postponed_warnings(&w, "held.toml"),
        1,
        "a staged file is warned about once, not at every pass:\n{}",
        w.last_log()
    );

    // Once intake can write again, the file is taken and leaves the queue.
    chmod(&jobs, 0o750);
    w.wait_for(Duration::from_secs(20), "held.toml accepted", |s| {
        s.len() == 1
    })
    .await;
    let start = Instant::now();
    loop {
        let table = String::from_utf8_lossy(&w.cli(&["status"]).stdout).into_owned();
        if !table.contains(".staging/") && table.contains("Held Org") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the taken file is still shown as staged:\n{table}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
