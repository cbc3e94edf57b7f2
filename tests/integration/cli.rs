//! Every command through the real binary: help, bad usage, config errors, submit, status,
//! cancel, check-config, sim, and the daemon's systemd and signal behaviour.

use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "run",
        "submit",
        "status",
        "cancel",
        "retry",
        "hold",
        "release",
        "purge",
        "check-config",
        "demo",
        "sim",
        "generate",
    ] {
        let o = Command::new(BIN)
            .args([cmd, "--help"])
            .output()
            .expect("runs");
        assert!(o.status.success(), "{cmd} --help");
        let text = stdout(&o);
        assert!(
            text.contains("Example"),
            "{cmd} --help has no example:\n{text}"
        );
        assert!(text.contains("baseliner"), "{cmd} --help");
    }
    let o = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(stdout(&o).contains("baseliner demo"));
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec!["frobnicate"],
        vec!["status", "--bogus"],
        vec!["submit", "--org", "Only An Org"],
        vec!["sim", "--listen", "not-an-address"],
        // demo and sim make their own settings: a --config would be ignored, so it is refused.
        vec!["--config", "/etc/baseliner/baseliner.toml", "demo"],
        vec!["sim", "--config", "/etc/baseliner/baseliner.toml"],
        vec![
            "--config",
            "/etc/baseliner/baseliner.toml",
            "generate",
            "man",
        ],
        vec!["generate"],
    ] {
        let o = Command::new(BIN).args(&args).output().expect("runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = Command::new(BIN)
        .args(["sim", "--listen", "0.0.0.0:0"])
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(2),
        "the simulator refuses non-loopback"
    );
    assert!(stderr(&o).contains("loopback"));
}

