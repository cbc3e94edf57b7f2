//! The Qualys client against the simulator over 127.0.0.1: every call, each error class,
//! pagination, and that every request carried auth and `X-Requested-With` (the simulator
//! enforces both: without them it answers 401/2000 or 400/1903, which the journal records).

use std::net::Ipv4Addr;
use std::time::Duration;

use baseliner_qualys::{
    ApiError, ApiVersion, BodyKind, Call, Client, ClientConfig, ErrorKind, ReportState,
    ReportTarget, ScanState, Secret, TrackingMethod,
};
use qualys_sim::{Faults, Sim, SimConfig, SimTls};

use crate::support::param;

const OPTION: &str = "Initial Options";
/// The simulator's scan-based (`TYPE=Manual`) template, which takes `report_refs` (§7.1).
const MANUAL_TEMPLATE: u64 = 4;

async fn sim() -> Sim {
    let addr = "127.0.0.1:0".parse().expect("loopback address");
    Sim::start(SimConfig::fast(), addr)
        .await
        .expect("simulator starts")
}

fn client_with(sim: &Sim, password: &str) -> Client {
    let mut cfg = ClientConfig::new(sim.url(), "demo", Secret::new(password));
    cfg.request_timeout = Duration::from_secs(10);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::new(cfg).expect("client for the simulator")
}

