//! Fault injection: drop after apply, internal errors, maintenance pages.

use qualys_sim::Faults;

use super::client::{form, get, send_raw, start_fast, AUTH, XRW};

#[tokio::test]
async fn drop_after_apply_applies_and_closes_without_response() {
    let sim = start_fast().await;
    sim.set_faults(Faults {
        seed: 7,
        p_drop_after_apply: 1.0,
        only_apis: vec!["/api/2.0/fo/asset/ip/?action=add".into()],
        ..Faults::default()
    });
    let body = form(&[
        ("action", "add"),
        ("ips", "192.0.2.10-192.0.2.12"),
        ("enable_vm", "1"),
    ]);
    let req = format!(
        "POST /api/2.0/fo/asset/ip/ HTTP/1.1\r\nHost: x\r\n{}: {}\r\n{}: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        AUTH.0, AUTH.1, XRW.0, XRW.1, body.len()
    );
    // Keep-alive request: only a closed connection ends the read.
    match send_raw(sim.addr(), &req).await {
        Ok(bytes) => assert!(
            bytes.is_empty(),
            "expected no response, got {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ),
            "{e}"
        ),
    }
    let ips: Vec<String> = sim
        .subscription_ips()
        .iter()
        .map(|(a, b)| format!("{a}-{b}"))
        .collect();
    assert_eq!(ips, vec!["192.0.2.10-192.0.2.12"]);
    let e = sim.journal().pop().expect("journal entry");
    assert!(e.applied && e.dropped);
    assert_eq!(e.status, 0);
    // Other APIs are untouched by the plan.
    let ok = get(sim.addr(), "/api/2.0/fo/appliance/", &[("action", "list")]).await;
    assert_eq!(ok.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn internal_error_and_maintenance_pages() {
    let sim = start_fast().await;
    sim.set_faults(Faults {
        seed: 1,
        p_999: 1.0,
        ..Faults::default()
    });
    let r = get(sim.addr(), "/api/2.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(r.status, 500);
    let t = r.text();
    assert!(t.contains("<!DOCTYPE GENERIC_RETURN SYSTEM"));
    assert!(t.contains("<RETURN status=\"FAILED\" number=\"999\">Internal error. Please contact customer support.</RETURN>"));
    assert!(t.contains("<!-- Incident signature: "));
    sim.set_faults(Faults {
        seed: 1,
        p_maintenance: 1.0,
        ..Faults::default()
    });
    let m = get(sim.addr(), "/api/2.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(m.status, 503);
    assert!(m.text().contains("Service Unavailable"));
    sim.set_faults(Faults {
        seed: 1,
        p_409_rate_no_header: 1.0,
        ..Faults::default()
    });
    let n = get(sim.addr(), "/api/2.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!((n.status, n.tag("CODE").as_deref()), (409, Some("1965")));
    assert!(n.header("X-RateLimit-ToWait-Sec").is_none());
    assert!(sim.journal().iter().all(|e| !e.applied));
    sim.shutdown().await;
}
