//! One daemon per spool and per state directory: a second `baseliner run` on the same
//! spool (another state directory) or on the same state directory (another spool) exits 1
//! naming the lock file and the first daemon's pid before it writes anything, and
//! `baseliner status` decides "running" by the spool's lock, not by `daemon.json` alone.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A copy of the world's config with `from` (a path in it) replaced by `to`.
fn config_with(w: &World, name: &str, from: &Path, to: &Path) -> PathBuf {
    let text = read(&w.config);
    let from = format!("\"{}\"", from.display());
    assert!(text.contains(&from), "config lacks {from}");
    let path = w.dir.path().join(name);
    std::fs::write(&path, text.replace(&from, &format!("\"{}\"", to.display())))
        .expect("write config");
    path
}

/// Runs `baseliner run` with `config` until it exits (at most 10 s); its exit code and
/// stderr.
fn run_second(w: &World, config: &Path) -> (Option<i32>, String) {
    let log = w.dir.path().join(format!(
        "{}.log",
        config.file_stem().and_then(|s| s.to_str()).expect("name")
    ));
    let mut child = Daemon::from(
        Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("BASELINER_QUALYS_PASSWORD", "demo")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("second daemon starts"),
    );
    let code = wait_exit(&mut child, Duration::from_secs(10));
    (code, read(&log))
}

/// The pid `daemon.json` names.
fn daemon_json_pid(spool: &Path) -> Option<u64> {
    std::fs::read(spool.join("daemon.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["pid"].as_u64())
}

fn status_line(w: &World) -> String {
    let o = w.cli(&["status"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_spool_or_state_exits_1_before_writing_anything() {
    let mut w = World::new(fast_sim()).await;
    let mut first = w.start_daemon();
    wait_ready(&w, &first).await;
    let pid = first.id();
    let state = w.dir.path().join("state");

    // The same spool, another state directory.
    let other_state = w.dir.path().join("state-2");
    let cfg = config_with(&w, "same-spool.toml", &state, &other_state);
    let (code, err) = run_second(&w, &cfg);
    assert_eq!(code, Some(1), "{err}");
    let lock = w.spool.join(".daemon.lock");
    assert!(
        err.contains(&lock.display().to_string()) && err.contains(&format!("pid {pid}")),
        "names the lock file and the first daemon's pid: {err}"
    );
    assert_eq!(
        daemon_json_pid(&w.spool),
        Some(u64::from(pid)),
        "no takeover"
    );
    assert!(!other_state.join("store").exists(), "no store opened");
    assert!(
        status_line(&w).starts_with(&format!("daemon: running (pid {pid})")),
        "{}",
        status_line(&w)
    );

    // The same state directory, another spool.
    let other_spool = w.dir.path().join("spool-2");
    let cfg = config_with(&w, "same-state.toml", &w.spool, &other_spool);
    let (code, err) = run_second(&w, &cfg);
    assert_eq!(code, Some(1), "{err}");
    let lock = state.join("daemon.lock");
    assert!(
        err.contains(&lock.display().to_string()) && err.contains(&format!("pid {pid}")),
        "names the lock file and the first daemon's pid: {err}"
    );
    assert!(
        !other_spool.join("daemon.json").exists(),
        "nothing written in the other spool"
    );
    assert_eq!(daemon_json_pid(&w.spool), Some(u64::from(pid)));

    // The lock files: the holder's pid, the daemon's alone (no one can hold them against it).
    for lock in [w.spool.join(".daemon.lock"), state.join("daemon.lock")] {
        assert_eq!(read(&lock).trim(), pid.to_string(), "{}", lock.display());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::symlink_metadata(&lock)
                .expect("lock")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{}", lock.display());
    }

    sigterm(&first);
    assert_eq!(wait_exit(&mut first, Duration::from_secs(10)), Some(0));
    assert!(
        status_line(&w).starts_with("daemon: stopped"),
        "{}",
        status_line(&w)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_believes_the_spool_lock_not_a_stale_daemon_json() {
    let mut w = World::new(fast_sim()).await;
    let mut first = w.start_daemon();
    wait_ready(&w, &first).await;
    let pid = first.id();
    // daemon.json naming a process that is gone (as another daemon's last words would).
    let forged = serde_json::json!({
        "pid": 4_000_000u32, "started": 1, "running": true, "summary": "0 unfinished job(s)",
        "unfinished": 0, "paused": null, "updated_at": "2026-01-01T00:00:00Z"
    });
    std::fs::write(w.spool.join("daemon.json"), forged.to_string()).expect("forge");
    let line = status_line(&w);
    assert!(
        line.starts_with(&format!("daemon: running (pid {pid})")),
        "the lock is held: {line}"
    );
    // A daemon killed outright releases its lock: now it is not running.
    first.kill().expect("kill");
    first.wait().expect("wait");
    let line = status_line(&w);
    assert!(line.contains("NOT RUNNING"), "{line}");
}
