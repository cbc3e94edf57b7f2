//! The disk as an adversary (issue 17): a state store that cannot write (an injected
//! ENOSPC through the store's seam, and a real full tmpfs when the tests run as root), a
//! restored backup, a truncated, damaged or emptied database. In each case the daemon stops
//! sending while it cannot record, says why, loses no job and launches nothing twice.

use crate::support::*;
use qualys_sim::SimConfig;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SCAN_LIST_API: &str = "/api/2.0/fo/scan/?action=list";

/// A simulator whose scans run long enough to be caught `scan_running`.
fn slow_scans() -> SimConfig {
    SimConfig {
        scan_running: Duration::from_secs(6),
        ..fast_sim()
    }
}

fn daemon_json(w: &World) -> Value {
    std::fs::read(w.spool.join("daemon.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Waits until `daemon.json` satisfies `pred`.
async fn wait_daemon(w: &World, limit: Duration, what: &str, pred: impl Fn(&Value) -> bool) {
    let t = Instant::now();
    while !pred(&daemon_json(w)) {
        assert!(
            t.elapsed() < limit,
            "timed out waiting for {what}; daemon.json: {:#}\nlogs:\n{}",
            daemon_json(w),
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn store_pause_shown(v: &Value) -> bool {
    v.to_string().contains("state store cannot write")
}

fn scan_lists(w: &World) -> usize {
    w.journal()
        .iter()
        .filter(|e| e.api == SCAN_LIST_API)
        .count()
}

fn drop_jobs(w: &World, tag: &str, net: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let name = format!("{tag}{i:02}.toml");
            let body = job_toml(&format!("{tag} org {i}"), &[&format!("{net}.{i}")]);
            w.drop_job(&name, &body);
            (name, body)
        })
        .collect()
}

/// The full-disk scenario, whatever makes the disk full: one job polling, the store's disk
/// filled (`fill`), four more jobs dropped; while it is full, no more than one scan-list
/// call per poll interval, the pause in `daemon.json`; once the space is back (`free`),
/// all five jobs done exactly once without a restart.
async fn full_disk_scenario(
    mut w: World,
    env: &[(&str, &str)],
    check_metrics: bool,
    fill: impl FnOnce(),
    free: impl FnOnce(),
) {
    let _daemon = w.start_daemon_with(env);
    let mut dropped = drop_jobs(&w, "first", "64.39.100", 1);
    w.wait_for(Duration::from_secs(30), "the first job scanning", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    fill();
    dropped.extend(drop_jobs(&w, "later", "64.39.101", 4));
    wait_daemon(
        &w,
        Duration::from_secs(30),
        "the store pause in daemon.json",
        store_pause_shown,
    )
    .await;
    // scan_every is 1 s: over 5 s, at most ~one call per interval (the one whose answer
    // could not be recorded), where the old daemon made hundreds.
    let before = scan_lists(&w);
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(store_pause_shown(&daemon_json(&w)), "the pause held");
    }
    let during = scan_lists(&w) - before;
    assert!(
        during <= 5,
        "{during} scan-list calls in 5 s while the store could not write\n{}",
        w.logs()
    );
    let logs = w.logs();
    assert_eq!(
        logs.matches("the state store cannot write").count(),
        1,
        "one ERROR, not one per job or per second\n{logs}"
    );
    if check_metrics {
        // The metrics file lives in the state directory: on a really full disk it cannot
        // be rewritten either.
        let metrics = std::fs::read_to_string(w.dir.path().join("state").join("baseliner.prom"))
            .unwrap_or_default();
        assert!(
            metrics.contains("baseliner_paused 1"),
            "the metric shows the pause:\n{metrics}"
        );
    }
    free();
    w.wait_for(
        Duration::from_secs(90),
        "every job done after the space returned",
        all_finished(5),
    )
    .await;
    wait_daemon(&w, Duration::from_secs(10), "the pause lifted", |v| {
        !store_pause_shown(v)
    })
    .await;
    assert_exactly_once(&w, &dropped);
    assert!(
        w.logs().contains("the state store writes again"),
        "{}",
        w.logs()
    );
    show_logs(&w);
}

/// With `BASELINER_TEST_SHOW_LOGS` set, prints the daemon's logs of a passing test.
fn show_logs(w: &World) {
    if std::env::var_os("BASELINER_TEST_SHOW_LOGS").is_some() {
        eprintln!("{}", w.logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_write_pauses_everything_and_resumes_by_itself() {
    let w = World::new(fast_sim()).await;
    let flag = w.dir.path().join("store-full");
    let flag_env = flag.display().to_string();
    let (f1, f2) = (flag.clone(), flag.clone());
    full_disk_scenario(
        w,
        &[("BASELINER_TEST_STORE_FULL", &flag_env)],
        true,
        move || std::fs::write(&f1, b"").expect("fill"),
        move || std::fs::remove_file(&f2).expect("free"),
    )
    .await;
}

/// The same on a real full disk: the state directory on a 3 MiB tmpfs, filled with a file
/// until the kernel says ENOSPC. Needs root (mount); says so and passes trivially without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_full_tmpfs_under_the_state_directory() {
    if !is_root() {
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    }
    let w = World::new(fast_sim()).await;
    let state = w.dir.path().join("state");
    std::fs::create_dir_all(&state).expect("state dir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&state)
        .status()
        .expect("mount runs");
    assert!(mounted.success(), "mount -t tmpfs failed");
    let _unmount = Unmount(state.clone());
    let filler = state.join("filler");
    let f2 = filler.clone();
    full_disk_scenario(
        w,
        &[],
        false,
        move || fill_disk(&filler),
        move || std::fs::remove_file(&f2).expect("free the disk"),
    )
    .await;
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Writes `path` until the file system is full.
fn fill_disk(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = f.sync_all();
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn lost_store_alarms(w: &World) -> Vec<String> {
    w.logs()
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("lost-store alarm"))
        .map(str::to_string)
        .collect()
}

/// Runs three jobs until each is scanning or beyond, stops the daemon, lets `damage` do its
/// worst to the state directory, restarts: every job ends done with exactly one scan, and
/// (`expect_alarm`) an ERROR line names each job the store lost.
async fn damaged_store_scenario(damage: impl FnOnce(&Path), expect_alarm: bool) -> World {
    let mut w = World::new(slow_scans()).await;
    let mut daemon = w.start_daemon();
    let dropped = drop_jobs(&w, "dmg", "64.39.102", 3);
    w.wait_for(Duration::from_secs(40), "three jobs scanning", |s| {
        s.len() == 3 && s.iter().all(|v| v["scan_ref"].is_string())
    })
    .await;
    wait_ready(&w, &daemon).await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(20)), Some(0));
    damage(&w.dir.path().join("state"));
    let _daemon = w.start_daemon();
    w.wait_for(
        Duration::from_secs(60),
        "every job done after the damage",
        all_finished(3),
    )
    .await;
    assert_exactly_once(&w, &dropped);
    if expect_alarm {
        let alarms = lost_store_alarms(&w);
        for st in w.statuses() {
            let id = st["id"].as_str().expect("id");
            assert!(
                alarms.iter().any(|l| l.contains(id)),
                "no lost-store alarm names job {id}: {alarms:#?}\n{}",
                w.logs()
            );
        }
    }
    show_logs(&w);
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_launches_nothing_twice_and_raises_an_alarm_per_job() {
    let mut w = World::new(slow_scans()).await;
    // The backup: the store as it was when both jobs were only accepted (the daemon killed
    // right after the second file's intake).
    let dropped = drop_jobs(&w, "bak", "64.39.103", 2);
    let mut daemon = w.start_daemon_with(&[("BASELINER_CRASH_AT", "intake-after-move@2")]);
    let code = wait_exit(&mut daemon, Duration::from_secs(30));
    assert_eq!(code, None, "killed at the crash point\n{}", w.logs());
    let state = w.dir.path().join("state");
    let backup = w.dir.path().join("backup");
    copy_dir(&state, &backup);
    // The world moves on: both jobs run to their scans.
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(40), "both jobs scanning", |s| {
        s.len() == 2 && s.iter().all(|v| v["scan_ref"].is_string())
    })
    .await;
    wait_ready(&w, &daemon).await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(20)), Some(0));
    // The operator restores the old backup.
    std::fs::remove_dir_all(&state).expect("rm state");
    copy_dir(&backup, &state);
    let _daemon = w.start_daemon();
    w.wait_for(
        Duration::from_secs(60),
        "both jobs done after the restore",
        all_finished(2),
    )
    .await;
    assert_exactly_once(&w, &dropped);
    let alarms = lost_store_alarms(&w);
    for st in w.statuses() {
        let id = st["id"].as_str().expect("id");
        let named: Vec<_> = alarms.iter().filter(|l| l.contains(id)).collect();
        assert!(
            named
                .iter()
                .any(|l| l.contains("`accepted`") && l.contains("`scan_running`")),
            "the alarm for {id} names both states: {alarms:#?}\n{}",
            w.logs()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_database_rebuilds_every_job_from_its_status_file() {
    let w = damaged_store_scenario(
        |state| {
            std::fs::write(state.join("store").join("db"), b"").expect("empty the db");
        },
        true,
    )
    .await;
    // The old daemon said "recovered 0 unfinished job(s)" here and orphaned the scans.
    assert!(
        w.logs().contains("recovered 3 unfinished job(s)"),
        "{}",
        w.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_directory_rebuilds_every_job() {
    damaged_store_scenario(
        |state| std::fs::remove_dir_all(state.join("store")).expect("rm store"),
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_database_comes_back_without_a_second_scan() {
    damaged_store_scenario(
        |state| {
            let db = state.join("store").join("db");
            let len = std::fs::metadata(&db).expect("db").len();
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&db)
                .expect("open db");
            f.set_len(len / 2).expect("truncate");
        },
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_flipped_bytes_comes_back_without_a_second_scan() {
    let seed: u64 = std::env::var("BASELINER_FLIP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("flipping 400 bytes with BASELINER_FLIP_SEED={seed}");
    damaged_store_scenario(
        move |state| {
            let db = state.join("store").join("db");
            let mut bytes = std::fs::read(&db).expect("db");
            let mut x = seed | 1;
            for _ in 0..400 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % bytes.len() as u64) as usize;
                bytes[i] ^= 0xff;
            }
            std::fs::write(&db, bytes).expect("write db");
        },
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_sled_cannot_open_is_moved_aside_and_never_crash_loops() {
    let w = damaged_store_scenario(
        |state| {
            let store = state.join("store");
            for name in ["db", "conf"] {
                let path = store.join(name);
                let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(4096);
                let garbage: Vec<u8> = (0..len.max(64)).map(|i| (i * 151 % 251) as u8).collect();
                std::fs::write(&path, garbage).expect("garbage");
            }
        },
        true,
    )
    .await;
    let state = w.dir.path().join("state");
    let aside: Vec<String> = std::fs::read_dir(&state)
        .expect("state")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("store.damaged-"))
        .collect();
    assert_eq!(
        aside.len(),
        1,
        "the damaged store is kept aside: {aside:?}\n{}",
        w.logs()
    );
}
