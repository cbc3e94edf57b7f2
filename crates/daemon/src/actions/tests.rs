//! End-to-end tests of [`super::run`] on a spool in a temporary directory.

use super::alert::Alerted;
use super::testutil::{record, results_json};
use super::*;
use baseliner_core::config::AlertsConfig;
use std::path::Path;
use std::time::Duration;

/// [`super::run`] with the default `[remediation]`.
fn run(spool: &Spool, rec: &JobRecord, a: &AlertsConfig) -> Result<Done, ActionError> {
    against(spool, rec, None, a)
}

/// Like [`run`], with the delta against job `baseline` (as the core chose and kept it).
fn against(
    spool: &Spool,
    rec: &JobRecord,
    baseline: Option<&str>,
    a: &AlertsConfig,
) -> Result<Done, ActionError> {
    super::run(
        spool,
        rec,
        baseline,
        a,
        &baseliner_core::config::RemediationConfig::default(),
    )
}

fn alerts(log: &Path) -> AlertsConfig {
    AlertsConfig {
        min_severity: 4,
        command: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("echo \"$@\" >> '{}'", log.display()),
            "sh".into(),
        ]),
        webhook: None,
        webhook_format: Default::default(),
        command_timeout: Duration::from_secs(10),
    }
}

/// Writes a job's status (as `state`) and its results.json.
fn job(spool: &Spool, id: &str, state: &str, json: &str) {
    let dir = spool.job_dir(id);
    std::fs::create_dir_all(&dir).expect("job dir");
    std::fs::write(dir.join("results.json"), json).expect("results");
    let st = serde_json::json!({
        "id": id, "organization": "Acme", "state": state, "scan_ref": null,
        "scan_state": null, "report_id": null, "error": null, "last_error": null,
        "updated_at": "", "accepted_at": "", "next_action_at": null, "ips": "",
        "source": "", "history": [], "outputs": []
    });
    std::fs::write(spool.status_file(id), st.to_string()).expect("status");
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn twice_gives_identical_files_and_one_alert() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path().join("spool"));
    let log = tmp.path().join("alerts.log");
    let id = "20240301-000000-000001";
    job(
        &spool,
        id,
        "downloading",
        &results_json(
            "10.0.0.1-10.0.0.2",
            &[("10.0.0.1", 1, 5), ("10.0.0.2", 2, 2)],
        ),
    );
    let rec = record(id, "Acme", &["10.0.0.1-10.0.0.3"]);
    let first = run(&spool, &rec, &alerts(&log)).expect("first run");
    assert_eq!(first.findings, 2);
    assert_eq!(first.alert, Some(Alerted::Now("ok".into())));
    let dir = spool.job_dir(id);
    let files = ["findings.csv", "summary.md", "summary.html"];
    let before: Vec<Vec<u8>> = files.iter().map(|n| read(&dir, n)).collect();
    let second = run(&spool, &rec, &alerts(&log)).expect("second run");
    assert_eq!(second.alert, Some(Alerted::AlreadyDone));
    let after: Vec<Vec<u8>> = files.iter().map(|n| read(&dir, n)).collect();
    assert_eq!(before, after);
    let logged = std::fs::read_to_string(&log).expect("alert ran");
    assert_eq!(
        logged,
        format!("{id} {}\n", dir.join("summary.md").display())
    );
    let md = String::from_utf8(read(&dir, "summary.md")).expect("utf-8");
    assert!(
        md.contains("Qualys did not scan 1 of the 3 requested addresses: 10.0.0.3."),
        "{md}"
    );
    // No temporary file is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn second_job_alerts_only_on_new_findings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path().join("spool"));
    let log = tmp.path().join("alerts.log");
    let a = "20240301-000000-000001";
    job(
        &spool,
        a,
        "done",
        &results_json("10.0.0.1", &[("10.0.0.1", 1, 5), ("10.0.0.1", 2, 3)]),
    );
    run(&spool, &record(a, "Acme", &["10.0.0.1"]), &alerts(&log)).expect("first job");
    assert_eq!(
        std::fs::read_to_string(&log).expect("log").lines().count(),
        1
    );

    // Same severity-5 finding again, one fixed, one new of severity 3: no alert.
    let b = "20240302-000000-000002";
    job(
        &spool,
        b,
        "downloading",
        &results_json("10.0.0.1", &[("10.0.0.1", 1, 5), ("10.0.0.1", 3, 3)]),
    );
    let done = against(
        &spool,
        &record(b, "Acme", &["10.0.0.1"]),
        Some(a),
        &alerts(&log),
    )
    .expect("second job");
    assert_eq!(done.alert, None);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log").lines().count(),
        1
    );
    let md = String::from_utf8(read(&spool.job_dir(b), "summary.md")).expect("utf-8");
    assert!(
        md.contains(&format!("## Since the baseline (job `{a}`)")),
        "{md}"
    );
    assert!(
        md.contains("- New: 1\n- Fixed: 1\n- Unchanged: 1\n"),
        "{md}"
    );
    assert!(md.contains("| 3 | 10.0.0.1 | 3 | 443 | Title 3 |"), "{md}");
    let html = String::from_utf8(read(&spool.job_dir(b), "summary.html")).expect("utf-8");
    assert!(html.contains("<li>New: 1</li><li>Fixed: 1</li><li>Unchanged: 1</li>"));

    // A third job with a new severity-4 finding alerts, naming it as new.
    std::fs::write(
        spool.status_file(b),
        std::fs::read_to_string(spool.status_file(b))
            .expect("status")
            .replace("downloading", "done"),
    )
    .expect("done");
    let c = "20240303-000000-000003";
    job(
        &spool,
        c,
        "downloading",
        &results_json(
            "10.0.0.1",
            &[("10.0.0.1", 1, 5), ("10.0.0.1", 3, 3), ("10.0.0.1", 4, 4)],
        ),
    );
    let done = against(
        &spool,
        &record(c, "Acme", &["10.0.0.1"]),
        Some(b),
        &alerts(&log),
    )
    .expect("third job");
    assert_eq!(done.alert, Some(Alerted::Now("ok".into())));
    let v = alert_summary(&spool.job_dir(c)).expect("alert.json");
    assert_eq!(
        v["reason"],
        format!("1 new finding(s) at or above severity 4 since baseline job {b}")
    );
}

