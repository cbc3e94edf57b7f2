//! The harness for tests of the real `baseliner` binary: a simulator in this process on
//! 127.0.0.1, a temporary spool and state directory, a config pointing at the simulator,
//! and helpers to start, stop and kill the daemon and read its status files.

use qualys_sim::{JournalEntry, Sim, SimConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_baseliner");

/// A simulator tuned for tests: scans finish in about 1.5 s, reports in 0.3 s, and the
/// limits are generous unless a test sets its own.
pub fn fast_sim() -> SimConfig {
    SimConfig {
        scan_queued: Duration::from_millis(200),
        scan_running: Duration::from_millis(1000),
        scan_processing: Duration::from_millis(300),
        report_running: Duration::from_millis(300),
        rate_limit: 10_000,
        rate_window: Duration::from_secs(3600),
        concurrency_limit: 10,
        ..SimConfig::default()
    }
}

/// One test's world.
pub struct World {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The simulator.
    pub sim: Sim,
    /// The config file.
    pub config: PathBuf,
    /// The spool.
    pub spool: PathBuf,
    daemon_runs: u32,
}

impl World {
    /// A world with the default `[limits]`.
    pub async fn new(sim_cfg: SimConfig) -> World {
        World::with_config(sim_cfg, "").await
    }

    /// A world whose `[limits]` section holds `limits` (TOML lines).
    pub async fn with_config(sim_cfg: SimConfig, limits: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let sim = Sim::start(sim_cfg, ([127, 0, 0, 1], 0).into())
            .await
            .expect("simulator starts");
        let spool = dir.path().join("spool");
        let state = dir.path().join("state");
        let config = dir.path().join("baseliner.toml");
        let text = format!(
            r#"[qualys]
url = "{url}"
username = "demo"
request_timeout = "5s"
connect_timeout = "2s"

[paths]
spool = "{spool}"
state = "{state}"

[polling]
scan_first_check = "1s"
scan_every = "1s"
report_every = "500ms"
give_up_after = "1h"

[limits]
{limits}

[scope]
authorized = ["64.39.96.0/20"]

[defaults]
option_title = "New IPs option profile"
report_template_id = 1
report_format = "pdf"
results = ["report", "raw"]
"#,
            url = sim.url(),
            spool = spool.display(),
            state = state.display(),
        );
        std::fs::write(&config, text).expect("write config");
        World {
            dir,
            sim,
            config,
            spool,
            daemon_runs: 0,
        }
    }

    /// Starts `baseliner run` (stderr goes to `daemon-N.log` in the test directory).
    pub fn start_daemon(&mut self) -> Child {
        self.daemon_runs += 1;
        let log = std::fs::File::create(
            self.dir
                .path()
                .join(format!("daemon-{}.log", self.daemon_runs)),
        )
        .expect("log file");
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("BASELINER_QUALYS_PASSWORD", "demo")
            .env("BASELINER_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("daemon starts")
    }

    /// Every daemon log so far, concatenated (for failure messages).
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for n in 1..=self.daemon_runs {
            let p = self.dir.path().join(format!("daemon-{n}.log"));
            s.push_str(&format!("--- run {n}\n"));
            s.push_str(&std::fs::read_to_string(p).unwrap_or_default());
        }
        // Keep failure output readable.
        if s.len() > 20_000 {
            s = s[s.len() - 20_000..].to_string();
        }
        s
    }

    /// Runs a CLI command with this world's config.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("BASELINER_QUALYS_PASSWORD", "demo")
            .stdin(Stdio::null())
            .output()
            .expect("cli runs")
    }

    /// Drops a job file into `incoming/` atomically (dot-file, then rename).
    pub fn drop_job(&self, name: &str, content: &str) {
        let incoming = self.spool.join("incoming");
        std::fs::create_dir_all(&incoming).expect("incoming");
        let tmp = incoming.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, content).expect("write job");
        std::fs::rename(&tmp, incoming.join(name)).expect("rename job");
    }

    /// Every job's status.json, in id order.
    pub fn statuses(&self) -> Vec<Value> {
        let jobs = self.spool.join("jobs");
        let mut ids: Vec<String> = std::fs::read_dir(&jobs)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids.iter()
            .filter_map(|id| std::fs::read(jobs.join(id).join("status.json")).ok())
            .map(|b| serde_json::from_slice(&b).expect("status.json is always whole JSON"))
            .collect()
    }

    /// Waits (polling) until `pred` holds for the statuses, or panics after `limit`.
    pub async fn wait_for(&self, limit: Duration, what: &str, pred: impl Fn(&[Value]) -> bool) {
        let start = Instant::now();
        loop {
            if pred(&self.statuses()) {
                return;
            }
            if start.elapsed() > limit {
                panic!(
                    "timed out waiting for {what}; statuses: {:#?}\nlogs:\n{}",
                    self.statuses(),
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The simulator's journal.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.sim.journal()
    }

    /// A job directory.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.spool.join("jobs").join(id)
    }
}

/// True when every status is terminal and there are `n` of them.
pub fn all_finished(n: usize) -> impl Fn(&[Value]) -> bool {
    move |s: &[Value]| {
        s.len() == n
            && s.iter().all(|v| {
                matches!(
                    v["state"].as_str(),
                    Some("done") | Some("failed") | Some("canceled")
                )
            })
    }
}

/// A job file for `org` with `ips`.
pub fn job_toml(org: &str, ips: &[&str]) -> String {
    let ips: Vec<String> = ips.iter().map(|i| format!("{i:?}")).collect();
    format!("organization = {org:?}\nips = [{}]\n", ips.join(", "))
}

/// Sends SIGTERM to a child (no unsafe code: through kill(1)).
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM failed");
}

/// Waits for a child to exit, up to `limit`; returns its exit code (None: killed by signal).
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Entries of one API (`"<path>?action=<action>"`) that changed the simulator's model.
pub fn applied<'a>(journal: &'a [JournalEntry], api: &str) -> Vec<&'a JournalEntry> {
    journal
        .iter()
        .filter(|e| e.api == api && e.applied)
        .collect()
}

/// The value of a request parameter.
pub fn param<'a>(e: &'a JournalEntry, key: &str) -> Option<&'a str> {
    e.params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Reads a file to a string, naming it in the panic.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
