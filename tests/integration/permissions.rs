//! The permission model with two real users: the daemon as `baseliner`, and a colleague
//! who is only a member of `baseliner-submit`, each a separate process under its own uid
//! (through `setpriv`), on directories with exactly the owners and modes the shipped
//! `systemd/baseliner.sysusers` and `systemd/baseliner.tmpfiles` produce.
//!
//! The modes come from an install root: `$BASELINER_INSTALL_ROOT` when set (`.ci/run` runs
//! the README's install section into one with `systemd-sysusers --root` and
//! `systemd-tmpfiles --create --root`), else the test runs those same two tools itself.
//! Needs root (to switch users); anywhere else it says so and does nothing — CI runs it.

use crate::support::*;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The colleague's uid and primary gid: a user of nothing but the submit group.
const COLLEAGUE: u32 = 61_234;

/// The spool and config directories of the install, relative to its root.
const DIRS: &[&str] = &[
    "var/spool/baseliner",
    "var/spool/baseliner/incoming",
    "var/spool/baseliner/cancel",
    "var/spool/baseliner/retry",
    "var/spool/baseliner/hold",
    "var/spool/baseliner/purge",
    "var/spool/baseliner/rejected",
    "var/spool/baseliner/jobs",
    "etc/baseliner",
];

/// Runs the README's sysusers and tmpfiles steps into a new root; `None` when the tools
/// are missing.
fn install_root(dir: &Path) -> Option<PathBuf> {
    let root = dir.join("install-root");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (from, to) in [
        (
            "systemd/baseliner.sysusers",
            "usr/lib/sysusers.d/baseliner.conf",
        ),
        (
            "systemd/baseliner.tmpfiles",
            "usr/lib/tmpfiles.d/baseliner.conf",
        ),
    ] {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(repo.join(from), &to).expect("copy");
    }
    std::fs::create_dir_all(root.join("etc")).expect("etc");
    for tool in ["systemd-sysusers", "systemd-tmpfiles"] {
        let mut c = Command::new(tool);
        if tool == "systemd-tmpfiles" {
            c.arg("--create");
        }
        match c.arg("--root").arg(&root).output() {
            Ok(o) => assert!(
                o.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => return None,
        }
    }
    Some(root)
}

/// The id of `name` in an `/etc/passwd` or `/etc/group` file.
fn id_in(file: &Path, name: &str) -> u32 {
    read(file)
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name)).then(|| f.get(2).and_then(|v| v.parse().ok()))?
        })
        .unwrap_or_else(|| panic!("{name} not in {}", file.display()))
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submit_group_submits_watches_cancels_and_reads_outputs_but_writes_nothing_else() {
    if !is_root() {
        eprintln!("permissions: skipped, needs root to run two users (CI runs it as root)");
        return;
    }
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(6);
    let w = World::new(sim).await;
    let tree = tempfile::tempdir().expect("tempdir");
    let shipped = match std::env::var_os("BASELINER_INSTALL_ROOT") {
        Some(r) => PathBuf::from(r),
        None => match install_root(tree.path()) {
            Some(r) => r,
            None => {
                eprintln!("permissions: skipped, systemd-sysusers/systemd-tmpfiles missing");
                return;
            }
        },
    };
    let daemon_uid = id_in(&shipped.join("etc/passwd"), "baseliner");
    let daemon_gid = id_in(&shipped.join("etc/group"), "baseliner");
    let submit_gid = id_in(&shipped.join("etc/group"), "baseliner-submit");
    assert!(
        read(&shipped.join("etc/group"))
            .lines()
            .any(|l| l.starts_with("baseliner-submit:") && l.ends_with(":baseliner")),
        "the daemon is a member of the submit group"
    );

    // A fresh tree with exactly the shipped owners and modes.
    let root = tree.path().join("root");
    for d in DIRS {
        let meta = std::fs::metadata(shipped.join(d)).expect("shipped dir");
        let p = root.join(d);
        std::fs::create_dir_all(&p).expect("mkdir");
        chown(&p, Some(meta.uid()), Some(meta.gid())).expect("chown");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .expect("chmod");
    }
    for d in ["", "var", "var/spool", "var/lib", "etc"] {
        let p = root.join(d);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(tree.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // StateDirectory=baseliner with StateDirectoryMode=0700, as systemd makes it.
    let state = root.join("var/lib/baseliner");
    std::fs::create_dir_all(&state).expect("state");
    chown(&state, Some(daemon_uid), Some(daemon_gid)).expect("chown");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // The config as the README installs it: install -m640 -g baseliner-submit.
    let spool = root.join("var/spool/baseliner");
    let config = root.join("etc/baseliner/baseliner.toml");
    let cfg_text = read(&w.config)
        .replace(&w.spool.display().to_string(), &spool.display().to_string())
        .replace(
            &w.dir.path().join("state").display().to_string(),
            &state.display().to_string(),
        );
    std::fs::write(&config, cfg_text).expect("config");
    chown(&config, Some(0), Some(submit_gid)).expect("chown");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let cfg = config.to_str().expect("utf8");

    let daemon_user = User {
        uid: daemon_uid,
        gid: daemon_gid,
        groups: &[submit_gid],
        umask: "0027", // the unit's UMask=
    };
    // A colleague with a strict umask: what they submit must still reach the daemon.
    let colleague = User {
        uid: COLLEAGUE,
        gid: COLLEAGUE,
        groups: &[submit_gid],
        umask: "0077",
    };
    let log = std::fs::File::create(tree.path().join("daemon.log")).expect("log");
    let mut daemon = Daemon::from(
        daemon_user
            .command(BIN, &["--config", cfg, "run"])
            .env("BASELINER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("daemon starts"),
    );
    let logs = || std::fs::read_to_string(tree.path().join("daemon.log")).unwrap_or_default();
    let submit = |ip: &str| {
        colleague.run(
            BIN,
            &["--config", cfg, "submit", "--org", "Acme Corp", "--ips", ip],
        )
    };

    // Submit (by flags) and cancel while the scan runs.
    let o = submit("64.39.106.1");
    assert!(o.status.success(), "colleague submit: {}", text(&o));
    let jobs_root = spool.join("jobs");
    let statuses = || -> Vec<serde_json::Value> {
        let mut ids: Vec<_> = std::fs::read_dir(&jobs_root)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        ids.sort();
        ids.iter()
            .filter_map(|d| std::fs::read(d.join("status.json")).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    };
    let wait = |what: &str, pred: &dyn Fn(&[serde_json::Value]) -> bool| {
        let start = std::time::Instant::now();
        while !pred(&statuses()) {
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "timed out waiting for {what}: {:#?}\n{}",
                statuses(),
                logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("the first scan to run", &|s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    });
    let first = statuses()[0]["id"].as_str().expect("id").to_string();
    let o = colleague.run(BIN, &["--config", cfg, "cancel", &first]);
    assert!(o.status.success(), "colleague cancel: {}", text(&o));
    wait("the cancel", &|s| {
        s.len() == 1 && s[0]["state"] == "canceled"
    });

    // A second job runs to the end; the colleague reads every output.
    let o = submit("64.39.106.2");
    assert!(o.status.success(), "colleague submit: {}", text(&o));
    wait("the second job", &|s| {
        s.len() == 2 && s[1]["state"] == "done"
    });
    let second = statuses()[1]["id"].as_str().expect("id").to_string();

    let o = colleague.run(BIN, &["--config", cfg, "status"]);
    assert!(o.status.success(), "colleague status: {}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("daemon: running"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&second) && l.contains("done")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&first) && l.contains("canceled")),
        "{table}"
    );
    assert!(o.stderr.is_empty(), "no warnings: {}", text(&o));
    let o = colleague.run(BIN, &["--config", cfg, "status", &second]);
    assert!(o.status.success(), "colleague status ID: {}", text(&o));

    let job_dir = jobs_root.join(&second);
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job_dir.join("status.json")).expect("status"))
            .expect("json");
    let outputs: Vec<String> = st["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for f in ["summary.md", "findings.csv", "results.json", "report.pdf"] {
        assert!(outputs.iter().any(|o| o == f), "{f} in {outputs:?}");
    }
    for f in outputs
        .iter()
        .map(String::as_str)
        .chain(["status.json", "job.toml"])
    {
        let p = job_dir.join(f);
        let o = colleague.run("cat", &[p.to_str().expect("utf8")]);
        assert!(o.status.success(), "colleague reads {f}: {}", text(&o));
        let meta = std::fs::metadata(&p).expect("meta");
        assert_eq!(meta.gid(), submit_gid, "{f} belongs to the submit group");
    }
    let meta = std::fs::metadata(&job_dir).expect("job dir");
    assert_eq!(meta.gid(), submit_gid);
    assert_eq!(meta.mode() & 0o070, 0o050, "job dir: group r-x, no write");
    let o = colleague.run("cat", &[spool.join("daemon.json").to_str().expect("utf8")]);
    assert!(
        o.status.success(),
        "colleague reads daemon.json: {}",
        text(&o)
    );

    // The spool's lock: the colleague cannot open it at all (so cannot hold a lock on it
    // and keep the daemon from starting); `status` finds the daemon's lock in /proc/locks.
    let lock = spool.join(".daemon.lock");
    let o = colleague.run("cat", &[lock.to_str().expect("utf8")]);
    assert!(
        !o.status.success(),
        "the colleague opened the lock: {}",
        text(&o)
    );
    let o = colleague.run(
        "/bin/sh",
        &["-c", "echo 1 > \"$0\"", lock.to_str().expect("utf8")],
    );
    assert!(!o.status.success(), "the colleague wrote the lock file");
    assert_eq!(
        std::fs::metadata(&lock).expect("lock").mode() & 0o077,
        0,
        "the lock is the daemon's alone"
    );

    // Only the daemon writes jobs/, rejected/ and the state directory.
    for p in [
        job_dir.join("forged.txt"),
        jobs_root.join("forged"),
        spool.join("rejected/forged"),
        spool.join("daemon.json.forged"),
        state.join("forged"),
    ] {
        let o = colleague.run("touch", &[p.to_str().expect("utf8")]);
        assert!(!o.status.success(), "the colleague wrote {}", p.display());
        assert!(!p.exists());
    }
    let o = colleague.run("ls", &[state.to_str().expect("utf8")]);
    assert!(
        !o.status.success(),
        "the state directory is the daemon's alone"
    );

    // Job management: the colleague retries the canceled job and holds and releases its
    // retry; purging is for the daemon's user and root only.
    let o = colleague.run(BIN, &["--config", cfg, "retry", &first]);
    assert!(o.status.success(), "colleague retry: {}", text(&o));
    wait("the retry", &|s| {
        s.len() == 3 && s[0]["retried_as"].is_string()
    });
    let third = statuses()[2]["id"].as_str().expect("id").to_string();
    assert_eq!(statuses()[2]["retry_of"], first.as_str());
    let o = colleague.run(BIN, &["--config", cfg, "hold", &third]);
    assert!(o.status.success(), "colleague hold: {}", text(&o));
    wait("the hold", &|s| s.len() == 3 && s[2]["held"] == true);
    let o = colleague.run(BIN, &["--config", cfg, "release", &third]);
    assert!(o.status.success(), "colleague release: {}", text(&o));
    wait("the release", &|s| s.len() == 3 && s[2]["held"] == false);
    let o = colleague.run(BIN, &["--config", cfg, "purge", "--older-than", "1s"]);
    assert_eq!(o.status.code(), Some(1), "colleague purge: {}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only the daemon's user and root may purge"),
        "{}",
        text(&o)
    );
    assert_eq!(statuses().len(), 3, "nothing purged");
    let purge_dir = spool.join("purge");
    let meta = std::fs::metadata(&purge_dir).expect("purge/");
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (daemon_uid, 0o700));

    sigterm(&daemon);
    assert_eq!(
        wait_exit(&mut daemon, Duration::from_secs(10)),
        Some(0),
        "{}",
        logs()
    );
    let o = colleague.run(BIN, &["--config", cfg, "status"]);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("daemon: stopped"), "{}", text(&o));
}