#[test]
fn xml_report_is_used_without_raw_results() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path());
    let id = "20240301-000000-000005";
    let dir = spool.job_dir(id);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("report.xml"),
        include_str!("../../../../tests/data/qualys-samples/report_fetch_scan_report_xml__mikemackintosh_ruby-qualys.xml"),
    )
    .expect("report");
    let mut rec = record(id, "Acme", &["47.69.112.62", "88.78.187.177"]);
    rec.job.report_format = baseliner_core::job::ReportFormat::Xml;
    let mut cfg = alerts(&tmp.path().join("log"));
    cfg.command = None;
    let done = run(&spool, &rec, &cfg).expect("runs");
    assert_eq!(done.source.as_deref(), Some("report.xml"));
    assert_eq!(done.findings, 19);
    let mut r = super::csv::Reader::new(std::io::BufReader::new(
        std::fs::File::open(dir.join("findings.csv")).expect("open"),
    ));
    let (_, header) = r.next_record().expect("ok").expect("header");
    let mut rows = Vec::new();
    while let Some((_, rec)) = r.next_record().expect("ok") {
        rows.push(rec);
    }
    assert_eq!(rows.len(), 19);
    let col = |n: &str| header.iter().position(|h| h == n).expect("column");
    // The glossary's texts reach the ticket columns.
    assert!(
        rows.iter().all(|r| !r[col("solution")].is_empty()),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| !r[col("result")].is_empty()));
    assert!(rows.iter().all(|r| !r[col("result")].contains('\n')));
    // QID 38142 is severity 4 in the glossary: the alert is due, but no command is set.
    let not_sent = "not sent: no [alerts].command configured";
    assert_eq!(done.alert, Some(Alerted::Now(not_sent.into())));
    assert_eq!(alert_summary(&dir).expect("alert.json")["status"], not_sent);
}

#[test]
fn no_machine_readable_results_still_gives_a_summary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path());
    let id = "20240301-000000-000006";
    std::fs::create_dir_all(spool.job_dir(id)).expect("dir");
    let done = run(
        &spool,
        &record(id, "Acme", &["10.0.0.1"]),
        &AlertsConfig::default(),
    )
    .expect("runs");
    assert_eq!(done.source, None);
    assert!(!spool.job_dir(id).join("findings.csv").exists());
    let md = String::from_utf8(read(&spool.job_dir(id), "summary.md")).expect("utf-8");
    assert!(
        md.contains("The findings are unknown: the raw results (results.json) were not downloaded"),
        "{md}"
    );
    assert!(!md.contains("| 5 (urgent)"), "no table of zeros: {md}");
    assert!(!md.contains("alert threshold"), "{md}");
    assert!(
        md.contains(
            "1 requested · 0 scanned · 0 no response · 0 excluded · 0 not scanned · 1 unknown"
        ),
        "{md}"
    );
    let cov = String::from_utf8(read(&spool.job_dir(id), "coverage.csv")).expect("utf-8");
    assert_eq!(cov, "ip,status,findings,max_severity,note\r\n10.0.0.1,unknown,0,,no machine-readable results were downloaded\r\n");
}

