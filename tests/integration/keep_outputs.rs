//! Keeping what was made (issue 19): a job whose scan ends in `Error` (or `Canceled`
//! outside the user's wish) still fetches the results the scan has (Qualys hands them
//! out, qualys-api.md §6.4), makes its action items from them, and ends `failed` with its
//! reason and the files it kept; the coverage says which addresses were not reached.

use crate::support::*;
use qualys_sim::SimConfig;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_ending_in_error_keeps_its_partial_results_and_action_items() {
    let mut w = World::new(SimConfig {
        scan_running: Duration::from_secs(30),
        ..fast_sim()
    })
    .await;
    let _daemon = w.start_daemon();
    w.drop_job(
        "partial.toml",
        &job_toml("Partial Corp", &["64.39.106.0-64.39.106.9"]),
    );
    w.wait_for(Duration::from_secs(30), "the job scanning", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    let scan_ref = w.statuses()[0]["scan_ref"]
        .as_str()
        .expect("scan ref")
        .to_string();
    assert!(w.sim.set_scan_state(&scan_ref, "Error"));
    w.wait_for(Duration::from_secs(30), "the job failed", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "failed", "{st:#}\n{}", w.logs());
    let error = st["error"].as_str().unwrap_or("");
    assert!(
        error.contains("ended in state Error") && error.contains("were fetched"),
        "{error}"
    );
    assert_eq!(st["scan_state"], "Error", "{st:#}");
    let outputs: Vec<&str> = st["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for kept in ["results.json", "findings.csv", "coverage.csv", "summary.md"] {
        assert!(outputs.contains(&kept), "{kept} kept: {outputs:?}");
    }
    assert!(
        !outputs.iter().any(|o| o.starts_with("report.")),
        "no report was made: {outputs:?}"
    );
    let history: Vec<&str> = st["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["state"].as_str())
        .collect();
    assert_eq!(
        history.iter().rev().take(2).collect::<Vec<_>>(),
        [&"failed", &"downloading"]
    );
    // The simulator scanned the first half of the ten addresses before the error.
    let id = st["id"].as_str().expect("id");
    let coverage = read(&w.job_dir(id).join("coverage.csv"));
    let reached = |ip: &str| {
        coverage
            .lines()
            .find(|l| l.starts_with(&format!("{ip},")))
            .map(|l| l.split(',').nth(1).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert!(
        !["not_scanned", "unknown"].contains(&reached("64.39.106.1").as_str()),
        "an address scanned before the error: {coverage}"
    );
    assert!(
        ["not_scanned", "unknown"].contains(&reached("64.39.106.9").as_str()),
        "an address never reached is not reported scanned: {coverage}"
    );
    let fetches = w
        .journal()
        .iter()
        .filter(|e| e.api == "/api/2.0/fo/scan/?action=fetch" && e.status == 200)
        .count();
    assert_eq!(fetches, 1, "the partial results fetched once");
}
