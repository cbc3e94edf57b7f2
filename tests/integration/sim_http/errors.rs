//! Authentication, routing and parameter errors, and the session API.

use super::client::{get, post, request, start_fast, AUTH, XRW};

#[tokio::test]
async fn bad_login_is_401_with_code_2000() {
    let sim = start_fast().await;
    let r = request(
        sim.addr(),
        "GET",
        "/api/2.0/fo/scan/?action=list",
        &[("Authorization", "Basic ZGVtbzpub3Bl"), XRW],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.tag("CODE").as_deref(), Some("2000"));
    assert_eq!(r.tag("TEXT").as_deref(), Some("Bad Login/Password"));
    assert!(r.text().starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE SIMPLE_RETURN SYSTEM"
    ));
    let none = request(
        sim.addr(),
        "GET",
        "/api/2.0/fo/scan/?action=list",
        &[XRW],
        "",
    )
    .await;
    assert_eq!(none.status, 401);
    let j = sim.journal();
    assert_eq!(
        j.iter().map(|e| (e.status, e.code)).collect::<Vec<_>>(),
        vec![(401, Some(2000)), (401, Some(2000))]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_slash_is_301_and_missing_action_is_1903() {
    let sim = start_fast().await;
    let r = request(
        sim.addr(),
        "GET",
        "/api/2.0/fo/scan?action=list",
        &[AUTH, XRW],
        "",
    )
    .await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("Location"),
        Some(format!("{}/api/2.0/fo/scan/?action=list", sim.url()).as_str())
    );
    assert!(r.text().contains("<h1>Moved Permanently</h1>"));

    let r = post(sim.addr(), "/api/2.0/fo/scan/", &[("scan_ref", "scan/1.1")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.tag("CODE").as_deref(), Some("1903"));
    assert_eq!(
        r.tag("TEXT").as_deref(),
        Some("Missing required parameter(s): action")
    );

    let r = post(sim.addr(), "/api/2.0/fo/scan/", &[("action", "explode")]).await;
    assert_eq!((r.status, r.tag("CODE").as_deref()), (400, Some("1901")));

    let r = request(
        sim.addr(),
        "POST",
        "/api/2.0/fo/asset/ip/",
        &[AUTH],
        "action=add&ips=10.0.0.1&enable_vm=1",
    )
    .await;
    assert_eq!(r.status, 400, "no X-Requested-With: refused");
    assert!(sim.subscription_ips().is_empty());

    let r = post(
        sim.addr(),
        "/api/2.0/fo/asset/ip/",
        &[("action", "add"), ("ips", "ja-psi.fr"), ("enable_vm", "1")],
    )
    .await;
    assert_eq!((r.status, r.tag("CODE").as_deref()), (400, Some("1905")));
    assert!(r.text().contains("ja-psi.fr"));
    sim.shutdown().await;
}

#[tokio::test]
async fn session_login_cookie_works_and_is_not_limited() {
    let sim = start_fast().await;
    let r = request(
        sim.addr(),
        "POST",
        "/api/2.0/fo/session/",
        &[XRW],
        "action=login&username=demo&password=demo",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.tag("TEXT").as_deref(), Some("Logged in"));
    assert!(
        r.header("X-RateLimit-Limit").is_none(),
        "session API carries no limit headers"
    );
    let cookie = r
        .header("Set-Cookie")
        .expect("session cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    assert!(cookie.starts_with("QualysSession="));
    let listed = request(
        sim.addr(),
        "GET",
        "/api/2.0/fo/appliance/?action=list",
        &[XRW, ("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(listed.status, 200);
    assert!(listed.text().contains("<NAME>scanner-dc1</NAME>"));
    assert!(listed.header("X-RateLimit-Remaining").is_some());
    let out = request(
        sim.addr(),
        "POST",
        "/api/2.0/fo/session/",
        &[XRW, ("Cookie", &cookie)],
        "action=logout",
    )
    .await;
    assert_eq!(out.tag("TEXT").as_deref(), Some("Logged out"));
    let after = request(
        sim.addr(),
        "GET",
        "/api/2.0/fo/appliance/?action=list",
        &[XRW, ("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(after.status, 401);
    let bad = request(
        sim.addr(),
        "POST",
        "/api/2.0/fo/session/",
        &[XRW],
        "action=login&username=demo&password=x",
    )
    .await;
    assert_eq!(bad.status, 401);
    let t = get(sim.addr(), "/msp/report_template_list.php", &[]).await;
    assert_eq!(t.status, 200);
    assert!(t
        .text()
        .contains("<TITLE><![CDATA[Technical Report]]></TITLE>"));
    assert!(t.text().trim_end().ends_with("//-->"));
    sim.shutdown().await;
}