#[test]
fn garbage_results_fail_with_the_file_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path());
    let id = "20240301-000000-000007";
    job(&spool, id, "downloading", "<html>maintenance</html>");
    let e = run(
        &spool,
        &record(id, "Acme", &["10.0.0.1"]),
        &AlertsConfig::default(),
    )
    .expect_err("garbage");
    assert!(e.to_string().contains("results.json"), "{e}");
}

#[test]
fn due_dates_change_and_brief_results_are_honest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spool = Spool::new(tmp.path());
    let id = "20240301-000000-000008";
    let json = r#"[{"launch_date":"03/01/2024 09:00:00","ips":"10.0.0.1-10.0.0.2","reference":"scan/1.1"},
        {"ip":"10.0.0.1","qid":"1","type":"Vuln","severity":"5","title":"=cmd|' /C calc'!A0","solution":"Patch it.\nThen reboot.","results":"  first line  \nsecond"},
        {"ip":"10.0.0.1","qid":"2","type":"Potential Vuln","severity":"2","title":"P"},
        {"ip":"10.0.0.2","qid":"3","title":"brief record"},
        {"ip":"10.0.0.2","qid":"45038","type":"Ig","severity":"1","title":"Host Scan Time","results":"Scan duration: 52 seconds"}]"#;
    job(&spool, id, "downloading", json);
    let mut cfg = alerts(&tmp.path().join("log"));
    cfg.command = None;
    let done = run(&spool, &record(id, "Acme", &["10.0.0.1-10.0.0.2"]), &cfg).expect("runs");
    assert_eq!(done.findings, 3, "the Ig record is not a finding");
    let dir = spool.job_dir(id);
    let mut r = super::csv::Reader::new(std::io::BufReader::new(
        std::fs::File::open(dir.join("findings.csv")).expect("open"),
    ));
    let (_, header) = r.next_record().expect("ok").expect("header");
    let col = |n: &str| header.iter().position(|h| h == n).expect("column");
    let mut rows = Vec::new();
    while let Some((_, rec)) = r.next_record().expect("ok") {
        rows.push(rec);
    }
    let first = &rows[0];
    assert_eq!(first[col("due")], "2024-03-08", "severity 5: 7 days");
    assert_eq!(
        first[col("title")],
        "'=cmd|' /C calc'!A0",
        "formula defused"
    );
    assert_eq!(first[col("solution")], "Patch it.\nThen reboot.");
    assert_eq!(first[col("result")], "first line");
    assert_eq!(first[col("change")], "", "no baseline");
    let potential = rows.iter().find(|r| r[col("qid")] == "2").expect("qid 2");
    assert_eq!(potential[col("type")], "Potential Vuln");
    assert_eq!(
        potential[col("due")],
        "",
        "severity 2 has no deadline by default"
    );
    let brief = rows.iter().find(|r| r[col("qid")] == "3").expect("qid 3");
    assert_eq!(brief[col("severity")], "", "unknown, not 0");
    let info = String::from_utf8(read(&dir, "information.csv")).expect("utf-8");
    assert!(info.contains("45038,Host Scan Time,Ig,"), "{info}");
    assert!(info.ends_with("Scan duration: 52 seconds\r\n"), "{info}");
    let md = String::from_utf8(read(&dir, "summary.md")).expect("utf-8");
    assert!(md.contains("| 5 (urgent) | 1 | 0 | 1 |"), "{md}");
    assert!(md.contains("| 2 (medium) | 0 | 1 | 1 |"), "{md}");
    assert!(md.contains("| severity unknown | 1 | 0 | 1 |"), "{md}");
    assert!(
        md.contains("Information gathered (not vulnerabilities, in information.csv): 1"),
        "{md}"
    );
    assert!(
        md.contains("1 more of unknown severity could not be checked"),
        "{md}"
    );
    assert!(md.contains("within 7 days (by 2024-03-08)"), "{md}");
    assert!(
        md.contains("1 finding has no severity (the raw results are in brief mode)"),
        "{md}"
    );
    assert!(md.contains("Verify the 1 potential vulnerability"), "{md}");
    assert!(
        !md.contains("Baseline clean"),
        "unknown severities are not clean: {md}"
    );
}
