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

/// A running `baseliner run` child. Dropping it kills the process if it still runs, so a
/// failing test never leaves a daemon behind.
pub struct Daemon(Child);

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl From<Child> for Daemon {
    fn from(child: Child) -> Daemon {
        Daemon(child)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
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
retry_first = "200ms"
retry_max = "2s"
absence_margin = "2s"

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
        write_private(&config, &text);
        World {
            dir,
            sim,
            config,
            spool,
            daemon_runs: 0,
        }
    }

    /// Starts `baseliner run` (stderr goes to `daemon-N.log` in the test directory).
    pub fn start_daemon(&mut self) -> Daemon {
        self.start_daemon_with(&[])
    }

    /// Starts `baseliner run` with extra environment variables (they win over the defaults).
    pub fn start_daemon_with(&mut self, env: &[(&str, &str)]) -> Daemon {
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
            .env_remove("BASELINER_CRASH_AT")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map(Daemon)
            .expect("daemon starts")
    }

    /// Starts `baseliner run` as a user without privileges, so that file modes and
    /// `/proc` access checks apply to it: when the tests run as root, as uid and gid
    /// [`DAEMON_UID`] (through setpriv) on this world's tree, given to that user; else as
    /// the current user.
    pub fn start_daemon_unprivileged(&mut self) -> Daemon {
        if !is_root() {
            return self.start_daemon();
        }
        chown_tree(self.dir.path(), DAEMON_UID);
        self.daemon_runs += 1;
        let log = std::fs::File::create(
            self.dir
                .path()
                .join(format!("daemon-{}.log", self.daemon_runs)),
        )
        .expect("log file");
        let user = User {
            uid: DAEMON_UID,
            gid: DAEMON_UID,
            groups: &[DAEMON_UID],
            umask: "0027",
        };
        user.command(
            BIN,
            &["--config", self.config.to_str().expect("utf8"), "run"],
        )
        .env("BASELINER_LOG", "info")
        .env_remove("BASELINER_CRASH_AT")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Daemon)
        .expect("daemon starts")
    }

    /// Starts the daemon, waits until `n` jobs are finished (up to `limit`) and the daemon
    /// is ready, then stops it with SIGTERM; returns its exit code.
    pub async fn run_until_finished(
        &mut self,
        n: usize,
        limit: Duration,
        what: &str,
    ) -> Option<i32> {
        let mut daemon = self.start_daemon();
        self.wait_for(limit, what, all_finished(n)).await;
        // SIGTERM before the handlers are installed would kill it outright.
        wait_ready(self, &daemon).await;
        sigterm(&daemon);
        wait_exit(&mut daemon, Duration::from_secs(10))
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

    /// The whole log of the latest daemon started (empty before the first).
    pub fn last_log(&self) -> String {
        let p = self
            .dir
            .path()
            .join(format!("daemon-{}.log", self.daemon_runs));
        std::fs::read_to_string(p).unwrap_or_default()
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

    /// Runs a CLI command with this world's config, `input` on its standard input. A
    /// command that exits before reading all of it is fine (the write error is ignored).
    pub fn cli_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("BASELINER_QUALYS_PASSWORD", "demo")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cli runs");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("cli ends");
        writer.join().expect("writer thread");
        out
    }

    /// Drops a job file into `incoming/` atomically (dot-file, then rename).
    pub fn drop_job(&self, name: &str, content: &str) {
        let incoming = self.spool.join("incoming");
        std::fs::create_dir_all(&incoming).expect("incoming");
        let tmp = incoming.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, content).expect("write job");
        std::fs::rename(&tmp, incoming.join(name)).expect("rename job");
    }

    /// Drops `count` one-address jobs: `{tag}NN.toml` for organization `{org} N` scanning
    /// `{net}.N` (`net` is the first three octets).
    pub fn drop_batch(&self, count: usize, tag: &str, org: &str, net: &str) {
        for n in 0..count {
            self.drop_job(
                &format!("{tag}{n:02}.toml"),
                &job_toml(&format!("{org} {n}"), &[&format!("{net}.{n}")]),
            );
        }
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

/// Writes a config file as the daemon requires it: not writable by group or others (0600,
/// whatever the umask). Rewriting the file later with `std::fs::write` keeps its mode.
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // An existing file keeps its mode through open(2): set it.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .expect("chmod 600");
    f.write_all(text.as_bytes()).expect("write config");
}

/// Sets a file's permission bits.
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// The uid and gid [`World::start_daemon_unprivileged`] runs the daemon as, when the tests
/// run as root: a user of nothing else.
pub const DAEMON_UID: u32 = 61_235;

