//! Hostile XML against the real daemon (issue 10 §4): the simulator answers now and then
//! with an internal DTD subset and a flat entity expansion (about 350 KB on the wire,
//! about 5 GB expanded). The client refuses such a body before parsing it (a protocol
//! error, retried with backoff), so the daemon stays up, every job still finishes, and its
//! peak resident memory (VmHWM) stays under 100 MB.

use crate::support::*;
use qualys_sim::Faults;
use std::time::Duration;

/// The peak resident set size of process `pid` in KiB (`VmHWM` of /proc/PID/status).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_expansion_bodies_now_and_then_leave_the_daemon_up_and_small() {
    let mut w = World::new(fast_sim()).await;
    w.set_polling("200ms", "200ms", "200ms");
    // The scan-based template takes the scan's ref (§7.1) before and after report
    // launches learn template types.
    w.replace_config("report_template_id = 1", "report_template_id = 4");
    w.sim.set_faults(Faults {
        seed: 10,
        p_hostile_xml: 0.25,
        ..Faults::default()
    });
    let n = 3;
    w.drop_batch(n, "Hostile", "Hostile org", "64.39.110");
    let mut daemon = w.start_daemon();
    let pid = daemon.id();
    w.wait_for(
        Duration::from_secs(90),
        "every job to finish",
        all_finished(n),
    )
    .await;
    assert!(
        daemon.try_wait().expect("daemon status").is_none(),
        "the daemon exited\n{}",
        w.logs()
    );
    let peak = peak_rss_kib(pid);
    wait_ready(&w, &daemon).await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(15)), Some(0));

    for s in w.statuses() {
        assert_eq!(s["state"], "done", "{s:#}\n{}", w.logs());
    }
    let logs = w.logs();
    let refused = logs.matches("refused before parsing").count();
    assert!(refused > 0, "the hostile fault never landed\n{logs}");
    assert!(
        peak < 100 * 1024,
        "peak RSS {peak} KiB is over 100 MB after {refused} hostile bodies"
    );
    eprintln!("hostile XML: {refused} bodies refused, daemon peak RSS {peak} KiB");
}
