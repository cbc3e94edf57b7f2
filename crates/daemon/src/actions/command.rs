//! Runs the alert command: argv as configured (no shell), stdin and stdout discarded,
//! in a process group of its own that is killed whole when it outlives its timeout (so a
//! script's children go too), with the last [`STDERR_TAIL`] bytes of stderr kept.
//!
//! The command gets a clean environment: nothing of the daemon's (which may hold
//! `BASELINER_QUALYS_PASSWORD` or `CREDENTIALS_DIRECTORY`) except `PATH`, `LANG` and `HOME`,
//! plus the job variables of [`JOB_VARIABLES`]. `PATH` defaults to [`DEFAULT_PATH`] when the
//! daemon has none.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How much of the end of stderr is kept, in bytes.
pub const STDERR_TAIL: usize = 2048;

/// The daemon's variables the command inherits (when set).
pub const INHERITED: &[&str] = &["PATH", "LANG", "HOME"];

/// `PATH` when the daemon has none.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The job variables the command may be given (see [`job_env`]); any other name passed
/// to [`run`] is dropped.
pub const JOB_VARIABLES: &[&str] = &[
    "BASELINER_JOB_ID",
    "BASELINER_JOB_DIR",
    "BASELINER_SUMMARY",
    "BASELINER_ALERT_REASON",
];

/// The job variables of an alert: the job id, its directory, the path of its `summary.md`
/// and why the alert fired.
pub fn job_env<'a>(
    job_id: &'a str,
    job_dir: &'a str,
    summary: &'a str,
    reason: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("BASELINER_JOB_ID", job_id),
        ("BASELINER_JOB_DIR", job_dir),
        ("BASELINER_SUMMARY", summary),
        ("BASELINER_ALERT_REASON", reason),
    ]
}

/// How a command run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// `ok`, `failed`, `timed out` or `not started: …`.
    pub status: String,
    /// The exit code, when it exited normally.
    pub exit_code: Option<i32>,
    /// The end of its stderr (lossy UTF-8).
    pub stderr_tail: String,
}

/// Runs `argv` with `extra` arguments appended and a clean environment holding
/// [`INHERITED`] and those of `env` named in [`JOB_VARIABLES`], waiting at most `timeout`.
pub fn run(
    argv: &[String],
    extra: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> CommandOutcome {
    let not_started = |why: String| CommandOutcome {
        status: format!("not started: {why}"),
        exit_code: None,
        stderr_tail: String::new(),
    };
    let Some((program, args)) = argv.split_first() else {
        return not_started("[alerts].command is empty".to_owned());
    };
    let mut command = Command::new(program);
    command.env_clear();
    for name in INHERITED {
        if let Some(v) = std::env::var_os(name) {
            command.env(name, v);
        }
    }
    if std::env::var_os("PATH").is_none() {
        command.env("PATH", DEFAULT_PATH);
    }
    for (name, value) in env {
        if JOB_VARIABLES.contains(name) {
            command.env(name, value);
        }
    }
    let spawned = command
        .args(args)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return not_started(format!("{program}: {e}")),
    };
    let (tx, rx) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        thread::spawn(move || {
            let mut tail: Vec<u8> = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            let _ = tx.send(tail);
        });
    }
    let deadline = Instant::now() + timeout;
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(_) => {
                kill_group(&mut child);
                break None;
            }
        }
    };
    // A grandchild may keep stderr open: do not wait for it for long.
    let tail = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
    let start = tail.len().saturating_sub(STDERR_TAIL);
    let stderr_tail = String::from_utf8_lossy(&tail[start..]).into_owned();
    match status {
        Some(st) if st.success() => CommandOutcome {
            status: "ok".to_owned(),
            exit_code: st.code(),
            stderr_tail,
        },
        Some(st) => CommandOutcome {
            status: "failed".to_owned(),
            exit_code: st.code(),
            stderr_tail,
        },
        None => CommandOutcome {
            status: format!("timed out after {}s, killed", timeout.as_secs()),
            exit_code: None,
            stderr_tail,
        },
    }
}

