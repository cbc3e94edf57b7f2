//! The simulator is as strict as Qualys: comma-split `asset_groups`, launches by
//! `asset_group_ids`, Auto/Manual templates, brief/extended raw results, unknown parameters,
//! unknown option profiles, and the title and comment limits.

use qualys_sim::Sim;
use serde_json::Value;

use super::client::{get, post, scan_reference, start_fast, Resp};

const PROFILE: &str = "New IPs option profile";

async fn launch(sim: &Sim, target: (&str, &str)) -> Resp {
    post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("scan_title", "t"),
            target,
            ("option_title", PROFILE),
        ],
    )
    .await
}

fn code(r: &Resp) -> (u16, Option<String>) {
    (r.status, r.tag("CODE"))
}

fn bad(code: &str) -> (u16, Option<String>) {
    (400, Some(code.to_owned()))
}

/// Groups `Victim` (outside the job's scope), `Acme` and `Acme, Inc.` in a subscription
/// holding all their addresses.
async fn victim_and_acme() -> (Sim, u64, u64, u64) {
    let sim = start_fast().await;
    sim.add_subscription_ips("10.0.0.1-10.0.0.9,10.0.1.1-10.0.1.3")
        .expect("ips");
    let victim = sim.add_group("Victim", "10.0.1.1-10.0.1.3").expect("group");
    let acme = sim.add_group("Acme", "10.0.0.1-10.0.0.2").expect("group");
    let inc = sim.add_group("Acme, Inc.", "10.0.0.5").expect("group");
    assert!(
        sim.add_group("Acme", "10.0.0.9").is_err(),
        "titles are unique"
    );
    (sim, victim, acme, inc)
}

