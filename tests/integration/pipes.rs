//! Every command that prints, with its standard output closed before it writes (a pipe
//! whose reader is gone, as in `baseliner status | true`): it ends quietly with exit status
//! 141 (what a shell reports for `ls | head` killed by SIGPIPE), never a panic.

use crate::support::*;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs `args` (after `--config` when `config` is given) with stdout a pipe whose read end
/// is already closed, so the first write fails with EPIPE; `limit` bounds the run.
fn closed_stdout(w: Option<&World>, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = Command::new(BIN);
    if let Some(w) = w {
        cmd.arg("--config").arg(&w.config);
    }
    let mut child = cmd
        .args(args)
        .env("BASELINER_QUALYS_PASSWORD", "demo")
        .env_remove("BASELINER_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let code = wait_exit(&mut child, Duration::from_secs(30));
    if code.is_none() {
        let _ = child.kill();
    }
    child.wait_with_output().expect("output")
}

fn assert_quiet(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(141),
        "{what}: exit status {:?}, stderr: {err}",
        o.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{what}: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_ends_quietly_when_its_reader_is_gone() {
    let mut w = World::new(fast_sim()).await;
    assert_eq!(
        w.run_until_finished(0, Duration::from_secs(10), "the spool")
            .await,
        Some(0)
    );
    w.drop_job("done.toml", &job_toml("Done Org", &["64.39.100.70"]));
    assert_eq!(
        w.run_until_finished(1, Duration::from_secs(30), "the job")
            .await,
        Some(0)
    );
    let done = w.statuses()[0]["id"].as_str().expect("id").to_string();
    // A job that is not finished, for cancel: an accepted record the daemon is not running.
    let job = w.job_dir(&done);
    let open_id = "20990101-000000-000001";
    let open = w.job_dir(open_id);
    std::fs::create_dir_all(&open).expect("dir");
    let mut st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job.join("status.json")).expect("status"))
            .expect("json");
    st["id"] = open_id.into();
    st["state"] = "scan_running".into();
    std::fs::write(
        open.join("status.json"),
        serde_json::to_vec(&st).expect("json"),
    )
    .expect("write");
    let job_file = w.dir.path().join("job.toml");
    std::fs::write(&job_file, job_toml("Piped Org", &["64.39.100.71"])).expect("job");
    let job_file = job_file.to_str().expect("utf8");

    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["status", done.as_str()],
        vec!["status", done.as_str(), "--json"],
        vec!["check-config"],
        vec!["submit", "--dry-run", job_file],
        vec!["submit", job_file],
        vec!["cancel", open_id],
        vec!["--help"],
        vec!["status", "--help"],
    ] {
        assert_quiet(&closed_stdout(Some(&w), &args), &args.join(" "));
    }
    for args in [
        vec![
            "demo",
            "--dir",
            w.dir.path().join("demo").to_str().expect("utf8"),
        ],
        vec!["sim"],
    ] {
        assert_quiet(&closed_stdout(None, &args), &args.join(" "));
    }
}
