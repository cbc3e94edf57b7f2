//! The checks a config must pass are the same at `check-config`, at `run` and at each
//! SIGHUP: its file is not writable by group or others, its scope is not empty, its alert
//! command exists and is executable, … `run` refuses to start on a config that fails them
//! (exit 2, naming the key or the file); a SIGHUP refuses it, keeps the running config,
//! and says so in `baseliner status`, `daemon.json` and systemd's STATUS= until a good
//! reload.

use crate::support::*;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts `baseliner run` on `w`'s config and returns its exit code and log once it
/// stopped; panics when it became ready instead (it started on a config it must refuse).
async fn run_must_refuse(w: &mut World) -> (Option<i32>, String) {
    let mut daemon = w.start_daemon();
    let daemon_json = w.spool.join("daemon.json");
    let start = Instant::now();
    loop {
        if let Some(st) = daemon.try_wait().expect("try_wait") {
            return (st.code(), w.last_log());
        }
        let ready = std::fs::read_to_string(&daemon_json)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v["pid"].as_u64() == Some(u64::from(daemon.id())));
        assert!(
            !ready,
            "`run` started on a config check-config refuses:\n{}",
            w.logs()
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "`run` neither started nor stopped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_writable_by_group_or_others_is_refused_naming_the_file_and_its_mode() {
    let mut w = World::new(fast_sim()).await;
    let path = w.config.display().to_string();
    for mode in [0o664, 0o602, 0o620] {
        chmod(&w.config, mode);
        let o = w.cli(&["check-config"]);
        let shown = format!("mode {mode:04o}");
        assert_eq!(
            o.status.code(),
            Some(2),
            "check-config accepted a config of mode {mode:o}: {}",
            stdout(&o)
        );
        let e = stderr(&o);
        assert!(
            e.contains(&path) && e.contains(&shown) && e.contains("writable by group or others"),
            "{e}"
        );
        assert!(!stdout(&o).contains("valid"), "{}", stdout(&o));
        let (code, log) = run_must_refuse(&mut w).await;
        assert_eq!(code, Some(2), "{log}");
        assert!(log.contains(&path) && log.contains(&shown), "{log}");
    }
    // As installed (0640 root:baseliner-submit: the group reads it), and private.
    for mode in [0o640, 0o600, 0o400] {
        chmod(&w.config, mode);
        let o = w.cli(&["check-config"]);
        assert!(o.status.success(), "mode {mode:o}: {}", stderr(&o));
        assert!(stdout(&o).contains("valid"), "{}", stdout(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_what_check_config_refuses_with_the_same_words() {
    let mut w = World::new(fast_sim()).await;
    let good = read(&w.config);
    let missing = w.dir.path().join("no-such-notify");
    let plain = w.dir.path().join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\n").expect("script");
    chmod(&plain, 0o644);
    let alert = |p: &std::path::Path| {
        good.replace(
            "[defaults]",
            &format!("[alerts]\ncommand = [\"{}\"]\n\n[defaults]", p.display()),
        )
    };
    let cases = [
        (alert(&missing), "[alerts].command"),
        (alert(&plain), "not executable"),
        (
            good.replace("authorized = [\"64.39.96.0/20\"]", "authorized = []"),
            "[scope].authorized",
        ),
    ];
    for (text, key) in &cases {
        std::fs::write(&w.config, text).expect("config");
        let o = w.cli(&["check-config"]);
        assert_eq!(o.status.code(), Some(2), "check-config: {}", stdout(&o));
        let said = stderr(&o);
        assert!(said.contains(key), "{said}");
        let (code, log) = run_must_refuse(&mut w).await;
        assert_eq!(code, Some(2), "run on a config refused for {key}: {log}");
        // The same check, so the same words.
        let reason = said.trim_start_matches("baseliner: ").trim();
        assert!(
            log.contains(reason),
            "run says other words than check-config ({reason:?}):\n{log}"
        );
    }
}

/// What a reload did, from the daemon's log since `from` bytes.
async fn wait_reload_outcome(w: &World, from: usize) -> String {
    let start = Instant::now();
    loop {
        let log = w.last_log();
        let new = log.get(from..).unwrap_or_default();
        for l in new.lines() {
            if l.contains("reload refused") || l.contains("configuration reloaded") {
                return l.to_string();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reload outcome logged:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sighup(pid: u32) {
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// The STATUS= lines systemd got so far.
fn status_lines(sock: &UnixDatagram, seen: &mut Vec<String>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf) {
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        seen.extend(
            msg.lines()
                .filter_map(|l| l.strip_prefix("STATUS="))
                .map(str::to_string),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reload_keeps_the_running_config_and_shows_until_a_good_one() {
    let mut w = World::new(fast_sim()).await;
    let notify = w.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let notify = notify.to_str().expect("utf8").to_string();
    let daemon = w.start_daemon_with(&[("NOTIFY_SOCKET", &notify)]);
    wait_ready(&w, &daemon).await;
    let good = read(&w.config);
    let mut seen: Vec<String> = Vec::new();
    let status = |w: &World| stdout(&w.cli(&["status"]));

    // Each refused config, in turn: the refusal names why, and the old config runs on.
    let plain = w.dir.path().join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\n").expect("script");
    chmod(&plain, 0o644);
    let refusals = [
        (
            good.replace("authorized = [\"64.39.96.0/20\"]", "authorized = []"),
            0o600,
            "[scope].authorized",
        ),
        (
            good.replace(
                "[defaults]",
                &format!(
                    "[alerts]\ncommand = [\"{}\"]\n\n[defaults]",
                    plain.display()
                ),
            ),
            0o600,
            "not executable",
        ),
        (good.clone(), 0o666, "mode 0666"),
    ];
    for (text, mode, why) in &refusals {
        std::fs::write(&w.config, text).expect("config");
        chmod(&w.config, *mode);
        let from = w.last_log().len();
        sighup(daemon.id());
        let outcome = wait_reload_outcome(&w, from).await;
        assert!(
            outcome.contains("reload refused") && outcome.contains(why),
            "a SIGHUP took a config it must refuse ({why}): {outcome}"
        );
        let start = Instant::now();
        loop {
            let table = status(&w);
            if table.contains("RELOAD REFUSED") && table.contains(why) {
                assert!(table.contains("daemon: running"), "{table}");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "`status` does not show the refused reload ({why}):\n{table}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let doc: serde_json::Value =
            serde_json::from_str(&read(&w.spool.join("daemon.json"))).expect("daemon.json");
        let reason = doc["reload_refused"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "daemon.json: {doc:#}");
        let start = Instant::now();
        while !seen
            .last()
            .is_some_and(|l| l.contains("RELOAD REFUSED") && l.contains(why))
        {
            status_lines(&sock, &mut seen);
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "STATUS= does not say the reload was refused ({why}): {seen:#?}"
            );
        }
    }

    // The running config is the old one: after a refused empty scope, a job in the old
    // scope is taken and runs.
    chmod(&w.config, 0o600);
    std::fs::write(
        &w.config,
        good.replace("authorized = [\"64.39.96.0/20\"]", "authorized = []"),
    )
    .expect("config");
    let from = w.last_log().len();
    sighup(daemon.id());
    let outcome = wait_reload_outcome(&w, from).await;
    assert!(outcome.contains("reload refused"), "{outcome}");
    w.drop_job("kept.toml", &job_toml("Kept Scope", &["64.39.106.9"]));
    w.wait_for(
        Duration::from_secs(30),
        "the job in the running scope",
        |s| s.len() == 1 && s[0]["state"] != "failed",
    )
    .await;
    assert!(
        !w.spool.join("rejected/kept.toml").exists(),
        "refused by the config SIGHUP refused"
    );

    // A good reload clears the refusal everywhere.
    std::fs::write(&w.config, &good).expect("config");
    let from = w.last_log().len();
    sighup(daemon.id());
    let outcome = wait_reload_outcome(&w, from).await;
    assert!(outcome.contains("configuration reloaded"), "{outcome}");
    let start = Instant::now();
    loop {
        let table = status(&w);
        if !table.contains("RELOAD REFUSED") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the refusal stays after a good reload:\n{table}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let doc: serde_json::Value =
        serde_json::from_str(&read(&w.spool.join("daemon.json"))).expect("daemon.json");
    assert!(doc["reload_refused"].is_null(), "{doc:#}");
    let start = Instant::now();
    while seen.last().is_none_or(|l| l.contains("RELOAD REFUSED")) {
        status_lines(&sock, &mut seen);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "STATUS= still says the reload was refused: {seen:#?}"
        );
    }
}

/// The password file is fixed while the daemon is paused for bad credentials: a SIGHUP
/// reads it again, logs in with it, the pause lifts and the waiting job runs to done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_after_fixing_the_password_file_lifts_the_pause() {
    let mut w = World::new(fast_sim()).await;
    let pw = w.dir.path().join("qualys-password");
    write_private(&pw, "not-the-password\n");
    w.replace_config(
        "username = \"demo\"",
        &format!(
            "username = \"demo\"\npassword_file = {:?}",
            pw.display().to_string()
        ),
    );
    let mut daemon = w.start_daemon();
    let daemon_json = w.spool.join("daemon.json");
    let read_doc = || {
        std::fs::read(&daemon_json)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    };
    let start = Instant::now();
    while !read_doc().is_some_and(|v| {
        v["paused"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("account problem: "))
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no pause\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.drop_job("after.toml", &job_toml("After Fix Org", &["64.39.100.85"]));
    w.wait_for(Duration::from_secs(10), "the job accepted", |s| {
        s.len() == 1 && s[0]["state"] == "accepted"
    })
    .await;
    write_private(&pw, "demo\n");
    let from = w.last_log().len();
    sighup(daemon.id());
    let outcome = wait_reload_outcome(&w, from).await;
    assert!(outcome.contains("configuration reloaded"), "{outcome}");
    w.wait_for(
        Duration::from_secs(20),
        "the job to run to done after the password was fixed",
        |s| s.len() == 1 && s[0]["state"] == "done",
    )
    .await;
    let doc = read_doc().expect("daemon.json");
    assert_eq!(doc["paused"], serde_json::Value::Null, "{doc:#}");
    let log = w.last_log();
    assert!(
        log.contains(&format!(
            "password read again from password_file {}",
            pw.display()
        )),
        "{log}"
    );
    assert!(!log.contains("not-the-password"), "{log}");
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}