#[tokio::test]
async fn asset_groups_is_split_at_commas_like_qualys_does() {
    let (sim, _, _, _) = victim_and_acme().await;
    // `Acme, Inc.` names the groups `Acme` and `Inc.`: the second does not exist.
    let r = launch(&sim, ("asset_groups", "Acme, Inc.")).await;
    assert_eq!(code(&r), bad("1905"), "{}", r.text());
    assert!(r.text().contains("Inc."), "{}", r.text());
    assert!(sim.scans().is_empty());
    // `Victim,Acme` scans both groups, the victim's addresses included.
    let r = launch(&sim, ("asset_groups", "Victim,Acme")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let scans = sim.scans();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].target_list, "10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.3");
    assert_eq!(scans[0].group_titles, vec!["Victim", "Acme"]);
    let l = get(
        sim.addr(),
        "/api/3.0/fo/scan/",
        &[("action", "list"), ("show_ags", "1")],
    )
    .await;
    let text = l.text();
    assert!(
        text.contains("<ASSET_GROUP_TITLE><![CDATA[Victim]]></ASSET_GROUP_TITLE>")
            && text.contains("<ASSET_GROUP_TITLE><![CDATA[Acme]]></ASSET_GROUP_TITLE>"),
        "{text}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn asset_group_ids_target_exactly_the_named_groups() {
    let (sim, victim, acme, inc) = victim_and_acme().await;
    let r = launch(&sim, ("asset_group_ids", &inc.to_string())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let scan_ref = scan_reference(&r);
    let scans = sim.scans();
    assert_eq!(scans[0].reference, scan_ref);
    assert_eq!(scans[0].target_list, "10.0.0.5");
    assert_eq!(scans[0].group_titles, vec!["Acme, Inc."]);
    let both = launch(&sim, ("asset_group_ids", &format!("{acme},{victim}"))).await;
    assert_eq!(both.status, 200);
    assert_eq!(
        sim.scans()[1].target_list,
        "10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.3"
    );
    for ids in ["999", "abc", &format!("{acme},0")] {
        let r = launch(&sim, ("asset_group_ids", ids)).await;
        assert_eq!(code(&r), bad("1905"), "{ids}: {}", r.text());
    }
    let mixed = post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("asset_groups", "Acme"),
            ("asset_group_ids", &acme.to_string()),
            ("option_title", PROFILE),
        ],
    )
    .await;
    assert_eq!(code(&mixed), bad("1904"), "{}", mixed.text());
    assert_eq!(sim.scans().len(), 2, "no refused launch applied");
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_option_profiles_and_long_titles_are_refused() {
    let (sim, _, acme, _) = victim_and_acme().await;
    let ids = acme.to_string();
    let r = post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("asset_group_ids", &ids),
            ("option_title", "No Such Profile"),
        ],
    )
    .await;
    assert_eq!(code(&r), bad("1905"));
    assert!(
        r.tag("TEXT").is_some_and(|t| t.contains("option_title")
            && t.contains("No Such Profile")
            && t.contains("no option profile")),
        "{}",
        r.text()
    );
    let long = "x".repeat(2001);
    let r = post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("asset_group_ids", &ids),
            ("option_title", PROFILE),
            ("scan_title", &long),
        ],
    )
    .await;
    assert_eq!(code(&r), bad("1905"));
    let ok = post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("asset_group_ids", &ids),
            ("option_title", PROFILE),
            ("scan_title", &long[..2000]),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "2000 characters are allowed");
    let a = sim.addr();
    let group = |pairs: Vec<(&'static str, String)>| async move {
        let mut all = vec![("action", "add".to_owned())];
        all.extend(pairs);
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(a, "/api/2.0/fo/asset/group/", &refs).await
    };
    let c255 = "c".repeat(255);
    let c256 = "c".repeat(256);
    for (pairs, want) in [
        (vec![("title", "t".repeat(256))], Some("1905")),
        (vec![("title", "All".to_owned())], Some("1905")),
        (
            vec![("title", "G1".to_owned()), ("comments", c256.clone())],
            Some("1905"),
        ),
        (vec![("title", "t".repeat(255)), ("comments", c255)], None),
    ] {
        let r = group(pairs.clone()).await;
        assert_eq!(r.tag("CODE").as_deref(), want, "{pairs:?}: {}", r.text());
    }
    let edit = post(
        a,
        "/api/2.0/fo/asset/group/",
        &[("action", "edit"), ("id", &ids), ("set_comments", &c256)],
    )
    .await;
    assert_eq!(code(&edit), bad("1905"));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_parameters_are_1901_on_every_endpoint() {
    let sim = start_fast().await;
    let a = sim.addr();
    for (path, action) in [
        ("/api/2.0/fo/asset/ip/", "add"),
        ("/api/2.0/fo/asset/group/", "add"),
        ("/api/2.0/fo/asset/group/", "list"),
        ("/api/2.0/fo/asset/group/", "edit"),
        ("/api/2.0/fo/appliance/", "list"),
        ("/api/2.0/fo/scan/", "launch"),
        ("/api/2.0/fo/scan/", "list"),
        ("/api/3.0/fo/scan/", "list"),
        ("/api/2.0/fo/scan/", "cancel"),
        ("/api/2.0/fo/scan/", "fetch"),
        ("/api/2.0/fo/report/", "launch"),
        ("/api/2.0/fo/report/", "list"),
        ("/api/2.0/fo/report/", "fetch"),
        ("/api/2.0/fo/report/", "cancel"),
        ("/msp/asset_ip.php", "add"),
        ("/msp/asset_group.php", "add"),
        ("/msp/report_template_list.php", "list"),
    ] {
        let r = post(
            a,
            path,
            &[("action", action), ("bogus_param", "1"), ("Id", "2")],
        )
        .await;
        assert_eq!(code(&r), bad("1901"), "{path} {action}: {}", r.text());
        let text = r.tag("TEXT").unwrap_or_default();
        let want = if path.ends_with("report_template_list.php") {
            "Unrecognized parameter(s): action, bogus_param, Id"
        } else {
            "Unrecognized parameter(s): bogus_param, Id"
        };
        assert_eq!(text, want, "{path} {action}");
        assert!(
            r.header("X-RateLimit-Limit").is_none(),
            "refused before the API: no rate-limit headers"
        );
    }
    let login = post(
        a,
        "/api/2.0/fo/session/",
        &[
            ("action", "login"),
            ("username", "demo"),
            ("password", "demo"),
            ("remember", "1"),
        ],
    )
    .await;
    assert_eq!(code(&login), bad("1901"), "{}", login.text());
    assert!(login.header("Set-Cookie").is_none(), "no session opened");
    let ok = get(a, "/api/2.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(ok.status, 200);
    for h in [
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-Concurrency-Limit-Running",
    ] {
        assert!(ok.header(h).is_some(), "an API answer carries {h}");
    }
    assert!(sim.journal().iter().all(|e| !e.applied));
    sim.shutdown().await;
}

/// A report launch of XML output with `pairs` added.
async fn report_launch(a: std::net::SocketAddr, pairs: &[(&str, &str)]) -> Resp {
    let mut all: Vec<(&str, &str)> = vec![
        ("action", "launch"),
        ("output_format", "xml"),
        ("report_title", "r"),
    ];
    all.extend_from_slice(pairs);
    post(a, "/api/2.0/fo/report/", &all).await
}

#[tokio::test]
async fn templates_carry_type_and_auto_templates_take_hosts_not_scans() {
    let sim = start_fast().await;
    let a = sim.addr();
    sim.add_subscription_ips("64.39.106.0-64.39.106.3")
        .expect("ips");
    let gid = sim
        .add_group("Org", "64.39.106.0-64.39.106.3")
        .expect("group");
    let list = get(a, "/msp/report_template_list.php", &[]).await;
    let text = list.text();
    for (id, kind, ttype) in [
        (1, "Auto", "Scan"),
        (4, "Manual", "Scan"),
        (5, "Auto", "Patch"),
    ] {
        let want = format!(
            "<ID>{id}</ID>\n    <TYPE>{kind}</TYPE>\n    <TEMPLATE_TYPE>{ttype}</TEMPLATE_TYPE>"
        );
        assert!(text.contains(&want), "{want} in {text}");
    }
    let r = launch(&sim, ("asset_group_ids", &gid.to_string())).await;
    let scan_ref = scan_reference(&r);
    assert!(sim.set_scan_state(&scan_ref, "Finished"));
    // Auto: report_refs refused, a target required; ips or asset_group_ids honoured.
    let r = report_launch(a, &[("template_id", "1"), ("report_refs", &scan_ref)]).await;
    assert_eq!(code(&r), bad("1905"), "{}", r.text());
    let r = report_launch(a, &[("template_id", "1")]).await;
    assert_eq!(code(&r), bad("1922"), "{}", r.text());
    let r = report_launch(
        a,
        &[
            ("template_id", "1"),
            ("ips", "64.39.106.1-64.39.106.2,203.0.113.9"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let gids = gid.to_string();
    let r = report_launch(a, &[("template_id", "2"), ("asset_group_ids", &gids)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Manual: report_refs required, ips refused.
    let r = report_launch(a, &[("template_id", "4"), ("ips", "64.39.106.1")]).await;
    assert_eq!(code(&r), bad("1905"), "{}", r.text());
    let r = report_launch(a, &[("template_id", "4")]).await;
    assert_eq!(code(&r), bad("1903"), "{}", r.text());
    let r = report_launch(a, &[("template_id", "4"), ("report_refs", &scan_ref)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Not a Scan template, or unknown.
    for id in ["5", "77"] {
        let r = report_launch(a, &[("template_id", id), ("ips", "64.39.106.1")]).await;
        assert_eq!(code(&r), bad("1905"), "{id}: {}", r.text());
    }
    let reports = sim.reports();
    let got: Vec<(u64, &str, usize)> = reports
        .iter()
        .map(|r| (r.template_id, r.hosts_list.as_str(), r.scan_refs.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "64.39.106.1-64.39.106.2", 0),
            (2, "64.39.106.0-64.39.106.3", 0),
            (4, "64.39.106.0-64.39.106.3", 1),
        ],
        "an Auto report covers exactly the requested hosts in the subscription"
    );
    // Host-based data exists only for scanned hosts: a never-scanned address of the
    // subscription is in the report's target but has no findings.
    sim.add_subscription_ips("64.39.106.9").expect("ips");
    let r = report_launch(
        a,
        &[
            ("template_id", "1"),
            ("ips", "64.39.106.0-64.39.106.3,64.39.106.9"),
        ],
    )
    .await;
    let id = r.tag("VALUE").expect("report ID");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let xml = loop {
        let f = get(
            a,
            "/api/2.0/fo/report/",
            &[("action", "fetch"), ("id", &id)],
        )
        .await;
        if f.tag("CODE").is_none() {
            break f.text();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "report never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        xml.contains("<START>64.39.106.9</START>"),
        "target lists it: {xml}"
    );
    assert!(xml.contains("<IP>64.39.106.1</IP>") || xml.contains("<IP>64.39.106.2</IP>"));
    assert!(
        !xml.contains("<IP>64.39.106.9</IP>"),
        "no data for a host never scanned"
    );
    sim.shutdown().await;
}

/// A scan fetch of `scan_ref` with `extra` parameters.
async fn fetch(a: std::net::SocketAddr, scan_ref: &str, extra: &[(&str, &str)]) -> Resp {
    let mut all: Vec<(&str, &str)> = vec![("action", "fetch"), ("scan_ref", scan_ref)];
    all.extend_from_slice(extra);
    get(a, "/api/2.0/fo/scan/", &all).await
}

#[tokio::test]
async fn raw_results_are_brief_unless_asked_and_extended_formats_wrap_them() {
    let sim = start_fast().await;
    let a = sim.addr();
    sim.add_subscription_ips("64.39.106.0-64.39.106.3")
        .expect("ips");
    let r = launch(&sim, ("ip", "64.39.106.0-64.39.106.3")).await;
    let scan_ref = scan_reference(&r);
    assert!(sim.set_scan_state(&scan_ref, "Finished"));
    let brief = fetch(a, &scan_ref, &[("output_format", "json")]).await;
    let v: Value = serde_json::from_slice(&brief.body).expect("JSON");
    let recs = v.as_array().expect("array");
    assert!(!recs.is_empty());
    for rec in recs {
        let keys: Vec<&String> = rec.as_object().expect("object").keys().collect();
        assert!(
            rec.get("qid").is_some() && rec.get("severity").is_none(),
            "{keys:?}"
        );
    }
    let full = fetch(
        a,
        &scan_ref,
        &[("output_format", "json_extended"), ("mode", "extended")],
    )
    .await;
    let v: Value = serde_json::from_slice(&full.body).expect("JSON");
    let arr = v.as_array().expect("array");
    assert_eq!(arr[1]["reference"], Value::String(scan_ref.clone()));
    let n = arr.iter().filter(|o| o.get("severity").is_some()).count();
    assert_eq!(n, recs.len(), "the same findings, now with severities");
    assert!(arr[arr.len() - 1]
        .get("target_distribution_across_scanner_appliances")
        .is_some());
    let csv = fetch(a, &scan_ref, &[("output_format", "csv")]).await;
    assert!(
        csv.text()
            .starts_with("\"IP\",\"DNS\",\"NetBIOS\",\"QID\",\"Results\"\n"),
        "{}",
        csv.text()
    );
    for bad_pair in [("mode", "full"), ("output_format", "xml")] {
        let r = fetch(a, &scan_ref, &[bad_pair]).await;
        assert_eq!(code(&r), bad("1905"), "{bad_pair:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn excluded_hosts_are_in_the_target_but_not_scanned() {
    let cfg = qualys_sim::SimConfig {
        excluded_ips: vec![(
            "64.39.106.3".parse().expect("ip"),
            "64.39.106.3".parse().expect("ip"),
        )],
        ..qualys_sim::SimConfig::fast()
    };
    let sim = super::client::start(cfg).await;
    sim.add_subscription_ips("64.39.106.0-64.39.106.3")
        .expect("ips");
    let r = launch(&sim, ("ip", "64.39.106.0-64.39.106.3")).await;
    let scan_ref = scan_reference(&r);
    assert!(sim.set_scan_state(&scan_ref, "Finished"));
    let r = get(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "fetch"),
            ("scan_ref", &scan_ref),
            ("output_format", "json_extended"),
        ],
    )
    .await;
    let v: Value = serde_json::from_slice(&r.body).expect("JSON");
    let arr = v.as_array().expect("array");
    assert_eq!(arr[1]["excluded_ips"], "64.39.106.3");
    assert_eq!(arr[1]["total_hosts"], "4");
    let excluded = arr
        .iter()
        .find_map(|o| o.get("hosts_not_scanned_excluded_host_ip"))
        .expect("an excluded-hosts object");
    assert_eq!(excluded, "64.39.106.3");
    assert!(arr
        .iter()
        .filter_map(|o| o.get("ip"))
        .all(|ip| ip != "64.39.106.3"));
    sim.shutdown().await;
}
