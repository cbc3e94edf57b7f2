//! Nothing the CLI writes into a directory others can write (`cancel/`, `incoming/`)
//! follows a link planted there: a symbolic or hard link at the old temporary name or at
//! the final name never redirects `baseliner cancel` or `baseliner submit`, the file it
//! points at keeps its bytes, and the request still takes effect.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A file outside the spool that a planted link points at.
fn victim(w: &World, name: &str) -> PathBuf {
    let dir = w.dir.path().join("victims");
    std::fs::create_dir_all(&dir).expect("victims");
    let p = dir.join(name);
    std::fs::write(&p, format!("{name}: not to be touched\n")).expect("victim");
    p
}

fn assert_untouched(victim: &Path) {
    let name = victim.file_name().and_then(|n| n.to_str()).expect("name");
    assert_eq!(
        read(victim),
        format!("{name}: not to be touched\n"),
        "{} was written through a planted link",
        victim.display()
    );
}

/// Waits until the daemon's log contains `needle`.
fn wait_log(w: &World, needle: &str) {
    let start = Instant::now();
    while !w.logs().contains(needle) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the daemon never logged {needle:?}:\n{}",
            w.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_never_writes_through_a_link_planted_in_cancel() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(60);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    for n in 0..4 {
        w.drop_job(
            &format!("slow{n}.toml"),
            &job_toml(&format!("Slow {n}"), &[&format!("64.39.106.{}", 70 + n)]),
        );
    }
    w.wait_for(Duration::from_secs(30), "four scans to run", |s| {
        s.len() == 4 && s.iter().all(|j| j["state"] == "scan_running")
    })
    .await;
    let ids: Vec<String> = w
        .statuses()
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    let cancel = w.spool.join("cancel");
    let victims: Vec<PathBuf> = (0..4).map(|n| victim(&w, &format!("v{n}"))).collect();
    // The old temporary name, as a symbolic link and as a hard link.
    std::os::unix::fs::symlink(&victims[0], cancel.join(format!(".{}.tmp", ids[0])))
        .expect("symlink");
    std::fs::hard_link(&victims[1], cancel.join(format!(".{}.tmp", ids[1]))).expect("link");
    // The final name as a symbolic link, seen (and skipped) by the daemon first.
    std::os::unix::fs::symlink(&victims[2], cancel.join(&ids[2])).expect("symlink");
    wait_log(
        &w,
        &format!("ignoring cancel request \"{}\": not a regular file", ids[2]),
    );
    // The final name as a hard link (the daemon may take it as a request meanwhile).
    std::fs::hard_link(&victims[3], cancel.join(&ids[3])).expect("link");

    for (n, id) in ids.iter().enumerate() {
        let o = w.cli(&["cancel", id]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            o.status.success() || (n == 3 && err.contains("nothing to cancel")),
            "cancel {id}: {err}"
        );
        assert_untouched(&victims[n]);
    }
    w.wait_for(Duration::from_secs(30), "every cancel", all_finished(4))
        .await;
    for st in w.statuses() {
        assert_eq!(st["state"], "canceled", "{st:#}");
    }
    for v in &victims {
        assert_untouched(v);
    }
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_never_writes_through_a_link_planted_in_incoming() {
    let mut w = World::new(fast_sim()).await;
    let incoming = w.spool.join("incoming");
    std::fs::create_dir_all(&incoming).expect("incoming");
    let v = victim(&w, "v");
    // The name submit takes first, as a symbolic link; the next one as a hard link.
    std::os::unix::fs::symlink(&v, incoming.join("byfile.toml")).expect("symlink");
    std::fs::hard_link(&v, incoming.join("byfile-2.toml")).expect("link");
    let file = w.dir.path().join("byfile.toml");
    std::fs::write(&file, job_toml("Link Org", &["64.39.106.90"])).expect("job");
    let o = w.cli(&["submit", file.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "byfile-3.toml");
    assert_untouched(&v);
    let placed = std::fs::symlink_metadata(incoming.join("byfile-3.toml")).expect("placed");
    assert!(placed.file_type().is_file());

    // The daemon takes the job and refuses the planted entries, touching nothing.
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(30), "the submitted job", |s| {
        s.iter().any(|j| j["organization"] == "Link Org")
    })
    .await;
    assert_rejected_reason(
        &w.spool.join("rejected"),
        "byfile.toml",
        "symbolic links are not accepted",
    );
    assert_untouched(&v);
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}
