//! `status` tells the truth a script can use: `status --json` is one object (the daemon,
//! the queued, staged and rejected files, the jobs with what each waits for); a job held
//! back by a rate limit says so and until when; one failed batched call is one warning
//! naming the jobs it served.

use crate::support::*;
use qualys_sim::Faults;
use serde_json::Value;
use std::time::{Duration, Instant};

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_is_one_object_with_daemon_files_and_jobs() {
    let mut w = World::new(fast_sim()).await;
    w.drop_job("good.toml", &job_toml("Good Org", &["64.39.100.80"]));
    // Refused: outside the scope; and a name carrying a control character.
    w.drop_job("scope.toml", &job_toml("Bad Org", &["10.0.0.1"]));
    w.drop_job("bad\u{1b}[2J.toml", &job_toml("Bad Org", &["64.39.100.80"]));
    assert_eq!(
        w.run_until_finished(1, Duration::from_secs(30), "the good job")
            .await,
        Some(0)
    );
    // Dropped while no daemon runs: queued.
    w.drop_job("later.toml", &job_toml("Later Org", &["64.39.100.81"]));

    let v = json(&w.cli(&["status", "--json"]));
    assert!(v.is_object(), "one object, not the job list: {v:#}");
    let d = &v["daemon"];
    assert_eq!(d["liveness"], "stopped", "{v:#}");
    assert_eq!(d["pid"], Value::Null, "{v:#}");
    assert_eq!(d["paused"], Value::Null, "{v:#}");
    assert_eq!(d["reload"], Value::Null, "{v:#}");
    assert_eq!(d["rate_limits"], serde_json::json!([]), "{v:#}");
    let queued = v["queued"].as_array().expect("queued");
    assert_eq!(queued.len(), 1, "{v:#}");
    assert_eq!(queued[0]["name"], "later.toml");
    assert!(queued[0]["modified"].as_str().is_some(), "{v:#}");
    assert_eq!(v["staged"], serde_json::json!([]), "{v:#}");
    let rejected = v["rejected"].as_array().expect("rejected");
    assert_eq!(rejected.len(), 2, "{v:#}");
    let reason_of = |name: &str| {
        rejected
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_else(|| panic!("no {name:?} in {v:#}"))
            .to_string()
    };
    assert!(reason_of("scope.toml").contains("10.0.0.1"), "{v:#}");
    let hostile = reason_of("bad_[2J.toml");
    assert!(hostile.contains("control characters"), "{hostile}");
    assert!(!hostile.contains('\u{1b}'), "{hostile:?}");
    let jobs = v["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 1, "{v:#}");
    assert_eq!(jobs[0]["state"], "done");
    assert_eq!(
        jobs[0]["waiting"],
        Value::Null,
        "a finished job waits for nothing"
    );
    assert!(jobs[0].get("record").is_none(), "the witness is internal");

    // The table shows the rejected file with its reason, sanitized.
    let table = text(&w.cli(&["status"]));
    let row = table
        .lines()
        .find(|l| l.contains("rejected/scope.toml"))
        .unwrap_or_else(|| panic!("no rejected row: {table}"));
    assert!(table.contains("rejected/bad_[2J.toml: "), "{table}");
    assert!(
        row.contains(" rejected ") && row.contains("10.0.0.1"),
        "{row}"
    );
    assert!(!table.contains('\u{1b}'), "{table:?}");

    // While the daemon runs: its pid, liveness, and the job's wait for its next poll.
    let mut sim_slow = w.start_daemon();
    let t = Instant::now();
    let running = loop {
        let v = json(&w.cli(&["status", "--json"]));
        if v["daemon"]["liveness"] == "running" && v["jobs"].as_array().map(Vec::len) == Some(2) {
            break v;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{v:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        running["daemon"]["pid"].as_u64(),
        Some(u64::from(sim_slow.id())),
        "{running:#}"
    );
    sigterm(&sim_slow);
    assert_eq!(wait_exit(&mut sim_slow, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_held_back_by_a_rate_limit_says_which_and_until_when() {
    let mut sim = fast_sim();
    // Two calls per API a day: the third scan poll waits for hours.
    sim.rate_limit = 2;
    sim.rate_window = Duration::from_secs(24 * 3600);
    sim.scan_running = Duration::from_secs(600);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("wait.toml", &job_toml("Waiting Org", &["64.39.100.82"]));
    let polls = |w: &World| {
        w.journal()
            .iter()
            .filter(|e| e.api == SCAN_LIST_API)
            .count()
    };
    let t = Instant::now();
    while polls(&w) < 2 && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(polls(&w) >= 2, "the scan was polled twice\n{}", w.logs());
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    let t = Instant::now();
    let one = loop {
        let one = text(&w.cli(&["status", &id]));
        if one.contains("waiting for the rate limit") {
            break one;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "status never said the job waits for the rate limit:\n{one}\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let line = one
        .lines()
        .find(|l| l.starts_with("next action "))
        .unwrap_or_else(|| panic!("{one}"));
    assert!(
        line.starts_with(&format!(
            "next action   waiting for the rate limit of {SCAN_LIST_API} until "
        )),
        "{line}"
    );
    assert!(!one.contains("next action   now"), "{one}");
    let v = json(&w.cli(&["status", "--json"]));
    let waiting = &v["jobs"][0]["waiting"];
    assert_eq!(waiting["for"], "rate_limit", "{v:#}");
    assert_eq!(waiting["api"], SCAN_LIST_API, "{v:#}");
    let until = waiting["until"].as_str().expect("until");
    let limits = v["daemon"]["rate_limits"].as_array().expect("rate_limits");
    let wait = limits
        .iter()
        .find(|l| l["api"] == SCAN_LIST_API)
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(wait["until"], until, "{v:#}");
    assert_eq!(wait["jobs"], serde_json::json!([id]), "{v:#}");
    assert!(wait["why"].as_str().is_some_and(|w| !w.is_empty()), "{v:#}");
    let table = text(&w.cli(&["status"]));
    let row = table
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("rate limit"), "{row}");
    assert!(
        table.contains(&format!("RATE LIMIT: no call of {SCAN_LIST_API} until ")),
        "{table}"
    );
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

const SCAN_LIST_API: &str = "/api/3.0/fo/scan/?action=list";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_scan_list_is_one_warning_naming_its_jobs() {
    let mut w = World::new(fast_sim()).await;
    let mut sim_faults = w.start_daemon();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        w.drop_job(
            &format!("{name}.toml"),
            &job_toml(
                &format!("Batch {name}"),
                &[&format!("64.39.100.{}", 90 + i)],
            ),
        );
    }
    w.wait_for(Duration::from_secs(20), "three running scans", |s| {
        s.len() == 3 && s.iter().all(|v| v["state"] == "scan_running")
    })
    .await;
    let ids: Vec<String> = w
        .statuses()
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    w.sim.set_faults(Faults {
        seed: 3,
        p_5xx: 1.0,
        only_apis: vec![SCAN_LIST_API.to_string()],
        ..Faults::default()
    });
    let failed = |w: &World| {
        w.journal()
            .iter()
            .filter(|e| e.api == SCAN_LIST_API && e.status == 500)
            .count()
    };
    let t = Instant::now();
    while failed(&w) < 3 && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.sim.set_faults(Faults::default());
    w.wait_for(
        Duration::from_secs(30),
        "every job to finish",
        all_finished(3),
    )
    .await;
    sigterm(&sim_faults);
    assert_eq!(wait_exit(&mut sim_faults, Duration::from_secs(10)), Some(0));
    let calls = failed(&w);
    assert!(calls >= 3, "{calls} failed scan lists");
    let logs = w.logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("HTTP 500"))
        .collect();
    assert_eq!(
        warnings.len(),
        calls,
        "one warning per failed call ({calls}), got:\n{}",
        warnings.join("\n")
    );
    assert!(
        warnings
            .iter()
            .any(|l| ids.iter().all(|id| l.contains(id.as_str()))),
        "a warning names every job the call served: {ids:?}\n{}",
        warnings.join("\n")
    );
}
