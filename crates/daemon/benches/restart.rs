//! Restart benchmark of the real binary: 10,000 unfinished jobs are recorded directly with
//! `Store::accept` in a state directory, then `baseliner run` starts with `NOTIFY_SOCKET`
//! pointing at a datagram socket bound here; the time to `READY=1` and the peak RSS
//! (`VmHWM` from /proc/PID/status) are printed, then SIGTERM. A second run with no jobs
//! measures idle RSS and CPU (utime+stime from /proc/PID/stat over `IDLE` seconds).
//!
//! Run with `cargo bench -p baseliner --bench restart` (`BENCH_JOBS` overrides 10,000).

use baseliner_core::config::Config;
use baseliner_core::job::parse_job;
use baseliner_core::store::Store;
use baseliner_core::time::Timestamp;
use qualys_sim::{Sim, SimConfig};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_baseliner");
/// Seconds of idle measured.
const IDLE: u64 = 10;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn config_text(url: &str, dir: &Path) -> String {
    format!(
        "[qualys]\nurl = \"{url}\"\nusername = \"demo\"\n\n[paths]\nspool = \"{}\"\nstate = \"{}\"\n\n\
         [scope]\nauthorized = [\"64.32.0.0/11\"]\n",
        dir.join("spool").display(),
        dir.join("state").display()
    )
}

/// Writes a config file 0600: the daemon refuses one writable by group or others.
fn write_config(path: &Path, text: &str) -> BenchResult<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Records `n` jobs in the store under `dir/state/store`, as intake would.
fn seed_jobs(dir: &Path, url: &str, n: usize) -> BenchResult<Duration> {
    let cfg = Config::parse(&config_text(url, dir))?;
    let rules = cfg.job_rules();
    std::fs::create_dir_all(dir.join("state"))?;
    let store = Store::open(&dir.join("state").join("store"))?;
    let t = Instant::now();
    for i in 0..n {
        let name = format!("seed{i:05}.toml");
        let text = format!(
            "organization = \"Restart {i}\"\nips = [\"64.{}.{}.{}\"]\n",
            32 + i / 65_536,
            (i / 256) % 256,
            i % 256
        );
        let job = parse_job(&name, text.as_bytes(), &rules)?;
        store.accept(&format!("{name}:{i}"), &name, &job, Timestamp::now())?;
    }
    Ok(t.elapsed())
}

/// Starts the daemon with NOTIFY_SOCKET; returns it and the time to READY=1.
fn start_until_ready(config: &Path, socket: &Path) -> BenchResult<(Child, Duration)> {
    let _ = std::fs::remove_file(socket);
    let sock = UnixDatagram::bind(socket)?;
    sock.set_read_timeout(Some(Duration::from_secs(1)))?;
    let t = Instant::now();
    let child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("BASELINER_QUALYS_PASSWORD", "demo")
        .env("BASELINER_LOG", "warn")
        .env("NOTIFY_SOCKET", socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut buf = [0u8; 4096];
    loop {
        if t.elapsed() > Duration::from_secs(300) {
            return Err("no READY=1 within 300 s".into());
        }
        match sock.recv(&mut buf) {
            Ok(n) => {
                let msg = String::from_utf8_lossy(&buf[..n]);
                if msg.lines().any(|l| l == "READY=1") {
                    return Ok((child, t.elapsed()));
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// A `/proc/PID/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> BenchResult<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{field} missing from /proc/{pid}/status").into())
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> BenchResult<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = text.rsplit_once(')').map(|(_, r)| r).ok_or("bad stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let utime: u64 = f.get(11).ok_or("no utime")?.parse()?;
    let stime: u64 = f.get(12).ok_or("no stime")?.parse()?;
    Ok(utime + stime)
}

fn stop(child: &mut Child) -> BenchResult<()> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    let t = Instant::now();
    while child.try_wait()?.is_none() {
        if t.elapsed() > Duration::from_secs(30) {
            child.kill()?;
            return Err("the daemon did not stop within 30 s of SIGTERM".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn main() -> BenchResult<()> {
    let jobs: usize = match std::env::var("BENCH_JOBS") {
        Ok(v) => v.trim().parse()?,
        Err(_) => 10_000,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // A real simulator on loopback, so the restarted daemon talks to something local.
    let sim = rt.block_on(Sim::start(SimConfig::default(), ([127, 0, 0, 1], 0).into()))?;
    let url = sim.url();

    let tmp = tempfile::tempdir()?;
    let seeded = seed_jobs(tmp.path(), &url, jobs)?;
    println!(
        "recorded {jobs} unfinished jobs with Store::accept in {:.1}s",
        seeded.as_secs_f64()
    );
    let config = tmp.path().join("baseliner.toml");
    write_config(&config, &config_text(&url, tmp.path()))?;
    let socket = tmp.path().join("notify.sock");
    let (mut child, ready) = start_until_ready(&config, &socket)?;
    let hwm = status_kib(child.id(), "VmHWM:")?;
    println!(
        "restart with {jobs} unfinished jobs: READY=1 after {:.3}s, peak RSS (VmHWM) {hwm} KiB",
        ready.as_secs_f64()
    );
    stop(&mut child)?;

    let idle_dir = tempfile::tempdir()?;
    let idle_config = idle_dir.path().join("baseliner.toml");
    write_config(&idle_config, &config_text(&url, idle_dir.path()))?;
    let (mut child, ready) = start_until_ready(&idle_config, &idle_dir.path().join("n.sock"))?;
    std::thread::sleep(Duration::from_secs(1));
    let before = cpu_ticks(child.id())?;
    std::thread::sleep(Duration::from_secs(IDLE));
    let after = cpu_ticks(child.id())?;
    let rss = status_kib(child.id(), "VmRSS:")?;
    let hwm = status_kib(child.id(), "VmHWM:")?;
    // CLK_TCK is 100 on Linux x86-64 (getconf CLK_TCK).
    let cpu_ms = (after - before) * 10;
    println!(
        "idle, no jobs: READY=1 after {:.3}s; RSS {rss} KiB (peak {hwm} KiB); CPU {cpu_ms} ms over {IDLE} s = {:.2}%",
        ready.as_secs_f64(),
        cpu_ms as f64 / (IDLE as f64 * 10.0)
    );
    stop(&mut child)?;
    rt.block_on(sim.shutdown());
    Ok(())
}
