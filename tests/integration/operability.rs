//! What an operator sees (issue 12): `status` with a stopped, a killed and a paused
//! daemon, files still queued in `incoming/`, a missing spool; failed alerts in the
//! journal, the metrics and `status`; a wrong password pausing at start before any job.

use crate::support::*;
use std::process::Output;
use std::time::{Duration, Instant};

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Waits until `daemon.json` satisfies `pred`.
async fn wait_daemon_json(w: &World, what: &str, pred: impl Fn(&serde_json::Value) -> bool) {
    let path = w.spool.join("daemon.json");
    let start = Instant::now();
    loop {
        let v = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if v.as_ref().is_some_and(&pred) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "daemon.json never showed {what}: {v:?}\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_tells_a_stopped_daemon_from_a_killed_one_and_lists_queued_files() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(120);
    let mut w = World::new(sim).await;

    // No spool yet: an error naming the path, not "no jobs".
    let o = w.cli(&["status"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).contains(&w.spool.display().to_string()),
        "{}",
        err(&o)
    );
    assert!(!out(&o).contains("no jobs"));

    let mut daemon = w.start_daemon();
    w.drop_job("slow.toml", &job_toml("Acme Corp", &["64.39.106.90"]));
    w.wait_for(Duration::from_secs(20), "the scan to run", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    wait_ready(&w, &daemon).await;
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    let running = out(&w.cli(&["status"]));
    assert!(running.starts_with("daemon: running (pid "), "{running}");

    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    let doc: serde_json::Value =
        serde_json::from_str(&read(&w.spool.join("daemon.json"))).expect("daemon.json");
    assert_eq!(doc["running"], false, "a clean stop is recorded: {doc:#}");

    // Two files wait while the daemon is stopped.
    w.drop_job("later.toml", &job_toml("Acme Corp", &["64.39.106.91"]));
    w.drop_job("\u{1b}[2Jevil.toml", &job_toml("Evil", &["64.39.106.92"]));
    let o = w.cli(&["status"]);
    assert!(o.status.success(), "{}", err(&o));
    let table = out(&o);
    assert!(
        table.starts_with("daemon: stopped (clean stop at "),
        "{table}"
    );
    let queued: Vec<&str> = table.lines().filter(|l| l.contains(" queued ")).collect();
    assert_eq!(queued.len(), 2, "{table}");
    assert!(
        queued.iter().any(|l| l.contains("incoming/later.toml")),
        "{table}"
    );
    assert!(
        !table.contains('\u{1b}'),
        "file names are sanitized: {table:?}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("the job's row");
    assert!(row.contains("(daemon not running)"), "{row}");
    let due = w.statuses()[0]["next_action_at"]
        .as_str()
        .expect("a due time")
        .to_string();
    assert!(!row.contains(&due), "no due time shown as pending: {row}");

    // A cancel while the daemon is stopped is queued, and says so.
    let o = w.cli(&["cancel", &id]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("the daemon is not running: it applies it when it starts"),
        "{}",
        out(&o)
    );

    // A daemon killed with SIGKILL leaves daemon.json saying "running": its pid is gone.
    let mut daemon = w.start_daemon();
    w.wait_for(
        Duration::from_secs(20),
        "the queued job and the cancel",
        |s| s.len() == 2 && s[0]["state"] == "canceled",
    )
    .await;
    wait_ready(&w, &daemon).await;
    daemon.kill().expect("kill -9");
    daemon.wait().expect("reaped");
    let table = out(&w.cli(&["status"]));
    assert!(table.starts_with("daemon: NOT RUNNING (pid "), "{table}");
    assert!(table.contains("did not stop cleanly"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_alert_is_logged_counted_and_marked_in_status() {
    let mut w = World::new(fast_sim()).await;
    // A webhook to a loopback port nothing listens on, and a command that is removed after
    // the daemon's start (which refuses a missing one).
    let notify = w.dir.path().join("notify-team");
    std::fs::write(&notify, "#!/bin/sh\nexit 0\n").expect("script");
    chmod(&notify, 0o755);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let text = read(&w.config);
    std::fs::write(
        &w.config,
        format!(
            "{text}\n[alerts]\nmin_severity = 3\ncommand = [\"{}\"]\nwebhook = \"http://127.0.0.1:{port}/hook\"\ncommand_timeout = \"10s\"\n",
            notify.display()
        ),
    )
    .expect("config");
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    std::fs::remove_file(&notify).expect("remove the command");
    w.drop_job("alert.toml", &job_toml("Acme Corp", &["64.39.106.20"]));
    w.wait_for(Duration::from_secs(40), "the alerting job", all_finished(1))
        .await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "done", "an alert never fails the job: {st:#}");
    let id = st["id"].as_str().expect("id");
    let status = st["alert"]["status"].as_str().unwrap_or_default();
    assert!(status.starts_with("not started"), "{:#}", st["alert"]);

    let logs = w.logs();
    let warned = |what: &str| {
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains(id) && l.contains(what))
    };
    assert!(warned("alert command not started"), "{logs}");
    assert!(warned("alert webhook failed"), "{logs}");

    let prom = read(&w.dir.path().join("state/baseliner.prom"));
    assert!(
        prom.contains("baseliner_alert_failures_total{kind=\"command\"} 1\n"),
        "{prom}"
    );
    assert!(
        prom.contains("baseliner_alert_failures_total{kind=\"webhook\"} 1\n"),
        "{prom}"
    );

    let table = out(&w.cli(&["status"]));
    let row = table
        .lines()
        .find(|l| l.starts_with(id))
        .expect("the job's row");
    assert!(row.contains("done !alert"), "{row}");
    let one = out(&w.cli(&["status", id]));
    assert!(one.contains("state         done !alert"), "{one}");
    assert!(
        one.contains(&format!("alert         not started: {}", notify.display())),
        "{one}"
    );
    assert!(one.contains("webhook       failed"), "{one}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_pauses_at_start_before_any_job() {
    let mut w = World::new(fast_sim()).await;
    let mut daemon = w.start_daemon_with(&[("BASELINER_QUALYS_PASSWORD", "not-the-password")]);
    wait_daemon_json(&w, "the pause", |v| {
        v["paused"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("account problem: "))
    })
    .await;
    assert!(w.statuses().is_empty(), "no job was needed to find it");
    let logins: Vec<_> = w
        .journal()
        .into_iter()
        .filter(|e| e.api.contains("session"))
        .collect();
    assert_eq!(logins.len(), 1, "one cheap call: {logins:?}");
    assert!(w.logs().contains("login check failed"), "{}", w.logs());

    let table = out(&w.cli(&["status"]));
    assert!(table.starts_with("daemon: running"), "{table}");
    let paused = table
        .lines()
        .find(|l| l.starts_with("PAUSED until "))
        .unwrap_or_else(|| panic!("no PAUSED line: {table}"));
    assert!(paused.contains("Z: account problem: "), "{paused}");
    assert!(!paused.contains('{'), "words, not JSON: {paused}");
    assert!(!table.contains("not-the-password"), "{table}");

    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}