fn client(sim: &Sim) -> Client {
    client_with(sim, "demo")
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn range(a: &str, b: &str) -> (Ipv4Addr, Ipv4Addr) {
    (ip(a), ip(b))
}

/// Adds IPs, creates a group and launches a scan of it; returns the scan ref.
async fn launch(c: &Client, title: &str) -> String {
    let ips = [range("64.39.106.1", "64.39.106.4")];
    c.add_ips(&ips, TrackingMethod::Ip).await.expect("add ips");
    let id = c
        .add_asset_group(title, &ips, Some("test group"), &[])
        .await
        .expect("add group")
        .value
        .expect("the new group's id");
    c.launch_scan(&format!("scan of {title}"), &[id], OPTION, None)
        .await
        .expect("launch scan")
        .value
        .scan_ref
}

/// Polls until the scan is Finished and processed.
async fn wait_processed(c: &Client, scan_ref: &str) {
    for _ in 0..100 {
        let scans = c.list_scans_by_ref(&[scan_ref]).await.expect("list scans");
        if let Some(s) = scans.value.iter().find(|s| s.scan_ref == scan_ref) {
            if s.state == Some(ScanState::Finished) && s.processed {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scan {scan_ref} did not finish");
}

fn no_auth_or_header_refusals(sim: &Sim) {
    let journal = sim.journal();
    assert!(!journal.is_empty(), "the simulator saw no requests");
    for e in &journal {
        assert_ne!(
            e.status, 401,
            "request without valid auth: {} {}",
            e.method, e.api
        );
        assert_ne!(
            e.code,
            Some(1903),
            "request refused as incomplete: {} {}",
            e.method,
            e.api
        );
        if e.api.ends_with("action=launch") || e.api.ends_with("action=add") {
            assert_eq!(e.method, "POST", "mutation {} sent as {}", e.api, e.method);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_workflow_against_the_simulator() {
    let sim = sim().await;
    let c = client(&sim);

    let login = c.check_login().await.expect("login");
    assert_eq!(login.value, "Logged in");

    let ips = [
        range("64.39.106.10", "64.39.106.12"),
        range("64.39.106.20", "64.39.106.20"),
    ];
    let added = c.add_ips(&ips, TrackingMethod::Ip).await.expect("add ips");
    assert!(
        added.value.contains("successfully added"),
        "{}",
        added.value
    );
    assert!(
        added.limits.remaining.is_some(),
        "limit headers read: {:?}",
        added.limits
    );
    let sub = sim.subscription_ips();
    for (a, _) in &ips {
        assert!(
            sub.iter().any(|(lo, hi)| lo <= a && a <= hi),
            "{a} not in {sub:?}"
        );
    }

    let appliances = c.list_appliances().await.expect("appliances").value;
    let dc1 = appliances
        .iter()
        .find(|a| a.name == "scanner-dc1")
        .expect("scanner-dc1 listed");
    assert_eq!(dc1.id, 1001);

    let title = "Acme Corp [J1]";
    let id = c
        .add_asset_group(title, &ips[..1], Some("created by test"), &[dc1.id])
        .await
        .expect("add group")
        .value
        .expect("group id returned");
    c.edit_asset_group(id, &ips[1..], &[])
        .await
        .expect("edit group");
    let groups = c
        .list_asset_groups(Some(title))
        .await
        .expect("list groups")
        .value;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].id, id);
    assert_eq!(groups[0].title, title);
    let members: Vec<Ipv4Addr> = groups[0].ips.iter().flat_map(|&(a, b)| [a, b]).collect();
    assert!(members.contains(&ip("64.39.106.10")) && members.contains(&ip("64.39.106.20")));

    let launched = c
        .launch_scan("baseline [J1]", &[id], OPTION, Some("scanner-dc1"))
        .await
        .expect("launch scan")
        .value;
    assert!(
        launched.scan_ref.starts_with("scan/"),
        "{}",
        launched.scan_ref
    );
    wait_processed(&c, &launched.scan_ref).await;

    let recent = c
        .list_scans_launched_after("2000-01-01T00:00:00Z")
        .await
        .expect("list recent")
        .value;
    let found = recent
        .iter()
        .find(|s| s.scan_ref == launched.scan_ref)
        .expect("launched scan listed");
    assert_eq!(found.title, "baseline [J1]");
    assert_eq!(found.asset_groups, vec![title.to_string()]);

    let dir = tempfile::tempdir().expect("temp dir");
    let raw = dir.path().join("results.json");
    let got = c
        .fetch_scan(&launched.scan_ref, &raw)
        .await
        .expect("fetch scan");
    let text = std::fs::read_to_string(&raw).expect("results written");
    assert_eq!(got.value.bytes, text.len() as u64);
    let json: serde_json::Value = serde_json::from_str(&text).expect("results are JSON");
    assert!(json.is_array(), "{json}");
    assert_eq!(got.value.kind, BodyKind::Other);
    // Full records (§6.4): extended mode, with the scan's metadata around the findings.
    let fetch = sim
        .journal()
        .into_iter()
        .rfind(|e| e.api == "/api/2.0/fo/scan/?action=fetch")
        .expect("fetch journaled");
    assert_eq!(param(&fetch, "output_format"), Some("json_extended"));
    assert_eq!(param(&fetch, "mode"), Some("extended"));
    let records = json.as_array().expect("an array");
    assert!(
        records
            .iter()
            .any(|r| r.get("severity").is_some() && r.get("qid").is_some()),
        "no finding with a severity: {json}"
    );
    assert!(
        records.iter().any(|r| r.get("launch_date").is_some()),
        "no metadata object: {json}"
    );

    let templates = c.list_report_templates().await.expect("templates").value;
    assert!(templates.iter().any(|t| t.id == 1), "{templates:?}");

    let report = c
        .launch_report(
            MANUAL_TEMPLATE,
            ReportTarget::Scans(&[&launched.scan_ref]),
            "pdf",
            "report [J1]",
        )
        .await
        .expect("launch report")
        .value;
    let dest = dir.path().join("report.pdf");
    let early = c
        .fetch_report(report, &dest)
        .await
        .expect_err("not ready yet");
    let early = early.api().expect("an API error");
    assert_eq!(early.kind, ErrorKind::NotReady);
    assert_eq!(early.code, Some(7001));
    assert!(!dest.exists(), "nothing written for a 7001");
    let mut finished = false;
    for _ in 0..100 {
        let list = c
            .list_reports(Some(report))
            .await
            .expect("list reports")
            .value;
        if list
            .iter()
            .any(|r| r.id == report && r.state == Some(ReportState::Finished))
        {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(finished, "report {report} did not finish");
    let file = c.fetch_report(report, &dest).await.expect("fetch report");
    assert!(file.value.bytes > 0);
    assert_eq!(
        std::fs::metadata(&dest).expect("report written").len(),
        file.value.bytes
    );
    assert!(!dir.path().join("report.pdf.part").exists());
    assert_eq!(file.value.kind, BodyKind::Pdf);

    // Cancels.
    let other = launch(&c, "Other Org [J2]").await;
    c.cancel_scan(&other).await.expect("cancel scan");
    let second = c
        .launch_report(
            MANUAL_TEMPLATE,
            ReportTarget::Scans(&[&launched.scan_ref]),
            "pdf",
            "second [J1]",
        )
        .await
        .expect("launch second report")
        .value;
    c.cancel_report(second).await.expect("cancel report");

    no_auth_or_header_refusals(&sim);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials() {
    let sim = sim().await;
    let c = client_with(&sim, "wrong-password-xyz");
    let e = c.check_login().await.expect_err("login refused");
    assert_eq!(e.kind, ErrorKind::BadCredentials, "{e}");
    let e = c.list_appliances().await.expect_err("call refused");
    assert_eq!(e.kind, ErrorKind::BadCredentials, "{e}");
    assert_eq!(e.http_status, Some(401));
    assert!(!e.to_string().contains("wrong-password-xyz"));
    assert!(!format!("{e:?}").contains("wrong-password-xyz"));
    sim.shutdown().await;
}

/// Makes every request of `call` (and no other) fail with the fault `set` turns on.
fn always(sim: &Sim, c: &Client, call: Call, set: fn(&mut Faults)) {
    let mut faults = Faults {
        seed: 7,
        only_apis: vec![c.api_for(call)],
        ..Faults::default()
    };
    set(&mut faults);
    sim.set_faults(faults);
}

async fn list_error(c: &Client) -> ApiError {
    c.list_scans_by_ref(&["scan/1.1"])
        .await
        .expect_err("faulted call fails")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_errors() {
    let sim = sim().await;
    let c = client(&sim);

    always(&sim, &c, Call::ListScans, |f| f.p_409_rate = 1.0);
    let e = list_error(&c).await;
    let ErrorKind::RateLimited { wait: Some(wait) } = e.kind else {
        panic!("expected a rate limit with a wait, got {e}");
    };
    assert!(wait.as_secs() > 0);
    assert_eq!(e.limits.to_wait_sec, Some(wait.as_secs()));
    assert_eq!((e.http_status, e.code), (Some(409), Some(1965)));

    always(&sim, &c, Call::ListScans, |f| f.p_409_rate_no_header = 1.0);
    let e = list_error(&c).await;
    assert!(matches!(e.kind, ErrorKind::RateLimited { .. }), "{e}");
    assert_eq!(e.limits.to_wait_sec, None);

    always(&sim, &c, Call::ListScans, |f| f.p_409_concurrency = 1.0);
    let e = list_error(&c).await;
    assert_eq!(e.kind, ErrorKind::ConcurrencyLimited, "{e}");
    assert_eq!(e.code, Some(1960));
    assert!(e.kind.is_retryable() && e.kind.is_limit());

    // Other APIs are untouched by a fault plan for the scan list.
    c.list_appliances().await.expect("other API unaffected");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_parameters() {
    let sim = sim().await;
    let c = client(&sim);
    let e = c
        .edit_asset_group(987_654, &[range("64.39.106.1", "64.39.106.1")], &[])
        .await
        .expect_err("no such group");
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::InvalidParameter, Some(1905)),
        "{e}"
    );
    assert!(e.text.contains("987654"), "{}", e.text);

    let e = c
        .launch_report(4, ReportTarget::Scans(&["scan/1.1"]), "", "t")
        .await
        .expect_err("missing output_format");
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::InvalidParameter, Some(1903)),
        "{e}"
    );
    assert!(e.text.contains("output_format"), "{}", e.text);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_and_ambiguous() {
    let sim = sim().await;
    let c = client(&sim);

    always(&sim, &c, Call::ListScans, |f| f.p_999 = 1.0);
    let e = list_error(&c).await;
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::Transient, Some(999)),
        "{e}"
    );

    always(&sim, &c, Call::ListScans, |f| f.p_5xx = 1.0);
    let e = list_error(&c).await;
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert_eq!(e.http_status, Some(500));

    always(&sim, &c, Call::ListScans, |f| f.p_maintenance = 1.0);
    let e = list_error(&c).await;
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert_eq!(e.http_status, Some(503));

    // A safe call dropped after apply is transient.
    always(&sim, &c, Call::AddIps, |f| f.p_drop_after_apply = 1.0);
    let ips = [range("64.39.106.30", "64.39.106.31")];
    let e = c
        .add_ips(&ips, TrackingMethod::Ip)
        .await
        .expect_err("dropped");
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    sim.set_faults(Faults::default());

    // A launch dropped after apply is ambiguous, and the scan exists.
    c.add_ips(&ips, TrackingMethod::Ip).await.expect("add ips");
    let drop_org = c
        .add_asset_group("Drop Org", &ips, None, &[])
        .await
        .expect("add group")
        .value
        .expect("the new group's id");
    always(&sim, &c, Call::LaunchScan, |f| f.p_drop_after_apply = 1.0);
    let e = c
        .launch_scan("dropped [J9]", &[drop_org], OPTION, None)
        .await
        .expect_err("dropped");
    assert_eq!(e.kind, ErrorKind::Ambiguous, "{e}");
    assert!(!e.kind.is_retryable());
    let journal = sim.journal();
    let entry = journal
        .iter()
        .rev()
        .find(|j| j.api.ends_with("action=launch"))
        .expect("launch journaled");
    assert!(
        entry.applied && entry.dropped,
        "{:?} {:?}",
        entry.applied,
        entry.dropped
    );
    sim.set_faults(Faults::default());
    let scans = c
        .list_scans_launched_after("2000-01-01T00:00:00Z")
        .await
        .expect("list")
        .value;
    assert!(scans.iter().any(|s| s.title == "dropped [J9]"), "{scans:?}");

    // A 5xx on a launch is ambiguous too.
    always(&sim, &c, Call::LaunchScan, |f| f.p_5xx = 1.0);
    let e = c
        .launch_scan("t", &[drop_org], OPTION, None)
        .await
        .expect_err("5xx");
    assert_eq!(e.kind, ErrorKind::Ambiguous, "{e}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_group_pagination_follows_to_the_end() {
    let sim = sim().await;
    let c = client(&sim);
    let ips = [range("64.39.106.40", "64.39.106.40")];
    c.add_ips(&ips, TrackingMethod::Ip).await.expect("add ips");
    for n in 0..5 {
        c.add_asset_group(&format!("Paged {n}"), &ips, None, &[])
            .await
            .expect("add group");
    }
    let before = sim.journal().len();
    let all = c
        .list_asset_groups_paged(None, Some(2))
        .await
        .expect("list")
        .value;
    let titles: Vec<&str> = all.iter().map(|g| g.title.as_str()).collect();
    for n in 0..5 {
        let t = format!("Paged {n}");
        assert_eq!(titles.iter().filter(|x| **x == t).count(), 1, "{titles:?}");
    }
    let lists = sim.journal()[before..]
        .iter()
        .filter(|j| j.api == "/api/2.0/fo/asset/group/?action=list")
        .count();
    assert_eq!(lists, 3, "5 groups in pages of 2");
    no_auth_or_header_refusals(&sim);
    sim.shutdown().await;
}

/// The scan-list entries of the journal as (path version, HTTP status), in order.
fn scan_lists(sim: &Sim) -> Vec<(String, u16)> {
    sim.journal()
        .iter()
        .filter(|e| e.api.ends_with("/fo/scan/?action=list"))
        .map(|e| (e.path.clone(), e.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_list_version_that_answers_404_falls_back_once_and_stays() {
    for (configured, retired, other) in [
        (ApiVersion::V3, "/api/3.0/fo/scan/", "/api/2.0/fo/scan/"),
        (ApiVersion::V2, "/api/2.0/fo/scan/", "/api/3.0/fo/scan/"),
    ] {
        let addr = "127.0.0.1:0".parse().expect("loopback address");
        let cfg = SimConfig {
            retired_apis: vec![format!("{retired}?action=list")],
            ..SimConfig::fast()
        };
        let sim = Sim::start(cfg, addr).await.expect("simulator starts");
        let mut ccfg = ClientConfig::new(sim.url(), "demo", Secret::new("demo"));
        ccfg.scan_list_version = configured;
        ccfg.request_timeout = Duration::from_secs(10);
        let c = Client::new(ccfg).expect("client");
        let scan_ref = launch(&c, &format!("fallback from {}", configured.segment())).await;
        for _ in 0..2 {
            let scans = c.list_scans_by_ref(&[&scan_ref]).await.expect("list scans");
            assert!(
                scans.value.iter().any(|s| s.scan_ref == scan_ref),
                "{:?}",
                scans.value
            );
        }
        assert_eq!(
            scan_lists(&sim),
            [
                (retired.to_owned(), 404),
                (other.to_owned(), 200),
                (other.to_owned(), 200)
            ],
            "configured {}",
            configured.segment()
        );
        assert_eq!(c.api_for(Call::ListScans), format!("{other}?action=list"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_through_the_configured_proxy() {
    let sim = sim().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    // Nothing listens on the configured server: a call only succeeds through the proxy.
    // The simulator stands in for the proxy: reqwest sends it absolute-form requests
    // (`GET http://127.0.0.1:PORT/msp/… HTTP/1.1`), which it answers like direct ones.
    let mut cfg = ClientConfig::new(closed.clone(), "demo", Secret::new("demo"));
    cfg.proxy = Some(sim.url());
    cfg.request_timeout = Duration::from_secs(10);
    let c = Client::new(cfg).expect("client");
    let templates = c.list_report_templates().await.expect("through the proxy");
    assert!(!templates.value.is_empty());
    let journal = sim.journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0].path, "/msp/report_template_list.php");

    // Without the proxy the same call fails to connect.
    let mut direct = ClientConfig::new(closed.clone(), "demo", Secret::new("demo"));
    direct.connect_timeout = Duration::from_secs(2);
    let err = Client::new(direct)
        .expect("client")
        .list_report_templates()
        .await
        .expect_err("nothing listens there");
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_certificate_error_that_pauses() {
    let tls = SimTls::generate().expect("TLS identity");
    let addr = "127.0.0.1:0".parse().expect("loopback address");
    let sim = Sim::start_tls(SimConfig::fast(), addr, &tls)
        .await
        .expect("TLS simulator starts");
    // No extra CA: the simulator's throwaway CA is an unknown issuer.
    let e = client(&sim)
        .list_scans_by_ref(&["scan/1.1"])
        .await
        .expect_err("an untrusted certificate is refused");
    assert_eq!(e.kind, ErrorKind::Certificate, "{e}");
    assert!(e.kind.is_account_problem() && !e.kind.is_retryable(), "{e}");
    assert!(e.text.contains("does not trust"), "{e}");
    assert!(e.text.contains("[qualys].ca_file"), "{e}");
    assert_eq!(e.http_status, None);

    // A name mismatch: the certificate names 127.0.0.1 and localhost, not this alias.
    let mut cfg = ClientConfig::new(
        format!("https://127.0.0.2:{}", sim.addr().port()),
        "demo",
        Secret::new("demo"),
    );
    cfg.extra_ca_pem = Some(tls.ca_pem().as_bytes().to_vec());
    cfg.connect_timeout = Duration::from_secs(2);
    let mismatch = Client::new(cfg)
        .expect("client")
        .list_report_templates()
        .await
        .expect_err("a certificate for another name is refused");
    // 127.0.0.2 may be unreachable where loopback is only 127.0.0.1: then it is a connect
    // error, not a certificate one.
    if mismatch.kind == ErrorKind::Certificate {
        assert!(mismatch.text.contains("host name"), "{mismatch}");
    } else {
        assert_eq!(mismatch.kind, ErrorKind::Transient, "{mismatch}");
    }
    assert!(sim.journal().is_empty(), "{:?}", sim.journal());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_and_maintenance_codes_are_retried_not_failed() {
    let sim = sim().await;
    let c = client(&sim);
    always(&sim, &c, Call::ListScans, |f| f.p_1981 = 1.0);
    let e = list_error(&c).await;
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::Transient, Some(1981)),
        "{e}"
    );
    always(&sim, &c, Call::ListScans, |f| f.p_1999 = 1.0);
    let e = list_error(&c).await;
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::Transient, Some(1999)),
        "{e}"
    );
    assert!(e.kind.is_retryable());

    // A mutation answered 1981 may still be applied later: ambiguous, looked up first.
    always(&sim, &c, Call::AddAssetGroup, |f| f.p_1981 = 1.0);
    let ips = [range("64.39.106.1", "64.39.106.1")];
    c.add_ips(&ips, TrackingMethod::Ip).await.expect("add ips");
    let e = c
        .add_asset_group("Busy Org", &ips, None, &[])
        .await
        .expect_err("faulted");
    assert_eq!(
        (e.kind.clone(), e.code),
        (ErrorKind::Ambiguous, Some(1981)),
        "{e}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_expansion_body_is_refused_unparsed() {
    let sim = sim().await;
    let c = client(&sim);
    always(&sim, &c, Call::ListScans, |f| f.p_hostile_xml = 1.0);
    let e = list_error(&c).await;
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.text.contains("<!ENTITY"), "{e}");

    // Downloads: the error body of a fetch is XML too.
    let dir = tempfile::tempdir().expect("temp dir");
    let dest = dir.path().join("report.pdf");
    always(&sim, &c, Call::FetchReport, |f| f.p_hostile_xml = 1.0);
    let e = c.fetch_report(1, &dest).await.expect_err("refused");
    let e = e.api().expect("an API error");
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.text.contains("<!ENTITY"), "{e}");
    assert!(!dest.exists() && !dir.path().join("report.pdf.part").exists());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_download_ends_at_its_deadline_and_leaves_no_part() {
    let sim = sim().await;
    let mut cfg = ClientConfig::new(sim.url(), "demo", Secret::new("demo"));
    cfg.request_timeout = Duration::from_secs(10);
    cfg.download_deadline = Duration::from_secs(2);
    let c = Client::new(cfg).expect("client");
    let scan_ref = launch(&c, "Trickle Org").await;
    wait_processed(&c, &scan_ref).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dest = dir.path().join("results.json");
    let part = dir.path().join("results.json.part");
    let full = c
        .fetch_scan(&scan_ref, &dest)
        .await
        .expect("untrickled fetch")
        .value
        .bytes;
    std::fs::remove_file(&dest).expect("remove the untrickled file");
    assert!(
        full > 4096,
        "results of {full} bytes are too small to trickle"
    );
    // About 20 s for the whole body: the deadline (2 s) cuts it, the abort below finds
    // its .part after the first 1 KiB.
    let rate = u32::try_from(full / 20).expect("a small rate");
    sim.set_faults(Faults {
        seed: 7,
        only_apis: vec![c.api_for(Call::FetchScan)],
        p_trickle: 1.0,
        trickle_bytes_per_sec: rate,
        ..Faults::default()
    });
    let e = c.fetch_scan(&scan_ref, &dest).await.expect_err("deadline");
    let e = e.api().expect("an API error");
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.text.contains("deadline"), "{e}");
    assert!(!dest.exists(), "no file from a download cut short");
    assert!(!part.exists(), "no .part after the deadline");

    // A download whose task is aborted (a canceled job) leaves no .part either.
    let mut cfg = ClientConfig::new(sim.url(), "demo", Secret::new("demo"));
    cfg.request_timeout = Duration::from_secs(10);
    let slow = Client::new(cfg).expect("client");
    let task = {
        let dest = dest.clone();
        let scan_ref = scan_ref.clone();
        tokio::spawn(async move { slow.fetch_scan(&scan_ref, &dest).await })
    };
    let mut seen = false;
    for _ in 0..300 {
        if part.exists() {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the trickling download never started its .part");
    task.abort();
    let _ = task.await;
    assert!(!part.exists(), "an aborted download left its .part");
    assert!(!dest.exists());
    sim.shutdown().await;
}

/// What [`scripted_server`] answers to one request.
struct Script {
    status: &'static str,
    body: String,
    /// Send the body this many bytes a second (`None`: at once).
    bytes_per_sec: Option<usize>,
}

/// A loopback HTTP/1.1 server for answers the simulator has no fault for: `answer` gets
/// each request's head and says what to send. Lives until the test's runtime ends.
async fn scripted_server(answer: fn(&str) -> Script) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let script = answer(&String::from_utf8_lossy(&head));
                let reply = format!(
                    "HTTP/1.1 {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n",
                    script.status,
                    script.body.len()
                );
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                match script.bytes_per_sec {
                    None => {
                        let _ = stream.write_all(script.body.as_bytes()).await;
                    }
                    Some(rate) => {
                        for chunk in script.body.as_bytes().chunks(rate.max(1)) {
                            if stream.write_all(chunk).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
    });
    url
}

const EMPTY_SCAN_LIST: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\
    <SCAN_LIST_OUTPUT><RESPONSE><DATETIME>2026-12-01T00:00:00Z</DATETIME></RESPONSE>\
    </SCAN_LIST_OUTPUT>";

/// `/api/3.0/…` answers HTTP 400 CODE 1901, anything else an empty scan list.
fn v3_refuses_parameters(head: &str) -> Script {
    if head.starts_with("GET /api/3.0/") {
        Script {
            status: "400 Bad Request",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN><RESPONSE>\
                   <CODE>1901</CODE><TEXT>Unrecognized parameter(s): show_ags</TEXT>\
                   </RESPONSE></SIMPLE_RETURN>"
                .to_string(),
            bytes_per_sec: None,
        }
    } else {
        Script {
            status: "200 OK",
            body: EMPTY_SCAN_LIST.to_string(),
            bytes_per_sec: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xml_answer_that_trickles_ends_at_the_request_timeout() {
    // About 200 s at 2 bytes a second, each read well inside any read timeout.
    let url = scripted_server(|_| Script {
        status: "200 OK",
        body: EMPTY_SCAN_LIST.to_string(),
        bytes_per_sec: Some(2),
    })
    .await;
    let mut cfg = ClientConfig::new(url, "demo", Secret::new("demo"));
    cfg.request_timeout = Duration::from_secs(2);
    let c = Client::new(cfg).expect("client");
    let e = list_error(&c).await;
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.text.to_ascii_lowercase().contains("timed out"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_list_version_that_answers_1901_falls_back_to_the_other() {
    let url = scripted_server(v3_refuses_parameters).await;
    let mut cfg = ClientConfig::new(url, "demo", Secret::new("demo"));
    cfg.request_timeout = Duration::from_secs(10);
    let c = Client::new(cfg).expect("client");
    assert_eq!(
        c.scan_list_version(),
        ApiVersion::V3,
        "v3 stays the default"
    );
    let scans = c
        .list_scans_by_ref(&["scan/1.1"])
        .await
        .expect("v2 answers");
    assert!(scans.value.is_empty());
    assert_eq!(c.scan_list_version(), ApiVersion::V2);
    c.list_scans_by_ref(&["scan/1.1"])
        .await
        .expect("stays on v2");
    assert_eq!(c.api_for(Call::ListScans), "/api/2.0/fo/scan/?action=list");

    // Another 400 (not 1901) is the call's own error, with no fallback.
    let sim = sim().await;
    let c = client(&sim);
    always(&sim, &c, Call::ListScans, |f| f.p_1999 = 1.0);
    let e = list_error(&c).await;
    assert_eq!(e.code, Some(1999));
    assert_eq!(c.scan_list_version(), ApiVersion::V3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_pauses_on_an_untrusted_certificate_and_says_why() {
    use crate::support::{job_toml, sigterm, wait_exit, World};
    let w = World::new(SimConfig::fast()).await;
    let tls = SimTls::generate().expect("TLS identity");
    let addr = "127.0.0.1:0".parse().expect("loopback address");
    let https = Sim::start_tls(SimConfig::fast(), addr, &tls)
        .await
        .expect("TLS simulator starts");
    // The daemon talks to the TLS simulator without its CA ([qualys].ca_file unset).
    w.replace_config(
        &format!("url = \"{}\"", w.sim.url()),
        &format!("url = \"{}\"", https.url()),
    );
    let mut w = w;
    let mut daemon = w.start_daemon();
    w.drop_job("tls.toml", &job_toml("Tls Org", &["64.39.106.81"]));
    let daemon_json = w.spool.join("daemon.json");
    let mut text = String::new();
    for _ in 0..200 {
        text = std::fs::read_to_string(&daemon_json).unwrap_or_default();
        if text.contains("\"paused\": {") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("\"paused\": {"),
        "no pause: {text}\n{}",
        w.logs()
    );
    assert!(text.contains("TLS certificate"), "{text}");
    assert!(text.contains("does not trust"), "{text}");
    let statuses = w.statuses();
    assert!(
        statuses.iter().all(|s| s["state"] != "failed"),
        "a certificate problem fails no job: {statuses:?}"
    );
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    https.shutdown().await;
}