/// Gives every file and directory under `dir` to `uid`:`uid`.
pub fn chown_tree(dir: &Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid)).expect("chown");
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if e.file_type().expect("file type").is_dir() {
            chown_tree(&p, uid);
        } else {
            std::os::unix::fs::chown(&p, Some(uid), Some(uid)).expect("chown");
        }
    }
}

/// True when the tests run as root (and so can run processes as other users).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A user: uid, primary gid, supplementary groups, umask.
#[derive(Clone, Copy)]
pub struct User<'a> {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: &'a [u32],
    /// The umask its processes start with.
    pub umask: &'a str,
}

impl User<'_> {
    /// `program args…` as this user (setpriv switches ids; the shell sets the umask, then
    /// execs, so the program keeps the shell's pid).
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let groups: Vec<String> = self.groups.iter().map(u32::to_string).collect();
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg(format!("--groups={}", groups.join(",")))
            .args(["--", "/bin/sh", "-c"])
            .arg(format!("umask {} && exec \"$0\" \"$@\"", self.umask))
            .arg(program)
            .args(args)
            .env("BASELINER_QUALYS_PASSWORD", "demo")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null());
        c
    }

    /// Runs `program args…` as this user and collects its output.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args).output().expect("runs")
    }
}

/// Waits until `daemon.json` names this daemon (it is written once the daemon is ready,
/// after its signal handlers are installed).
pub async fn wait_ready(w: &World, daemon: &Child) {
    let path = w.spool.join("daemon.json");
    let t = Instant::now();
    loop {
        let pid = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["pid"].as_u64());
        if pid == Some(u64::from(daemon.id())) {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the daemon never became ready\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
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

/// Asserts that `rejected/{name}.error` is one line that contains `needle`.
pub fn assert_rejected_reason(rejected: &Path, name: &str, needle: &str) {
    let reason = read(&rejected.join(format!("{name}.error")));
    assert_eq!(reason.lines().count(), 1, "{name}: one line: {reason:?}");
    assert!(
        reason.contains(needle),
        "{name}: {reason:?} lacks {needle:?}"
    );
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

// ---- Helpers for the crash, fault and bad-input suites (crash.rs, faults.rs, bad_input.rs).

/// API keys of the calls that change Qualys and must happen once per job.
pub const LAUNCH_SCAN_API: &str = "/api/2.0/fo/scan/?action=launch";
/// Report launch.
pub const LAUNCH_REPORT_API: &str = "/api/2.0/fo/report/?action=launch";
/// Asset group creation.
pub const ADD_GROUP_API: &str = "/api/2.0/fo/asset/group/?action=add";
/// Asset group extension.
pub const EDIT_GROUP_API: &str = "/api/2.0/fo/asset/group/?action=edit";

impl World {
    /// Rewrites `[polling]` so that scans are first checked after `first` and then every
    /// `every`, and reports every `report` (values in the config's duration syntax, e.g. "200ms").
    pub fn set_polling(&self, first: &str, every: &str, report: &str) {
        let text = read(&self.config)
            .replace(
                "scan_first_check = \"1s\"",
                &format!("scan_first_check = \"{first}\""),
            )
            .replace("scan_every = \"1s\"", &format!("scan_every = \"{every}\""))
            .replace(
                "report_every = \"500ms\"",
                &format!("report_every = \"{report}\""),
            );
        std::fs::write(&self.config, text).expect("rewrite config");
    }

    /// Replaces one config line (the whole `key = value` text) with another.
    pub fn replace_config(&self, from: &str, to: &str) {
        let text = read(&self.config);
        assert!(text.contains(from), "config lacks {from:?}");
        std::fs::write(&self.config, text.replace(from, to)).expect("rewrite config");
    }

    /// Names of the files in `incoming/` that intake would look at.
    pub fn incoming_candidates(&self) -> Vec<String> {
        std::fs::read_dir(self.spool.join("incoming"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| {
                        !n.starts_with('.') && (n.ends_with(".toml") || n.ends_with(".json"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A job's applied calls of `api` whose parameter `key` contains `needle`.
pub fn applied_matching(journal: &[JournalEntry], api: &str, key: &str, needle: &str) -> usize {
    applied(journal, api)
        .into_iter()
        .filter(|e| param(e, key).is_some_and(|v| v.contains(needle)))
        .count()
}

/// The guarantees every suite checks once all jobs have finished: each status.json is
/// whole JSON and `done`; per job exactly one group creation (and no extension, every
/// organization being new), exactly one applied scan launch and at most one applied report
/// launch; no temporary file left in a job directory; a PDF report is complete.
/// `dropped` is every job file the test dropped (name, content) that should be accepted:
/// each must be in exactly one `jobs/ID/submitted.*`.
pub fn assert_exactly_once(w: &World, dropped: &[(String, String)]) {
    let statuses = w.statuses();
    let j = w.journal();
    let ctx = || w.logs();
    assert_eq!(
        statuses.len(),
        dropped.len(),
        "one job per dropped file (no file lost, none accepted twice)\n{}",
        ctx()
    );
    let mut orgs = std::collections::HashSet::new();
    for st in &statuses {
        let id = st["id"].as_str().expect("status has an id");
        assert_eq!(
            st["state"],
            "done",
            "job {id} is not done: {st:#}\n{}",
            ctx()
        );
        let org = st["organization"].as_str().expect("organization");
        assert!(orgs.insert(org.to_string()), "two jobs for {org:?}");
        let tag = format!(" [{id}]");
        let scans = applied_matching(&j, LAUNCH_SCAN_API, "scan_title", &tag);
        assert_eq!(scans, 1, "applied scan launches for job {id}\n{}", ctx());
        let reports = applied_matching(&j, LAUNCH_REPORT_API, "report_title", &tag);
        // A job whose accepted job.toml plans a report launched exactly one, else none.
        let job_toml = read(&w.job_dir(id).join("job.toml"));
        // A scan that reached no host (SUB_STATE No_Host) skips its report, saying so.
        let no_host = st["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("No_Host"));
        let planned = job_toml.contains("\"report\"")
            && !job_toml.contains("report_template_id = 0")
            && job_toml.contains("report_template_id = ")
            && !no_host;
        assert_eq!(
            reports,
            usize::from(planned),
            "applied report launches for job {id}\n{}",
            ctx()
        );
        let adds = applied(&j, ADD_GROUP_API)
            .into_iter()
            .filter(|e| param(e, "title") == Some(org))
            .count();
        assert_eq!(adds, 1, "applied group creations for {org:?}\n{}", ctx());
        let dir = w.job_dir(id);
        for e in std::fs::read_dir(&dir).expect("job dir").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let temporary =
                (name.starts_with('.') && name.ends_with(".tmp")) || name.ends_with(".part");
            assert!(
                !temporary,
                "temporary file {name} left in the directory of done job {id}"
            );
        }
        let pdf = dir.join("report.pdf");
        if pdf.exists() {
            let bytes = std::fs::read(&pdf).expect("report.pdf");
            let trimmed = bytes.trim_ascii_end();
            assert!(
                bytes.starts_with(b"%PDF") && trimmed.ends_with(b"%%EOF"),
                "report.pdf of job {id} is incomplete ({} bytes)",
                bytes.len()
            );
        }
        let results = dir.join("results.json");
        if results.exists() {
            let _: Value = serde_json::from_slice(&std::fs::read(&results).expect("results"))
                .unwrap_or_else(|e| panic!("results.json of job {id} is not whole JSON: {e}"));
        }
    }
    let edits = applied(&j, EDIT_GROUP_API).len();
    assert_eq!(
        edits, 0,
        "every organization is new: no group extension expected"
    );
    for (name, content) in dropped {
        let holders: Vec<String> = statuses
            .iter()
            .filter_map(|st| st["id"].as_str())
            .filter(|id| {
                ["submitted.toml", "submitted.json"].iter().any(|f| {
                    std::fs::read_to_string(w.job_dir(id).join(f)).is_ok_and(|c| c == *content)
                })
            })
            .map(str::to_string)
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "{name} must be in exactly one jobs/ID/submitted.*, found in {holders:?}"
        );
    }
    assert!(
        w.incoming_candidates().is_empty(),
        "files left in incoming/: {:?}",
        w.incoming_candidates()
    );
}

/// A webhook receiver on 127.0.0.1: records each POST body (and appends it as one line
/// to `log`, when given) and answers 204. Returns its URL and the bodies.
pub async fn webhook_receiver(
    log: Option<PathBuf>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = conn.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]);
                        if let Some(log) = &log {
                            use std::io::Write as _;
                            let line = body.replace('\n', " ");
                            let mut f = std::fs::OpenOptions::new()
                                .create(true)
                                .append(true)
                                .open(log)
                                .expect("webhook log");
                            writeln!(f, "{line}").expect("webhook log line");
                        }
                        seen.lock().expect("lock").push(body.into_owned());
                        let _ = conn
                            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        return;
                    }
                }
            });
        }
    });
    (url, bodies)
}
