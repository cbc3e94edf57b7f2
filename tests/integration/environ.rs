//! The daemon's environment stays its own: the password may be in it
//! (`BASELINER_QUALYS_PASSWORD`, or `CREDENTIALS_DIRECTORY`), and a process the daemon
//! starts — the alert command, running as the daemon's own user — must not read it from
//! `/proc/PPID/environ`. `baseliner run` marks itself non-dumpable for that.
//!
//! Root reads any process's environ (CAP_SYS_PTRACE), so when the tests run as root the
//! daemon runs as an unprivileged user (through `setpriv`), on a tree it owns.

use crate::support::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_command_cannot_read_the_daemons_environment() {
    let mut w = World::new(fast_sim()).await;
    let probe = w.dir.path().join("probe");
    std::fs::create_dir(&probe).expect("probe dir");
    let script = w.dir.path().join("read-parent-environ");
    // Records the parent's pid and whether the parent's environment could be read (and
    // held the password), then why not.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             out={probe}/result\n\
             if tr '\\0' '\\n' < /proc/$PPID/environ 2>{probe}/error | grep -q '^BASELINER_QUALYS_PASSWORD=demo$'; \
             then r=readable; else r=denied; fi\n\
             echo \"$PPID $r\" > $out.tmp && mv $out.tmp $out\n",
            probe = probe.display()
        ),
    )
    .expect("script");
    chmod(&script, 0o755);
    let text = read(&w.config).replace(
        "[defaults]",
        &format!(
            "[alerts]\nmin_severity = 1\ncommand = [\"{}\"]\n\n[defaults]",
            script.display()
        ),
    );
    std::fs::write(&w.config, text).expect("config");

    let mut daemon = w.start_daemon_unprivileged();
    let logs = || w.last_log();
    // The daemon makes the spool (as its user) before the test drops anything into it.
    wait_ready(&w, &daemon).await;
    w.drop_job("alert.toml", &job_toml("Environ Org", &["64.39.106.5"]));

    let result = probe.join("result");
    let start = Instant::now();
    while !result.exists() {
        assert!(
            daemon.try_wait().expect("try_wait").is_none(),
            "the daemon stopped:\n{}",
            logs()
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the alert command never ran; statuses {:#?}\n{}",
            w.statuses(),
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = read(&result);
    let (ppid, outcome) = line.trim().split_once(' ').expect("PPID OUTCOME");
    assert_eq!(
        ppid,
        daemon.id().to_string(),
        "the alert command's parent is the daemon"
    );
    assert_eq!(
        outcome,
        "denied",
        "the alert command read the daemon's environment, password included \
         (the daemon is dumpable); /proc/PPID/environ error: {:?}",
        std::fs::read_to_string(probe.join("error")).unwrap_or_default()
    );
    sigterm(&daemon);
    assert_eq!(
        wait_exit(&mut daemon, Duration::from_secs(10)),
        Some(0),
        "{}",
        logs()
    );
}
