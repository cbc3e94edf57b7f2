//! The fault suite: the real daemon against a simulator that fails 10–30% of calls (5xx,
//! CODE 999, 1981 and 1999, maintenance pages, answers slower than the client's timeout, responses lost
//! after the change was applied, 409 storms with and without `ToWait`, a concurrency limit
//! of 1). Every job still completes, no limit is violated and no effect is duplicated.

use crate::support::*;
use qualys_sim::{Faults, JournalEntry};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Drops `n` jobs with fresh organizations (prefix `tag`) and returns them for
/// [`assert_exactly_once`].
fn drop_jobs(w: &World, tag: &str, third_octet: u8, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let name = format!("{tag}{i:02}.toml");
            let content = job_toml(
                &format!("{tag} org {i}"),
                &[&format!("64.39.{third_octet}.{}", 10 + i)],
            );
            w.drop_job(&name, &content);
            (name, content)
        })
        .collect()
}

/// No call sent inside an announced wait; after an API's first two calls (the governor
/// assumes 2 until a response states the limit) never more than `limit` in flight.
fn assert_limits_obeyed(j: &[JournalEntry], limit: u32) {
    let inside: Vec<_> = j.iter().filter(|e| e.during_wait).collect();
    assert!(
        inside.is_empty(),
        "{} request(s) sent inside a ToWait window, first: {:?}",
        inside.len(),
        inside.first().map(|e| (&e.api, e.at))
    );
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in j {
        let n = seen.entry(e.api.as_str()).or_default();
        *n += 1;
        if *n > 2 {
            assert!(
                e.in_flight <= limit,
                "{} had {} calls in flight (limit {limit}), call #{n}",
                e.api,
                e.in_flight
            );
        }
    }
}

