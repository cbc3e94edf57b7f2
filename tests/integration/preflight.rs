//! The pre-flight (issue 19): what a job's scan and report depend on and Qualys can tell
//! beforehand is checked before anything is spent. A job naming a template or a scanner
//! appliance the subscription lacks fails before its scan, naming the field; nothing of
//! it reaches Qualys but the reads.

use crate::support::*;
use std::time::Duration;

/// Every call of the simulator's journal that changed its model for this organization's
/// job (IPs added, a group made or extended, a scan or report launched).
fn mutations_of(w: &World, org: &str, id: &str, ip: &str) -> Vec<String> {
    let tag = format!("[{id}]");
    w.journal()
        .iter()
        .filter(|e| e.applied)
        .filter(|e| {
            e.params
                .iter()
                .any(|(_, v)| v.contains(&tag) || v.as_str() == org || v.contains(ip))
        })
        .map(|e| e.api.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_cannot_succeed_fails_before_its_scan_naming_the_field() {
    let mut w = World::new(fast_sim()).await;
    let _daemon = w.start_daemon();
    let bad_template = format!(
        "{}report_template_id = 999\n",
        job_toml("No Template Corp", &["64.39.104.1"])
    );
    let bad_scanner = format!(
        "{}scanner_appliance = \"no-such-scanner\"\n",
        job_toml("No Scanner Corp", &["64.39.104.2"])
    );
    let good = job_toml("Fine Corp", &["64.39.104.3"]);
    w.drop_job("a-template.toml", &bad_template);
    w.drop_job("b-scanner.toml", &bad_scanner);
    w.drop_job("c-good.toml", &good);
    w.wait_for(
        Duration::from_secs(60),
        "three finished jobs",
        all_finished(3),
    )
    .await;
    let statuses = w.statuses();
    let by_org = |org: &str| {
        statuses
            .iter()
            .find(|s| s["organization"] == org)
            .unwrap_or_else(|| panic!("no job for {org}: {statuses:#?}"))
            .clone()
    };
    for (org, field, ip) in [
        ("No Template Corp", "report_template_id", "64.39.104.1"),
        ("No Scanner Corp", "scanner_appliance", "64.39.104.2"),
    ] {
        let st = by_org(org);
        let id = st["id"].as_str().expect("id");
        assert_eq!(st["state"], "failed", "{st:#}\n{}", w.logs());
        let spent = mutations_of(&w, org, id, ip);
        assert!(
            spent.is_empty(),
            "{org}: nothing may be spent before the pre-flight passed: {spent:?}"
        );
        assert_eq!(st["scan_ref"], serde_json::Value::Null, "{st:#}");
        let error = st["error"].as_str().unwrap_or("");
        assert!(error.starts_with(field), "{org}: {error:?} names {field}");
    }
    assert_eq!(by_org("Fine Corp")["state"], "done", "{}", w.logs());
    let launches = applied(&w.journal(), LAUNCH_SCAN_API).len();
    assert_eq!(launches, 1, "one scan: the good job's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_online_refuses_what_the_pre_flight_would_fail() {
    let w = World::new(fast_sim()).await;
    std::fs::create_dir_all(w.spool.join("incoming")).expect("incoming");
    let dir = w.dir.path();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "{}report_template_id = 999\n",
            job_toml("Bad Corp", &["64.39.104.9"])
        ),
    )
    .expect("job");
    let o = w.cli(&["submit", "--online", bad.to_str().expect("utf8")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("report_template_id: report template 999"),
        "{err}"
    );
    assert!(
        w.incoming_candidates().is_empty(),
        "nothing queued: {:?}",
        w.incoming_candidates()
    );
    let scanner = dir.join("scanner.toml");
    std::fs::write(
        &scanner,
        format!(
            "{}scanner_appliance = \"scanner-dc1\"\n",
            job_toml("Good Corp", &["64.39.104.10"])
        ),
    )
    .expect("job");
    let o = w.cli(&["submit", "--online", scanner.to_str().expect("utf8")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("template 1:") && err.contains("scanner  scanner-dc1"),
        "{err}"
    );
    assert_eq!(w.incoming_candidates(), ["scanner.toml"]);
}
