//! The seed workflow end to end, TARGET trimming, pagination and determinism.

use std::time::{Duration, Instant};

use qualys_sim::Sim;
use serde_json::Value;

use super::client::{get, post, request, scan_reference, start_fast, tag_in, AUTH, XRW};

/// Adds the seed IPs, a group with one extra address outside the subscription, and
/// launches a scan; returns the scan reference.
async fn seed_and_launch(sim: &Sim) -> String {
    let a = sim.addr();
    let r = post(
        a,
        "/api/2.0/fo/asset/ip/",
        &[
            ("action", "add"),
            ("ips", "64.39.106.0-64.39.106.3"),
            ("enable_vm", "1"),
            ("tracking_method", "IP"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.tag("TEXT").as_deref(),
        Some("IPs successfully added to Vulnerability Management")
    );
    let r = post(
        a,
        "/api/2.0/fo/asset/group/",
        &[
            ("action", "add"),
            ("title", "Acme & Co"),
            ("ips", "64.39.106.0-64.39.106.3,198.51.100.7"),
            ("comments", "Created via automation for Acme."),
        ],
    )
    .await;
    assert_eq!(
        r.tag("TEXT").as_deref(),
        Some("Asset Group successfully added.")
    );
    assert!(r.tag("VALUE").is_some_and(|v| v.parse::<u64>().is_ok()));
    let dup = post(
        a,
        "/api/2.0/fo/asset/group/",
        &[("action", "add"), ("title", "Acme & Co")],
    )
    .await;
    assert_eq!(dup.status, 400, "titles are unique");
    let r = post(
        a,
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("scan_title", "Acquisition scan of Acme [J1]"),
            ("asset_groups", "Acme & Co"),
            ("option_title", "New IPs option profile"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.tag("TEXT").as_deref(), Some("New vm scan launched"));
    scan_reference(&r)
}

#[tokio::test]
async fn seed_workflow_scan_report_and_raw_results() {
    let sim = start_fast().await;
    let a = sim.addr();
    let scan_ref = seed_and_launch(&sim).await;

    // Poll the v3 list until Finished and processed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut states = Vec::new();
    let last = loop {
        let r = get(
            a,
            "/api/3.0/fo/scan/",
            &[
                ("action", "list"),
                ("scan_ref", &scan_ref),
                ("show_ags", "1"),
                ("show_op", "1"),
            ],
        )
        .await;
        assert_eq!(r.status, 200);
        let st = (
            r.tag("STATE").expect("STATE"),
            r.tag("PROCESSED").expect("PROCESSED"),
        );
        if states.last() != Some(&st) {
            states.push(st.clone());
        }
        if st == ("Finished".into(), "1".into()) {
            break r;
        }
        assert!(Instant::now() < deadline, "scan never finished: {states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        states.first().map(|s| s.0.as_str()),
        Some("Queued"),
        "{states:?}"
    );
    assert!(states.iter().any(|s| s.0 == "Running"), "{states:?}");
    assert_eq!(
        last.tag("TARGET").as_deref(),
        Some("64.39.106.0-64.39.106.3"),
        "198.51.100.7 is outside the subscription"
    );
    assert_eq!(last.tag("ASSET_GROUP_TITLE").as_deref(), Some("Acme & Co"));
    assert!(last
        .text()
        .contains("<TITLE><![CDATA[New IPs option profile]]></TITLE>"));

    // Report of the Manual (scan-based) template 4: 7001 before it is finished, then the
    // XML file.
    let r = post(
        a,
        "/api/2.0/fo/report/",
        &[
            ("action", "launch"),
            ("template_id", "4"),
            ("report_refs", &scan_ref),
            ("output_format", "xml"),
            ("report_title", "Acme [J1]"),
            ("report_type", "Scan"),
        ],
    )
    .await;
    assert_eq!(r.tag("TEXT").as_deref(), Some("New report launched"));
    let id = r.tag("VALUE").expect("report ID");
    let early = get(
        a,
        "/api/2.0/fo/report/",
        &[("action", "fetch"), ("id", &id)],
    )
    .await;
    assert_eq!(
        (
            early.status,
            early.tag("CODE").as_deref(),
            early.tag("TEXT").as_deref()
        ),
        (200, Some("7001"), Some("Report cannot be fetched."))
    );
    let listed = get(a, "/api/2.0/fo/report/", &[("action", "list"), ("id", &id)]).await;
    assert_eq!(listed.tag("STATE").as_deref(), Some("Running"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = get(a, "/api/2.0/fo/report/", &[("action", "list"), ("id", &id)]).await;
        if l.tag("STATE").as_deref() == Some("Finished") {
            assert_eq!(l.tag("OUTPUT_FORMAT").as_deref(), Some("XML"));
            break;
        }
        assert!(Instant::now() < deadline, "report never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let file = get(
        a,
        "/api/2.0/fo/report/",
        &[("action", "fetch"), ("id", &id)],
    )
    .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("Content-Type"), Some("application/xml"));
    assert!(file
        .header("Content-Disposition")
        .is_some_and(|d| d.starts_with("attachment; filename=Scan_Report_Acme__J1__demo_")));
    let xml = file.text();
    assert!(xml.contains("<!DOCTYPE ASSET_DATA_REPORT SYSTEM"));
    let report_ips: Vec<String> = xml
        .split("<IP>")
        .skip(1)
        .filter_map(|s| s.split("</IP>").next())
        .map(str::to_owned)
        .collect();
    assert!(!report_ips.is_empty());
    assert!(
        report_ips.iter().all(|ip| ip.starts_with("64.39.106.")),
        "{report_ips:?}"
    );

    // Raw results.
    let raw = get(
        a,
        "/api/2.0/fo/scan/",
        &[
            ("action", "fetch"),
            ("scan_ref", &scan_ref),
            ("output_format", "json_extended"),
            ("mode", "extended"),
        ],
    )
    .await;
    assert_eq!(raw.status, 200);
    let v: Value = serde_json::from_slice(&raw.body).expect("raw results are JSON");
    let arr = v.as_array().expect("a JSON array");
    assert!(arr.len() >= 4);
    assert_eq!(arr[1]["reference"], Value::String(scan_ref.clone()));
    assert_eq!(arr[1]["total_hosts"], "4");
    assert_eq!(arr[1]["active_hosts"], "3", "one seed host does not answer");
    assert!(arr[arr.len() - 1]
        .get("target_distribution_across_scanner_appliances")
        .is_some());
    let findings: Vec<&Value> = arr.iter().filter(|o| o.get("qid").is_some()).collect();
    assert_eq!(
        arr[2..2 + findings.len()].iter().collect::<Vec<_>>(),
        findings
    );
    let down = &arr[arr.len() - 2]["hosts_not_scanned_host_not_alive_ip"];
    assert!(
        down.as_str().is_some_and(|d| d.starts_with("64.39.106.")),
        "the coverage object before the last names the seed host that did not answer: {down}"
    );
    let mut ips: Vec<&str> = findings
        .iter()
        .map(|f| f["ip"].as_str().expect("ip"))
        .collect();
    ips.dedup();
    assert_eq!(
        arr[1]["active_hosts"].as_str(),
        Some(ips.len().to_string().as_str())
    );
    let worst = findings
        .iter()
        .filter_map(|f| f["severity"].as_str()?.parse::<u8>().ok())
        .max();
    assert!(worst.is_some_and(|s| s >= 4), "worst severity {worst:?}");
    for key in [
        "dns",
        "netbios",
        "os",
        "qid",
        "title",
        "type",
        "port",
        "protocol",
        "ssl",
        "cve_id",
        "cvss_base",
        "threat",
        "impact",
        "solution",
        "results",
    ] {
        assert!(findings[0].get(key).is_some(), "finding lacks {key}");
    }
    // Report IPs are exactly the alive hosts with findings.
    let mut rips = report_ips.clone();
    rips.sort();
    rips.dedup();
    let mut fips: Vec<String> = ips.iter().map(|s| (*s).to_owned()).collect();
    fips.sort();
    assert_eq!(rips, fips);

    // Journal: the launch applied, and the v3 list API key.
    let j = sim.journal();
    assert_eq!(
        j.iter()
            .filter(|e| e.api == "/api/2.0/fo/scan/?action=launch" && e.applied)
            .count(),
        1
    );
    assert!(j
        .iter()
        .any(|e| e.api == "/api/3.0/fo/scan/?action=list" && e.status == 200));
    sim.shutdown().await;
}

#[tokio::test]
async fn raw_results_are_deterministic_across_instances() {
    let mut findings = Vec::new();
    for _ in 0..2 {
        let sim = start_fast().await;
        let scan_ref = seed_and_launch(&sim).await;
        assert!(sim.set_scan_state(&scan_ref, "Finished"));
        let raw = get(
            sim.addr(),
            "/api/2.0/fo/scan/",
            &[
                ("action", "fetch"),
                ("scan_ref", &scan_ref),
                ("output_format", "json_extended"),
                ("mode", "extended"),
            ],
        )
        .await;
        let v: Value = serde_json::from_slice(&raw.body).expect("JSON");
        let arr = v.as_array().expect("array").clone();
        findings.push(arr[2..arr.len() - 2].to_vec());
        sim.shutdown().await;
    }
    assert!(!findings[0].is_empty());
    assert_eq!(findings[0], findings[1]);
}

#[tokio::test]
async fn scan_outside_subscription_fails_and_forced_states_show() {
    let sim = start_fast().await;
    let a = sim.addr();
    post(
        a,
        "/api/2.0/fo/asset/group/",
        &[
            ("action", "add"),
            ("title", "Nowhere"),
            ("ips", "203.0.113.1-203.0.113.5"),
        ],
    )
    .await;
    let r = post(
        a,
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("asset_groups", "Nowhere"),
            ("option_title", "New IPs option profile"),
        ],
    )
    .await;
    assert_eq!((r.status, r.tag("CODE").as_deref()), (400, Some("1905")));
    assert!(r.text().contains("203.0.113.1-203.0.113.5"));
    assert!(sim
        .journal()
        .iter()
        .all(|e| e.api != "/api/2.0/fo/scan/?action=launch" || !e.applied));

    let scan_ref = seed_and_launch(&sim).await;
    assert!(sim.set_scan_state(&scan_ref, "Error"));
    assert!(!sim.set_scan_state("scan/0.0", "Error"));
    let l = get(
        a,
        "/api/2.0/fo/scan/",
        &[("action", "list"), ("scan_ref", &scan_ref)],
    )
    .await;
    assert_eq!(l.tag("STATE").as_deref(), Some("Error"));
    let c = post(
        a,
        "/api/2.0/fo/scan/",
        &[("action", "cancel"), ("scan_ref", &scan_ref)],
    )
    .await;
    assert_eq!(c.status, 400, "an Error scan cannot be canceled");
    sim.shutdown().await;
}

#[tokio::test]
async fn asset_group_list_paginates_with_warning_1980() {
    let sim = start_fast().await;
    let a = sim.addr();
    for i in 0..5 {
        let r = post(
            a,
            "/api/2.0/fo/asset/group/",
            &[
                ("action", "add"),
                ("title", &format!("G{i}")),
                ("ips", &format!("10.9.0.{i}")),
            ],
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let mut titles = Vec::new();
    let mut target = "/api/2.0/fo/asset/group/?action=list&truncation_limit=2".to_owned();
    let mut pages = 0;
    loop {
        pages += 1;
        let r = request(a, "GET", &target, &[AUTH, XRW], "").await;
        assert_eq!(r.status, 200);
        let text = r.text();
        titles.extend(
            text.split("<TITLE>")
                .skip(1)
                .filter_map(|s| tag_in(&format!("<TITLE>{s}"), "TITLE")),
        );
        match r.tag("URL") {
            Some(url) => {
                assert_eq!(r.tag("CODE").as_deref(), Some("1980"));
                assert_eq!(
                    r.tag("TEXT").as_deref(),
                    Some("2 record limit exceeded. Use URL to get next batch of results.")
                );
                target = url
                    .strip_prefix(&sim.url())
                    .expect("URL on the simulator")
                    .to_owned();
                assert!(target.contains("id_min="));
            }
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(titles, vec!["G0", "G1", "G2", "G3", "G4"]);
    let one = get(
        a,
        "/api/2.0/fo/asset/group/",
        &[("action", "list"), ("title", "G3")],
    )
    .await;
    assert_eq!(one.tag("TITLE").as_deref(), Some("G3"));
    assert_eq!(one.tag("IP").as_deref(), Some("10.9.0.3"));
    sim.shutdown().await;
}