/// Runs the daemon until the jobs finish (or `limit`), stops it, checks the guarantees.
async fn run_to_completion(w: &mut World, dropped: &[(String, String)], limit: Duration) {
    let mut daemon = w.start_daemon();
    w.wait_for(limit, "every job to finish", all_finished(dropped.len()))
        .await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(15)), Some(0));
    assert_exactly_once(w, dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_timeouts_and_lost_responses_at_ten_to_thirty_percent() {
    let started = Instant::now();
    let mut cfg = fast_sim();
    cfg.concurrency_limit = 2;
    let mut w = World::new(cfg).await;
    w.set_polling("200ms", "200ms", "200ms");
    // Slow answers (1.5 s) outlast the client's timeout (1 s): the call's fate is unknown.
    w.replace_config("request_timeout = \"5s\"", "request_timeout = \"1s\"");
    w.sim.set_faults(Faults {
        seed: 21,
        p_5xx: 0.08,
        p_999: 0.05,
        p_maintenance: 0.08,
        p_slow: 0.05,
        slow: Duration::from_millis(1500),
        p_drop_after_apply: 0.1,
        p_1981: 0.05,
        p_1999: 0.05,
        ..Faults::default()
    });
    // Enough calls that every kind of fault shows up (about 100 calls: a fault of 8% is
    // missing from all of them with a probability under 0.03%).
    let dropped = drop_jobs(&w, "Fault", 109, 6);
    // Generous: a lookup after an unanswered send proves absence only after
    // request_timeout + margin, and the machine is shared with other suites.
    run_to_completion(&mut w, &dropped, Duration::from_secs(120)).await;
    let j = w.journal();
    for status in [500, 503] {
        assert!(
            j.iter().any(|e| e.status == status),
            "no HTTP {status} was injected"
        );
    }
    assert!(j.iter().any(|e| e.code == Some(999)), "no CODE 999");
    // 1981 "being processed" and 1999 "maintenance" are retried, never a failure.
    for code in [1981, 1999] {
        assert!(j.iter().any(|e| e.code == Some(code)), "no CODE {code}");
    }
    assert!(j.iter().any(|e| e.dropped), "no response was lost");
    assert_limits_obeyed(&j, 2);
    // The metrics count every failed answer by API and class, and the retries.
    let prom = read(&w.dir.path().join("state/baseliner.prom"));
    let sum = |prefix: &str| -> u64 {
        prom.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum()
    };
    let server_errors = j.iter().filter(|e| e.status >= 500).count() as u64;
    assert!(
        sum("baseliner_api_failures_total{") >= server_errors,
        "fewer failures counted than the {server_errors} 5xx answers:\n{prom}"
    );
    assert!(sum("baseliner_api_failures_total{") > 0, "{prom}");
    let transient_or_ambiguous = sum("baseliner_api_failures_total{")
        - prom
            .lines()
            .filter(|l| {
                l.starts_with("baseliner_api_failures_total{")
                    && !l.contains("class=\"transient\"")
                    && !l.contains("class=\"ambiguous\"")
            })
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum::<u64>();
    assert!(transient_or_ambiguous > 0, "{prom}");
    assert!(sum("baseliner_retries_total ") > 0, "{prom}");
    assert!(
        prom.contains("baseliner_api_failures_total{api=\"/api/2.0/fo/scan/?action=cancel\",class=\"bad_credentials\"} 0\n"),
        "zero series for an API never called:\n{prom}"
    );
    eprintln!(
        "fault suite (errors): {} calls in {:.1}s",
        j.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_storms_with_and_without_to_wait_under_a_concurrency_limit_of_one() {
    let started = Instant::now();
    let mut cfg = fast_sim();
    cfg.concurrency_limit = 1;
    cfg.latency = Duration::from_millis(10);
    let mut w = World::new(cfg).await;
    w.set_polling("300ms", "300ms", "300ms");
    w.sim.set_faults(Faults {
        seed: 5,
        p_409_rate: 0.1,
        p_409_rate_no_header: 0.1,
        p_409_concurrency: 0.1,
        ..Faults::default()
    });
    let dropped = drop_jobs(&w, "Storm", 110, 3);
    // Generous: a third of the calls are refused, each concurrency 409 waits 10 s, and a
    // lookup after a refused send proves absence only after request_timeout + margin.
    run_to_completion(&mut w, &dropped, Duration::from_secs(120)).await;
    let j = w.journal();
    for code in [1960, 1965] {
        assert!(
            j.iter().any(|e| e.status == 409 && e.code == Some(code)),
            "no 409 CODE {code} in the storm"
        );
    }
    assert_limits_obeyed(&j, 1);
    eprintln!(
        "fault suite (409 storm): {} calls, {} refused, in {:.1}s",
        j.len(),
        j.iter().filter(|e| e.status == 409).count(),
        started.elapsed().as_secs_f64()
    );
}

/// A launch that Qualys refused with a 409 was not run (qualys-api.md §2.2): the job sends
/// it again once the wait is over, without waiting for a lookup to prove it absent — and
/// still launches exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_refused_with_409_is_sent_again_without_waiting_for_an_absence_proof() {
    let mut w = World::new(fast_sim()).await;
    w.set_polling("200ms", "200ms", "200ms");
    // A margin far longer than the test: a job that waited for the proof would never end.
    w.replace_config("absence_margin = \"2s\"", "absence_margin = \"1h\"");
    w.sim.set_faults(Faults {
        seed: 9,
        p_409_rate: 0.5,
        only_apis: vec![LAUNCH_SCAN_API.to_string()],
        ..Faults::default()
    });
    let dropped = drop_jobs(&w, "Refused", 111, 3);
    run_to_completion(&mut w, &dropped, Duration::from_secs(60)).await;
    let j = w.journal();
    assert!(
        j.iter()
            .any(|e| e.api == LAUNCH_SCAN_API && e.status == 409 && e.code == Some(1965)),
        "no launch was refused"
    );
    let logs = w.logs();
    assert!(
        !logs.contains("not visible yet"),
        "a refused launch waited for an absence proof:\n{logs}"
    );
}