/// SIGKILLs the child's process group (the child leads it), falling back to the child
/// alone if the group cannot be signalled.
fn kill_group(child: &mut Child) {
    let group = rustix::process::Pid::from_child(child);
    if rustix::process::kill_process_group(group, rustix::process::Signal::KILL).is_err() {
        let _ = child.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()]
    }

    #[test]
    fn exit_code_and_stderr_tail_are_kept() {
        let out = run(
            &sh("printf 'x%.0s' $(seq 3000) >&2; echo \"$1 $2\" >&2; exit 3"),
            &["A", "B"],
            &[],
            Duration::from_secs(10),
        );
        assert_eq!(out.status, "failed");
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stderr_tail.len(), STDERR_TAIL);
        assert!(
            out.stderr_tail.ends_with("xA B\n"),
            "{:?}",
            &out.stderr_tail[STDERR_TAIL - 10..]
        );
    }

    #[test]
    fn timeout_kills() {
        let t0 = Instant::now();
        let out = run(
            &["/bin/sleep".into(), "30".into()],
            &[],
            &[],
            Duration::from_millis(200),
        );
        assert!(out.status.starts_with("timed out"), "{out:?}");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("grandchild.pid");
        // The script starts a grandchild that would outlive a kill of the script alone.
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let out = run(&sh(&script), &[], &[], Duration::from_millis(500));
        assert!(out.status.starts_with("timed out"), "{out:?}");
        let pid = std::fs::read_to_string(&pidfile).expect("the grandchild started");
        let proc_dir = std::path::Path::new("/proc").join(pid.trim());
        let gone_by = Instant::now() + Duration::from_secs(5);
        // A killed process may linger as a zombie until init reaps it: that counts as gone.
        let alive = || {
            std::fs::read_to_string(proc_dir.join("stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
        };
        while alive() && Instant::now() < gone_by {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "grandchild {} survived the timeout", pid.trim());
    }

    #[test]
    fn missing_program_is_reported() {
        let out = run(
            &["/nonexistent/notify".into()],
            &[],
            &[],
            Duration::from_secs(1),
        );
        assert!(
            out.status.starts_with("not started: /nonexistent/notify"),
            "{out:?}"
        );
        assert!(run(&[], &[], &[], Duration::from_secs(1))
            .status
            .contains("empty"));
    }

    #[test]
    fn the_environment_is_clean_but_for_path_lang_home_and_job_variables() {
        // The test process's own environment stands for the daemon's: cargo sets
        // CARGO_* variables for every test run.
        assert!(std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("CARGO")));
        let dir = tempfile::tempdir().expect("tempdir");
        let dump = dir.path().join("env");
        let script = format!("env > {}", dump.display());
        let vars = job_env(
            "J1",
            "/spool/jobs/J1",
            "/spool/jobs/J1/summary.md",
            "severity 5",
        );
        let mut env: Vec<(&str, &str)> = vars.to_vec();
        env.push(("BASELINER_QUALYS_PASSWORD", "leak"));
        env.push((
            "CREDENTIALS_DIRECTORY",
            "/run/credentials/baseliner.service",
        ));
        let out = run(&sh(&script), &[], &env, Duration::from_secs(10));
        assert_eq!(out.status, "ok", "{out:?}");
        let text = std::fs::read_to_string(&dump).expect("env dump");
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        for name in &names {
            assert!(
                INHERITED.contains(name)
                    || JOB_VARIABLES.contains(name)
                    || *name == "PWD"
                    || *name == "SHLVL"
                    || *name == "_",
                "{name} leaked into the command's environment:\n{text}"
            );
        }
        assert!(text.contains("BASELINER_JOB_ID=J1\n"), "{text}");
        assert!(text.contains("BASELINER_SUMMARY=/spool/jobs/J1/summary.md\n"));
        assert!(text.contains("BASELINER_ALERT_REASON=severity 5\n"));
        assert!(names.contains(&"PATH"), "{text}");
        assert!(!text.contains("leak") && !text.contains("CREDENTIALS_DIRECTORY"));
    }
}