#[test]
fn config_errors_name_the_key_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n[polling]\nscan_evry = \"5m\"\n",
            "scan_evry",
        ),
        (
            "[qualys]\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n",
            "url",
        ),
        (
            "[qualys]\nurl = \"http://qualysapi.qualys.com\"\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n",
            "url",
        ),
        (
            "[qualys]\nurl = \"https://qualysapi.qualys.com\"\nusername = \"u\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n[polling]\nscan_every = \"five minutes\"\n",
            "scan_every",
        ),
    ];
    for (n, (text, key)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("c{n}.toml"));
        write_private(&p, text);
        let o = Command::new(BIN)
            .arg("--config")
            .arg(&p)
            .arg("check-config")
            .env("BASELINER_QUALYS_PASSWORD", "x")
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "case {n}");
        assert!(stderr(&o).contains(key), "case {n}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_finds_the_password_and_logs_in_online() {
    let w = World::new(fast_sim()).await;
    let o = Command::new(BIN)
        .arg("--config")
        .arg(&w.config)
        .arg("check-config")
        .env("BASELINER_QUALYS_PASSWORD", "zz-secret-zz")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("BASELINER_QUALYS_PASSWORD"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("zz-secret-zz"), "no password printed");

    let o = w.cli(&["check-config", "--online"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("login    ok"));
    assert!(stdout(&o).contains("template 1: "), "{}", stdout(&o));
    assert!(stdout(&o).contains("(Auto: host-based"), "{}", stdout(&o));

    let good = read(&w.config);
    std::fs::write(
        &w.config,
        good.replace("report_template_id = 1", "report_template_id = 999"),
    )
    .expect("config");
    let o = w.cli(&["check-config", "--online"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("report_template_id = 999"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&w.config, good).expect("config");

    let o = Command::new(BIN)
        .arg("--config")
        .arg(&w.config)
        .args(["check-config", "--online"])
        .env("BASELINER_QUALYS_PASSWORD", "wrong-password")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("2000") || stderr(&o).contains("Bad Login"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("wrong-password"),
        "the password never appears"
    );

    let o = Command::new(BIN)
        .arg("--config")
        .arg(&w.config)
        .arg("check-config")
        .env_remove("BASELINER_QUALYS_PASSWORD")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no Qualys password"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_by_flags_is_picked_up_and_shown_by_status() {
    let mut w = World::new(fast_sim()).await;
    let mut daemon = w.start_daemon();
    // The daemon creates the spool; wait for it.
    let start = Instant::now();
    while !w.spool.join("incoming").is_dir() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "spool not created"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let o = w.cli(&[
        "submit",
        "--dry-run",
        "--org",
        "Flag Org",
        "--ips",
        "64.39.106.40,64.39.106.41",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2 address"), "{}", stdout(&o));

    let o = w.cli(&[
        "submit",
        "--org",
        "Flag Org",
        "--ips",
        "64.39.106.40,64.39.106.41",
        "--ips",
        "64.39.106.42",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let name = stdout(&o).trim().to_string();
    assert!(
        name.starts_with("flag-org-") && name.ends_with(".toml"),
        "{name}"
    );

    let bad = w.cli(&["submit", "--org", "Bad Org", "--ips", "10.1.2.3"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("10.1.2.3"), "{}", stderr(&bad));

    w.wait_for(
        Duration::from_secs(30),
        "the submitted job",
        all_finished(1),
    )
    .await;
    let st = &w.statuses()[0];
    assert_eq!(st["source"], name.as_str());
    assert_eq!(st["ips"], "64.39.106.40-64.39.106.42");
    let id = st["id"].as_str().expect("id").to_string();

    let table = w.cli(&["status"]);
    assert!(table.status.success());
    let t = stdout(&table);
    let row = t
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("a row for the job");
    assert!(row.contains("Flag Org") && row.contains("done"), "{row}");

    let one = w.cli(&["status", &id, "--json"]);
    assert!(one.status.success());
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).expect("json");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["state"], "done");

    let missing = w.cli(&["status", "20990101-000000-000001"]);
    assert_eq!(missing.status.code(), Some(2));
    let traversal = w.cli(&["status", "../../etc"]);
    assert_eq!(traversal.status.code(), Some(2));
    assert!(
        stderr(&traversal).contains("not a job id"),
        "{}",
        stderr(&traversal)
    );

    // A file submit validates the same way.
    let file = w.dir.path().join("byfile.json");
    std::fs::write(
        &file,
        r#"{"organization": "Json Org", "ips": ["64.39.106.50"]}"#,
    )
    .expect("write");
    let o = w.cli(&["submit", file.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "byfile.json");
    w.wait_for(Duration::from_secs(30), "the file job", all_finished(2))
        .await;

    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_scan() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(60);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("slow.toml", &job_toml("Slow Org", &["64.39.106.60"]));
    w.wait_for(Duration::from_secs(20), "the scan to run", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    let o = w.cli(&["cancel", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    w.wait_for(Duration::from_secs(20), "the cancel", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "canceled", "{st:#}");
    let j = w.journal();
    let cancels: Vec<_> = j
        .iter()
        .filter(|e| e.api == "/api/2.0/fo/scan/?action=cancel")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(param(cancels[0], "scan_ref"), st["scan_ref"].as_str());
    let again = w.cli(&["cancel", &id]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a finished job is not bad usage"
    );
    assert!(stderr(&again).contains("finished"), "{}", stderr(&again));
    let nonsense = w.cli(&["cancel", "../../etc"]);
    assert_eq!(nonsense.status.code(), Some(2));
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_notifies_systemd_and_survives_a_bad_reload() {
    let mut w = World::new(fast_sim()).await;
    let sock_path = w.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let notify = sock_path.to_str().expect("utf8").to_string();
    let mut daemon = w.start_daemon_with(&[("NOTIFY_SOCKET", &notify)]);
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("a notification within 10 s");
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(first.starts_with("READY=1\nSTATUS="), "{first:?}");

    // A broken config on SIGHUP is refused and the daemon keeps running on the old one.
    let good = std::fs::read_to_string(&w.config).expect("config");
    std::fs::write(&w.config, format!("{good}\n[bogus]\nkey = 1\n")).expect("write");
    let hup = Command::new("kill")
        .args(["-HUP", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        daemon.try_wait().expect("try_wait").is_none(),
        "still running"
    );
    assert!(w.logs().contains("reload refused"), "{}", w.logs());

    // A good config is taken, but [qualys] changes wait for a restart, and it says so.
    assert!(good.contains("request_timeout = \"5s\""), "{good}");
    let changed = good.replace("request_timeout = \"5s\"", "request_timeout = \"6s\"");
    std::fs::write(&w.config, changed).expect("write");
    let hup = Command::new("kill")
        .args(["-HUP", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let start = Instant::now();
    while !w.logs().contains("configuration reloaded") {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", w.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The credentials are checked again after a reload, not only at start.
    while w.logs().matches("login check: ok").count() < 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", w.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        w.logs()
            .contains("[qualys] and [limits].max_download changes take effect at the next start"),
        "{}",
        w.logs()
    );
    std::fs::write(&w.config, &good).expect("restore");
    w.drop_job("after.toml", &job_toml("After Reload", &["64.39.106.70"]));
    w.wait_for(
        Duration::from_secs(30),
        "a job after the reload",
        all_finished(1),
    )
    .await;

    // Read what was sent so far, as systemd does: the socket's queue is short (a full one
    // drops the daemon's notifications rather than block it), and STOPPING=1 must fit.
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    while sock.recv(&mut buf).is_ok() {}
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    let mut saw_stopping = false;
    while let Ok(n) = sock.recv(&mut buf) {
        saw_stopping |= String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1");
    }
    assert!(saw_stopping, "STOPPING=1 sent on SIGTERM");
    let prom = read(&w.dir.path().join("state/baseliner.prom"));
    assert!(prom.contains("baseliner_jobs{state=\"done\"} 1"), "{prom}");
    assert!(
        prom.contains("baseliner_api_calls_total{api=\"/api/2.0/fo/scan/?action=launch\"} 1"),
        "{prom}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_pause_every_job_without_failing_it() {
    let mut w = World::new(fast_sim()).await;
    let mut daemon = w.start_daemon_with(&[("BASELINER_QUALYS_PASSWORD", "not-the-password")]);
    w.drop_job("p.toml", &job_toml("Paused Org", &["64.39.106.80"]));
    let daemon_json = w.spool.join("daemon.json");
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&daemon_json).unwrap_or_default();
        if text.contains("account problem") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no pause: {text}\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let st = &w.statuses()[0];
    assert_ne!(
        st["state"], "failed",
        "an account problem does not fail jobs"
    );
    let table = stdout(&w.cli(&["status"]));
    assert!(table.contains("PAUSED"), "{table}");
    // While paused, nothing more is sent.
    let before = w.journal().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(w.journal().len(), before, "calls sent while paused");
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[test]
fn sim_prints_its_url_and_serves_the_template_list() {
    let mut child = Command::new(BIN)
        .args(["sim", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sim starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a line");
    let url = line.trim().to_string();
    let addr = url.strip_prefix("http://").expect("an http URL");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // demo:demo
    write!(
        s,
        "GET /msp/report_template_list.php HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic ZGVtbzpkZW1v\r\nX-Requested-With: test\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response");
    let _ = child.kill();
    let _ = child.wait();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("REPORT_TEMPLATE_LIST"), "{resp}");
}

#[test]
fn demo_runs_the_whole_workflow_and_says_where_the_outputs_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Command::new(BIN)
        .args(["demo", "--scan-seconds", "1", "--dir"])
        .arg(dir.path())
        .env_remove("NOTIFY_SOCKET")
        .output()
        .expect("demo runs");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    for step in [
        "accepted",
        "scan_running",
        "report_running",
        "downloading",
        "done",
    ] {
        assert!(out.contains(step), "progress shows {step}:\n{out}");
    }
    assert!(out.contains("is done"), "{out}");
    assert!(out.contains("Acme Corp"), "a realistic organization: {out}");
    for file in [
        "report.pdf",
        "results.json",
        "findings.csv",
        "summary.md",
        "summary.html",
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_end().ends_with(file))
            .unwrap_or_else(|| panic!("{file} not listed:\n{out}"));
        assert!(std::path::Path::new(line.trim()).is_file(), "{line}");
    }
}

/// Runs offline `check-config` on `w`'s config after replacing `from` with `to`.
fn check_config_with(w: &World, from: &str, to: &str) -> std::process::Output {
    let good = read(&w.config);
    assert!(good.contains(from), "config lacks {from:?}");
    let p = w.dir.path().join("variant.toml");
    write_private(&p, &good.replace(from, to));
    Command::new(BIN)
        .arg("--config")
        .arg(&p)
        .arg("check-config")
        .env("BASELINER_QUALYS_PASSWORD", "demo")
        .output()
        .expect("runs")
}

/// Offline `check-config` on `w`'s config with `[alerts].command = argv`.
fn check_config_with_alert(w: &World, argv: &[&str]) -> std::process::Output {
    let quoted: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    check_config_with(
        w,
        "[defaults]",
        &format!("[alerts]\ncommand = [{}]\n\n[defaults]", quoted.join(", ")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_refuses_what_the_daemon_refuses_and_says_valid_last() {
    let w = World::new(fast_sim()).await;
    let url = w.sim.url();

    // A URL with a path: `run` refuses it, so the offline check does too.
    let o = check_config_with(
        &w,
        &format!("url = \"{url}\""),
        &format!("url = \"{url}/api/2.0/\""),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("without a path"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("valid"), "{}", stdout(&o));

    // An alert command that does not exist, or is not executable, is named.
    let missing = w.dir.path().join("no-such-notify-team");
    let o = check_config_with_alert(&w, &[missing.to_str().expect("utf8"), "--urgent"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("[alerts].command"), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-notify-team"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("valid"), "{}", stdout(&o));
    let script = w.dir.path().join("notify-team");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
    let o = check_config_with_alert(&w, &[script.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2), "mode 0644 is not executable");
    assert!(stderr(&o).contains("not executable"), "{}", stderr(&o));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let o = check_config_with_alert(&w, &[script.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("valid"), "{}", stdout(&o));

    // An empty scope would refuse every job: the daemon does not start on it.
    let o = check_config_with(&w, "authorized = [\"64.39.96.0/20\"]", "authorized = []");
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("[scope].authorized is empty"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("valid"), "{}", stdout(&o));

    // The shipped example passes offline (its alert command is left commented out),
    // installed as the README installs it (0640; a checkout's 0644 would be refused).
    let example = w.dir.path().join("example.toml");
    write_private(
        &example,
        &read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/baseliner.toml")),
    );
    chmod(&example, 0o640);
    let o = Command::new(BIN)
        .arg("--config")
        .arg(&example)
        .arg("check-config")
        .env("BASELINER_QUALYS_PASSWORD", "x")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("alert    no command"), "{}", stdout(&o));
}
