//! Fault injection: drop after apply, internal errors, maintenance pages, slow apply,
//! transient codes, hostile bodies and trickling downloads.

use std::time::{Duration, Instant};

use qualys_sim::Faults;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::client::{form, get, post, post_text, scan_reference, send_raw, start_fast, AUTH, XRW};

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
    assert!(
        r.header("X-RateLimit-Remaining").is_some(),
        "a 999 comes from the API"
    );
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

/// A scan launch of the seed group, sent by a client that gives up after `timeout`.
async fn launch_giving_up(sim: &qualys_sim::Sim, timeout: Duration) -> bool {
    let req = post_text(
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("scan_title", "Slow [J9]"),
            ("asset_groups", "Slow"),
            ("option_title", "New IPs option profile"),
        ],
    );
    tokio::time::timeout(timeout, send_raw(sim.addr(), &req))
        .await
        .is_ok()
}

#[tokio::test]
async fn slow_apply_takes_effect_after_the_client_gave_up() {
    let sim = start_fast().await;
    sim.add_subscription_ips("64.39.106.0-64.39.106.3")
        .expect("ips");
    sim.add_group("Slow", "64.39.106.0-64.39.106.3")
        .expect("group");
    let slow = Duration::from_millis(1500);
    sim.set_faults(Faults {
        seed: 3,
        p_slow_apply: 1.0,
        slow_apply: slow,
        only_apis: vec!["/api/2.0/fo/scan/?action=launch".into()],
        ..Faults::default()
    });
    let answered = launch_giving_up(&sim, Duration::from_millis(200)).await;
    assert!(!answered, "the client gave up before the answer");
    // The lookup right after the give-up finds nothing: the launch is still in flight.
    assert!(sim.scans().is_empty());
    let list = get(sim.addr(), "/api/3.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(list.status, 200);
    assert!(list.tag("SCAN_LIST").is_none(), "{}", list.text());
    // Then it is applied anyway, with nobody listening.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.scans().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the slow launch never took effect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scans = sim.scans();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].title, "Slow [J9]");
    let deadline = Instant::now() + Duration::from_secs(5);
    let entry = loop {
        let found = sim
            .journal()
            .into_iter()
            .find(|e| e.api == "/api/2.0/fo/scan/?action=launch");
        if let Some(e) = found {
            break e;
        }
        assert!(Instant::now() < deadline, "no journal entry for the launch");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(entry.applied);
    let applied_at = entry.applied_at.expect("applied_at");
    let after = applied_at
        .duration_since(entry.at)
        .expect("applied after arrival");
    assert!(
        after >= slow,
        "applied {after:?} after arrival, want ≥ {slow:?}"
    );
    // A read is never slowed by the plan, and a client that waits gets its answer.
    sim.set_faults(Faults {
        seed: 3,
        p_slow_apply: 1.0,
        slow_apply: Duration::from_millis(300),
        ..Faults::default()
    });
    assert!(launch_giving_up(&sim, Duration::from_secs(10)).await);
    assert_eq!(sim.scans().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn transient_codes_1981_and_1999_apply_nothing() {
    let sim = start_fast().await;
    for (p_1981, p_1999, code) in [(1.0, 0.0, "1981"), (0.0, 1.0, "1999")] {
        sim.set_faults(Faults {
            seed: 5,
            p_1981,
            p_1999,
            ..Faults::default()
        });
        let r = post(
            sim.addr(),
            "/api/2.0/fo/asset/ip/",
            &[("action", "add"), ("ips", "192.0.2.1"), ("enable_vm", "1")],
        )
        .await;
        assert_eq!((r.status, r.tag("CODE").as_deref()), (400, Some(code)));
        assert!(r.header("X-RateLimit-Remaining").is_some());
    }
    assert!(sim.subscription_ips().is_empty());
    assert!(sim.journal().iter().all(|e| !e.applied));
    sim.shutdown().await;
}

#[tokio::test]
async fn hostile_body_has_an_internal_subset_and_a_flat_entity_expansion() {
    let sim = start_fast().await;
    sim.set_faults(Faults {
        seed: 5,
        p_hostile_xml: 1.0,
        only_apis: vec!["/api/3.0/fo/scan/?action=list".into()],
        ..Faults::default()
    });
    let r = get(sim.addr(), "/api/3.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(
        (300_000..600_000).contains(&r.body.len()),
        "{} bytes",
        r.body.len()
    );
    assert!(text.contains("<!DOCTYPE SIMPLE_RETURN [") && text.contains("<!ENTITY a \""));
    let value = text
        .split("<!ENTITY a \"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("entity value");
    let expanded = value.len() as u64 * text.matches("&a;").count() as u64;
    assert!(expanded >= 5_000_000_000, "expands to {expanded} bytes");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_trickling_download_sends_a_few_bytes_per_second() {
    let sim = start_fast().await;
    sim.add_subscription_ips("64.39.106.0-64.39.106.3")
        .expect("ips");
    let r = post(
        sim.addr(),
        "/api/2.0/fo/scan/",
        &[
            ("action", "launch"),
            ("ip", "64.39.106.0-64.39.106.3"),
            ("option_title", "New IPs option profile"),
        ],
    )
    .await;
    let scan_ref = scan_reference(&r);
    assert!(sim.set_scan_state(&scan_ref, "Finished"));
    sim.set_faults(Faults {
        seed: 5,
        p_trickle: 1.0,
        trickle_bytes_per_sec: 5,
        ..Faults::default()
    });
    let query = form(&[
        ("action", "fetch"),
        ("scan_ref", &scan_ref),
        ("output_format", "json"),
    ]);
    let req = format!(
        "GET /api/2.0/fo/scan/?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}: {}\r\n{}: {}\r\n\r\n",
        AUTH.0, AUTH.1, XRW.0, XRW.1
    );
    let mut s = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    s.write_all(req.as_bytes()).await.expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // First the head and the first bytes of the body...
    while !got.windows(4).any(|w| w == b"\r\n\r\n") || got.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut buf).await.expect("read");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    // ...then whatever else two more seconds bring: at 5 bytes per second, never the whole.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let raw = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a Content-Length");
    assert!(
        body.len() <= 20,
        "{} body bytes within about 2 s at 5 B/s",
        body.len()
    );
    assert!(length > 100, "the whole body is {length} bytes");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_answer_abandoned_before_it_reached_the_api_is_never_applied() {
    let sim = start_fast().await;
    sim.set_faults(Faults {
        seed: 4,
        p_slow: 1.0,
        slow: Duration::from_millis(800),
        only_apis: vec!["/api/2.0/fo/asset/ip/?action=add".into()],
        ..Faults::default()
    });
    let add = |ip: &str| {
        post_text(
            "/api/2.0/fo/asset/ip/",
            &[("action", "add"), ("ips", ip), ("enable_vm", "1")],
        )
    };
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        send_raw(sim.addr(), &add("192.0.2.1")),
    )
    .await
    .is_err();
    assert!(gave_up);
    // A patient request sent after it: when it is answered, the first one's delay is over.
    let answered = send_raw(sim.addr(), &add("192.0.2.2"))
        .await
        .expect("answer");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    let ips: Vec<String> = sim
        .subscription_ips()
        .iter()
        .map(|(a, b)| format!("{a}-{b}"))
        .collect();
    assert_eq!(
        ips,
        vec!["192.0.2.2-192.0.2.2"],
        "the abandoned add was not applied"
    );
    let adds = sim
        .journal()
        .iter()
        .filter(|e| e.api == "/api/2.0/fo/asset/ip/?action=add")
        .count();
    assert_eq!(adds, 1, "an abandoned request is not journaled");
    sim.shutdown().await;
}
