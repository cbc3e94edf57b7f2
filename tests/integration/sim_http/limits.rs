//! Rate limiting (sliding window, 409/1965) and concurrency limiting (409/1960).

use std::time::Duration;

use qualys_sim::SimConfig;

use super::client::{get, start};

const LIST: &str = "/api/2.0/fo/appliance/";

#[tokio::test]
async fn rate_limit_409_1965_then_window_slides() {
    let cfg = SimConfig {
        rate_limit: 3,
        rate_window: Duration::from_secs(2),
        ..SimConfig::fast()
    };
    let sim = start(cfg).await;
    let a = sim.addr();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = get(a, LIST, &[("action", "list")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-RateLimit-Limit"), Some("3"));
        assert_eq!(r.header("X-RateLimit-Window-Sec"), Some("2"));
        assert_eq!(r.header("X-RateLimit-ToWait-Sec"), Some("0"));
        assert_eq!(r.header("X-Concurrency-Limit-Running"), Some("1"));
        remaining.push(
            r.header("X-RateLimit-Remaining")
                .expect("Remaining")
                .to_owned(),
        );
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let blocked = get(a, LIST, &[("action", "list")]).await;
    assert_eq!(blocked.status, 409);
    assert_eq!(blocked.tag("CODE").as_deref(), Some("1965"));
    assert_eq!(blocked.header("X-RateLimit-Remaining"), Some("0"));
    let wait: u64 = blocked
        .header("X-RateLimit-ToWait-Sec")
        .and_then(|v| v.parse().ok())
        .expect("ToWait");
    assert!((1..=2).contains(&wait), "ToWait {wait}");
    assert_eq!(blocked.tag("KEY").as_deref(), Some("SECONDS_TO_WAIT"));
    assert_eq!(blocked.tag("VALUE"), Some(wait.to_string()));
    assert!(blocked.tag("TEXT").is_some_and(
        |t| t.starts_with("This API cannot be run again for another 0 hours, 0 minutes and")
    ));
    // Another API has its own counter.
    let other = get(a, "/api/2.0/fo/scan/", &[("action", "list")]).await;
    assert_eq!(other.status, 200);
    // A call inside the announced wait is journaled as such.
    let again = get(a, LIST, &[("action", "list")]).await;
    assert_eq!(again.status, 409);
    let j = sim.journal();
    let last = j.last().expect("journal entry");
    assert!(last.during_wait && last.code == Some(1965));
    assert!(!j[0].during_wait);
    // After waiting, the window has slid.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let ok = get(a, LIST, &[("action", "list")]).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_409_1960_checked_first() {
    let cfg = SimConfig {
        concurrency_limit: 2,
        latency: Duration::from_millis(400),
        ..SimConfig::fast()
    };
    let sim = start(cfg).await;
    let a = sim.addr();
    let calls: Vec<_> = (0..3)
        .map(|i| {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i * 60)).await;
                get(a, LIST, &[("action", "list")]).await
            })
        })
        .collect();
    let mut resps = Vec::new();
    for c in calls {
        resps.push(c.await.expect("task"));
    }
    let statuses: Vec<u16> = resps.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 200, 409]);
    let b = &resps[2];
    assert_eq!(b.tag("CODE").as_deref(), Some("1960"));
    assert_eq!(b.tag("KEY").as_deref(), Some("CALLS_TO_FINISH"));
    assert_eq!(b.tag("VALUE").as_deref(), Some("1"));
    assert_eq!(b.header("X-Concurrency-Limit-Limit"), Some("2"));
    assert_eq!(b.header("X-Concurrency-Limit-Running"), Some("2"));
    assert!(
        b.header("X-RateLimit-ToWait-Sec").is_none() && b.header("X-RateLimit-Remaining").is_none()
    );
    assert_eq!(sim.max_in_flight("/api/2.0/fo/appliance/?action=list"), 3);
    let inflight: Vec<u32> = sim.journal().iter().map(|e| e.in_flight).collect();
    assert!(inflight.contains(&3), "{inflight:?}");
    sim.shutdown().await;
}
