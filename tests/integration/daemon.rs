//! The daemon end to end: the real binary against the simulator over loopback, on a real
//! spool and a real sled store.

use crate::support::*;
use std::time::Duration;

const LAUNCH_SCAN: &str = "/api/2.0/fo/scan/?action=launch";
const LAUNCH_REPORT: &str = "/api/2.0/fo/report/?action=launch";
const ADD_GROUP: &str = "/api/2.0/fo/asset/group/?action=add";
const EDIT_GROUP: &str = "/api/2.0/fo/asset/group/?action=edit";
const LIST_SCANS: &str = "/api/3.0/fo/scan/?action=list";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_job_reaches_done_with_its_outputs_and_sigterm_stops_cleanly() {
    let mut w = World::new(fast_sim()).await;
    let mut daemon = w.start_daemon();
    w.drop_job(
        "acme.toml",
        "organization = \"organization_name\"\nips = [\"64.39.106.0-64.39.106.3\"]\noption_title = \"New IPs option profile\"\nreport_template_id = 1\n",
    );
    w.wait_for(
        Duration::from_secs(30),
        "the seed job to finish",
        all_finished(1),
    )
    .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "done", "{st:#}\n{}", w.logs());
    assert_eq!(st["organization"], "organization_name");
    assert!(st["error"].is_null());
    let id = st["id"].as_str().expect("id");
    let states: Vec<&str> = st["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["state"].as_str())
        .collect();
    assert_eq!(
        states,
        [
            "accepted",
            "adding_ips",
            "creating_group",
            "launching_scan",
            "scan_running",
            "launching_report",
            "report_running",
            "downloading",
            "done"
        ]
    );
    let dir = w.job_dir(id);
    let report = std::fs::read(dir.join("report.pdf")).expect("report.pdf");
    assert!(
        report.starts_with(b"%PDF"),
        "the report is the simulator's PDF"
    );
    let results: serde_json::Value =
        serde_json::from_str(&read(&dir.join("results.json"))).expect("results.json is JSON");
    assert!(results.as_array().is_some_and(|a| a.len() > 3));
    assert!(dir.join("job.toml").is_file() && dir.join("submitted.toml").is_file());
    assert!(!w.spool.join("incoming/acme.toml").exists());

    let j = w.journal();
    let launches = applied(&j, LAUNCH_SCAN);
    assert_eq!(launches.len(), 1);
    let title = param(launches[0], "scan_title").expect("scan_title");
    assert!(title.ends_with(&format!("[{id}]")), "{title}");
    // Launched by the group's id, never by a title Qualys would split at commas.
    assert_eq!(param(launches[0], "asset_groups"), None);
    let group = w
        .sim
        .groups()
        .into_iter()
        .find(|g| g.title == "organization_name")
        .expect("the job's group");
    assert_eq!(
        param(launches[0], "asset_group_ids"),
        Some(group.id.to_string().as_str())
    );
    assert_eq!(applied(&j, LAUNCH_REPORT).len(), 1);
    assert_eq!(applied(&j, ADD_GROUP).len(), 1);
    assert!(
        j.iter().all(|e| e.status != 401),
        "every call authenticated"
    );

    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_never_launches_twice() {
    let mut w = World::new(fast_sim()).await;
    // Half of all launches and group changes are applied and then the connection drops:
    // the case that produces duplicate launches in naive clients.
    w.sim.set_faults(qualys_sim::Faults {
        seed: 11,
        p_drop_after_apply: 0.5,
        only_apis: vec![
            LAUNCH_SCAN.into(),
            LAUNCH_REPORT.into(),
            ADD_GROUP.into(),
            EDIT_GROUP.into(),
        ],
        ..qualys_sim::Faults::default()
    });
    let jobs = 4;
    let dropped: Vec<(String, String)> = (0..jobs)
        .map(|n| {
            let ip = format!("64.39.106.{}", 10 + n);
            (
                format!("org{n}.toml"),
                job_toml(&format!("Org {n}"), &[&ip]),
            )
        })
        .collect();
    for (name, content) in &dropped {
        w.drop_job(name, content);
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut kills = 0;
    for _ in 0..40 {
        let mut daemon = w.start_daemon();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let ms = 150 + rng % 900;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let _ = daemon.kill(); // SIGKILL
        let _ = daemon.wait();
        kills += 1;
        if all_finished(jobs)(&w.statuses()) {
            break;
        }
    }
    // Let a final, uninterrupted run finish whatever is left.
    let code = w
        .run_until_finished(jobs, Duration::from_secs(60), "every job to finish")
        .await;
    assert_eq!(code, Some(0), "{}", w.logs());
    assert!(kills >= 3, "the daemon was killed {kills} times");
    assert_exactly_once(&w, &dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_jobs_share_one_scan_list_call_per_poll_round() {
    let mut w = World::new(fast_sim()).await;
    let jobs = 20;
    w.drop_batch(jobs, "j", "Batch", "64.39.107");
    w.run_until_finished(jobs, Duration::from_secs(60), "20 jobs to finish")
        .await;
    let j = w.journal();
    let lists: Vec<_> = j.iter().filter(|e| e.api == LIST_SCANS).collect();
    let launches = applied(&j, LAUNCH_SCAN);
    assert_eq!(launches.len(), jobs);
    // Each job's scan needs at least two polls (running, then finished and processed):
    // polling per job would cost 40+ calls. Batched, the rounds are what count.
    assert!(
        lists.len() < jobs,
        "{} scan-list calls for {jobs} jobs: polls are not batched",
        lists.len()
    );
    let first = launches.iter().map(|e| e.at).min().expect("a launch");
    let last = lists.iter().map(|e| e.at).max().expect("a list");
    let span = last.duration_since(first).unwrap_or_default().as_secs_f64();
    // Rounds start at most every scan_every / 2 (0.5 s here).
    let bound = (span / 0.5).ceil() as usize + 2;
    assert!(
        lists.len() <= bound,
        "{} scan-list calls in {span:.1}s (bound {bound})",
        lists.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storms_are_obeyed() {
    let mut cfg = fast_sim();
    cfg.rate_limit = 6;
    cfg.rate_window = Duration::from_secs(2);
    cfg.concurrency_limit = 1;
    cfg.latency = Duration::from_millis(20);
    let mut w = World::new(cfg).await;
    w.sim.set_faults(qualys_sim::Faults {
        seed: 3,
        p_409_rate: 0.15,
        p_409_rate_no_header: 0.05,
        p_409_concurrency: 0.1,
        ..qualys_sim::Faults::default()
    });
    w.drop_batch(3, "r", "Rate", "64.39.108");
    let mut daemon = w.start_daemon();
    w.wait_for(
        Duration::from_secs(90),
        "jobs to finish under a storm",
        all_finished(3),
    )
    .await;
    sigterm(&daemon);
    wait_exit(&mut daemon, Duration::from_secs(10));
    let j = w.journal();
    assert!(j.iter().any(|e| e.status == 409), "the storm happened");
    let inside: Vec<_> = j.iter().filter(|e| e.during_wait).collect();
    assert!(
        inside.is_empty(),
        "{} request(s) sent inside a ToWait window, first: {:?} {:?}",
        inside.len(),
        inside.first().map(|e| &e.api),
        inside.first().map(|e| e.at)
    );
    // The governor assumes 2 calls in flight per API until the first response tells it
    // the limit (1 here): only an API's first two calls may overlap.
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    for e in &j {
        let n = seen.entry(e.api.as_str()).or_default();
        *n += 1;
        if *n > 2 {
            assert!(
                e.in_flight <= 1,
                "{} had {} calls in flight",
                e.api,
                e.in_flight
            );
        }
    }
    for st in w.statuses() {
        assert_eq!(st["state"], "done", "{st:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_job_files_are_rejected_with_a_reason_and_the_daemon_stays_up() {
    let mut w = World::new(fast_sim()).await;
    let mut daemon = w.start_daemon();
    let incoming = w.spool.join("incoming");
    w.drop_job("broken.toml", "organization = \"x\"\nips = [");
    w.drop_job("junk.json", "\u{0}\u{1}binary");
    w.drop_job("outside.toml", &job_toml("Outside", &["8.8.8.8"]));
    w.drop_job("private.toml", &job_toml("Private", &["10.0.0.1"]));
    w.drop_job(
        "reversed.toml",
        &job_toml("Rev", &["64.39.106.9-64.39.106.1"]),
    );
    w.drop_job(
        "unknown.toml",
        "organization = \"U\"\nips = [\"64.39.106.1\"]\ncolour = \"red\"\n",
    );
    w.drop_job("huge.toml", &"#".repeat(2 * 1024 * 1024));
    std::os::unix::fs::symlink("/etc/passwd", incoming.join("link.toml")).expect("symlink");
    let fifo = std::process::Command::new("mkfifo")
        .arg(incoming.join("pipe.toml"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    w.drop_job("ignored.txt", "not a job");
    w.drop_job("good.toml", &job_toml("Good Org", &["64.39.106.20"]));
    w.wait_for(Duration::from_secs(30), "the good job", all_finished(1))
        .await;
    let rejected = w.spool.join("rejected");
    let expect = [
        ("broken.toml", ""),
        ("junk.json", ""),
        ("outside.toml", "8.8.8.8"),
        ("private.toml", "10.0.0.1"),
        ("reversed.toml", "64.39.106.9"),
        ("unknown.toml", "colour"),
        ("huge.toml", "bytes"),
        ("link.toml", "symbolic link"),
        ("pipe.toml", "regular file"),
    ];
    for (name, needle) in expect {
        assert_rejected_reason(&rejected, name, needle);
        assert!(
            std::fs::symlink_metadata(rejected.join(name)).is_ok(),
            "{name} moved to rejected/"
        );
        assert!(std::fs::symlink_metadata(incoming.join(name)).is_err());
    }
    // A file of an unknown kind is refused like any bad file (issue 12 §3).
    assert_rejected_reason(&rejected, "ignored.txt", "unknown kind of file");
    assert!(!incoming.join("ignored.txt").exists());
    assert!(
        daemon.try_wait().expect("try_wait").is_none(),
        "the daemon is still up"
    );
    assert_eq!(w.statuses()[0]["state"], "done");
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_resets_the_first_wait_nor_polls_early() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(2);
    let mut w = World::new(sim).await;
    w.set_polling("5s", "1s", "500ms");
    let mut daemon = w.start_daemon();
    w.drop_job("wait.toml", &job_toml("Wait Org", &["64.39.106.90"]));
    w.wait_for(Duration::from_secs(20), "the scan to start", |s| {
        s.len() == 1 && s[0]["state"] == "scan_running"
    })
    .await;
    // Restart twice inside the first-check wait.
    for _ in 0..2 {
        sigterm(&daemon);
        assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
        daemon = w.start_daemon();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    w.wait_for(Duration::from_secs(30), "the job", all_finished(1))
        .await;
    sigterm(&daemon);
    wait_exit(&mut daemon, Duration::from_secs(10));
    let j = w.journal();
    let launch = applied(&j, LAUNCH_SCAN)[0].at;
    let first_poll = j
        .iter()
        .filter(|e| e.api == LIST_SCANS)
        .map(|e| e.at)
        .min()
        .expect("a poll");
    let waited = first_poll
        .duration_since(launch)
        .unwrap_or_default()
        .as_secs_f64();
    // Never before the first check (rounds only gather jobs that are already due).
    assert!(
        waited >= 4.95,
        "first poll {waited:.2}s after the launch, the first check is at 5s"
    );
    assert!(
        waited < 8.0,
        "the wait was reset by a restart: {waited:.2}s"
    );
    assert_eq!(w.statuses()[0]["state"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_active_jobs_bounds_the_jobs_in_flight() {
    let mut w = World::with_config(fast_sim(), "max_active_jobs = 2").await;
    let jobs = 5;
    w.drop_batch(jobs, "m", "Max", "64.39.109");
    w.run_until_finished(jobs, Duration::from_secs(60), "5 jobs")
        .await;
    let j = w.journal();
    // Each job is in flight from its IP add to its raw-results fetch.
    let mut spans = Vec::new();
    for n in 0..jobs {
        let ip = format!("64.39.109.{n}");
        let start = j
            .iter()
            .filter(|e| e.api == "/api/2.0/fo/asset/ip/?action=add")
            .find(|e| param(e, "ips") == Some(ip.as_str()))
            .expect("ip add")
            .at;
        let st = w
            .statuses()
            .into_iter()
            .find(|s| s["ips"] == ip.as_str())
            .expect("status");
        let scan_ref = st["scan_ref"].as_str().expect("scan ref").to_string();
        let end = j
            .iter()
            .filter(|e| e.api == "/api/2.0/fo/scan/?action=fetch")
            .find(|e| param(e, "scan_ref") == Some(scan_ref.as_str()))
            .expect("fetch")
            .at;
        spans.push((start, end));
    }
    for (s, _) in &spans {
        let overlapping = spans.iter().filter(|(a, b)| a <= s && s <= b).count();
        assert!(overlapping <= 2, "{overlapping} jobs in flight at once");
    }
}

/// Appends an `[alerts]` section whose command appends its arguments to `log`.
fn add_alert_command(w: &World, log: &std::path::Path) {
    add_alerts(w, log, None);
}

/// Appends an `[alerts]` section: the command appends its arguments to `log`; `webhook`
/// is the URL to POST to, if any.
fn add_alerts(w: &World, log: &std::path::Path, webhook: Option<&str>) {
    let mut text = read(&w.config);
    text.push_str(&format!(
        "\n[alerts]\nmin_severity = 3\ncommand = [\"/bin/sh\", \"-c\", \"echo \\\"$@\\\" >> {}\", \"alert\"]\ncommand_timeout = \"10s\"\n",
        log.display()
    ));
    if let Some(url) = webhook {
        text.push_str(&format!("webhook = \"{url}\"\n"));
    }
    std::fs::write(&w.config, text).expect("config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_is_posted_once_and_never_after_a_crash_mid_send() {
    // Normal run: one POST naming the job.
    let (url, bodies) = webhook_receiver(None).await;
    let mut w = World::new(fast_sim()).await;
    add_alerts(&w, &w.dir.path().join("alerts.log"), Some(&url));
    w.drop_job(
        "hook.toml",
        &job_toml("Hook Org", &["64.39.106.0-64.39.106.3"]),
    );
    w.run_until_finished(1, Duration::from_secs(30), "the job")
        .await;
    let st = &w.statuses()[0];
    let id = st["id"].as_str().expect("id");
    let sent = bodies.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body: serde_json::Value = serde_json::from_str(&sent[0]).expect("JSON body");
    assert_eq!(body["job_id"], id);
    assert_eq!(body["organization"], "Hook Org");
    assert_eq!(st["alert"]["webhook"]["status"], "ok", "{:#}", st["alert"]);

    // A crash after the intent: the POST may have happened, so it is not sent again.
    let (url, bodies) = webhook_receiver(None).await;
    let mut w = World::new(fast_sim()).await;
    add_alerts(&w, &w.dir.path().join("alerts.log"), Some(&url));
    w.drop_job(
        "hook.toml",
        &job_toml("Hook Org", &["64.39.106.0-64.39.106.3"]),
    );
    let mut crashing = w.start_daemon_with(&[("BASELINER_CRASH_AT", "webhook-after-intent")]);
    assert_eq!(wait_exit(&mut crashing, Duration::from_secs(30)), None);
    w.run_until_finished(1, Duration::from_secs(30), "the job")
        .await;
    assert!(bodies.lock().expect("lock").is_empty());
    let st = &w.statuses()[0];
    let status = st["alert"]["webhook"]["status"]
        .as_str()
        .unwrap_or_default();
    assert!(status.starts_with("unknown"), "{:#}", st["alert"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_around_the_alert_never_sends_it_twice() {
    for point in ["alert-after-intent", "alert-after-command"] {
        let mut w = World::new(fast_sim()).await;
        let log = w.dir.path().join("alerts.log");
        add_alert_command(&w, &log);
        w.drop_job(
            "alert.toml",
            &job_toml("Alert Org", &["64.39.106.0-64.39.106.3"]),
        );
        let mut crashing = w.start_daemon_with(&[("BASELINER_CRASH_AT", point)]);
        let code = wait_exit(&mut crashing, Duration::from_secs(30));
        assert_eq!(
            code,
            None,
            "{point}: the daemon aborted there\n{}",
            w.logs()
        );
        let mut daemon = w.start_daemon();
        w.wait_for(Duration::from_secs(30), "the job", all_finished(1))
            .await;
        sigterm(&daemon);
        wait_exit(&mut daemon, Duration::from_secs(10));
        let st = &w.statuses()[0];
        assert_eq!(st["state"], "done", "{point}: {st:#}");
        let sent = std::fs::read_to_string(&log).unwrap_or_default();
        let id = st["id"].as_str().expect("id");
        match point {
            // The intent was written but the command never ran: it is not run after the
            // restart either (it might have), and the status says so.
            "alert-after-intent" => {
                assert_eq!(sent.lines().count(), 0, "{point}: {sent}");
                let status = st["alert"]["status"].as_str().unwrap_or_default();
                assert!(status.contains("unknown"), "{point}: {:#}", st["alert"]);
            }
            _ => {
                assert_eq!(sent.lines().count(), 1, "{point}: {sent}");
                assert!(sent.starts_with(id), "{sent}");
                assert!(sent.trim_end().ends_with("summary.md"), "{sent}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_names_the_job_and_the_summary_once() {
    let mut w = World::new(fast_sim()).await;
    let log = w.dir.path().join("alerts.log");
    add_alert_command(&w, &log);
    w.drop_job(
        "a.toml",
        &job_toml("Alert Org", &["64.39.106.0-64.39.106.3"]),
    );
    w.run_until_finished(1, Duration::from_secs(30), "the job")
        .await;
    let st = &w.statuses()[0];
    let id = st["id"].as_str().expect("id");
    assert_eq!(st["alert"]["status"], "ok", "{st:#}");
    assert_eq!(st["alert"]["exit_code"], 0);
    let sent = read(&log);
    assert_eq!(sent.lines().count(), 1);
    let summary = w.job_dir(id).join("summary.md");
    assert_eq!(sent.trim_end(), format!("{id} {}", summary.display()));
    let md = read(&summary);
    assert!(md.contains("Alert Org"), "{md}");
    let csv = read(&w.job_dir(id).join("findings.csv"));
    let mut lines = csv.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("ip,")), "{csv}");
    assert!(lines.next().is_some(), "at least one finding: {csv}");
    assert!(w.job_dir(id).join("summary.html").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_past_max_download_fails_the_job_and_leaves_no_file() {
    let mut w = World::with_config(fast_sim(), "max_download = 100").await;
    w.drop_job("big.toml", &job_toml("Big Results", &["64.39.106.1"]));
    let code = w
        .run_until_finished(1, Duration::from_secs(30), "the job to finish")
        .await;
    assert_eq!(code, Some(0), "{}", w.logs());
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "failed", "{st:#}");
    let error = st["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("download cap of 100 bytes") && error.contains("[limits].max_download"),
        "{st:#}"
    );
    let dir = w.job_dir(st["id"].as_str().expect("id"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("job dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in &names {
        assert!(
            !name.starts_with("report.")
                && !name.starts_with("results.")
                && !name.ends_with(".part"),
            "{name} left in {names:?}"
        );
    }
}

/// True when every range lies inside the test config's scope, 64.39.96.0/20.
fn within_scope(ranges: &[(std::net::Ipv4Addr, std::net::Ipv4Addr)]) -> bool {
    let lo = u32::from(std::net::Ipv4Addr::new(64, 39, 96, 0));
    let hi = u32::from(std::net::Ipv4Addr::new(64, 39, 111, 255));
    ranges
        .iter()
        .all(|(a, b)| u32::from(*a) >= lo && u32::from(*b) <= hi)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_with_commas_quotes_and_ampersands_scan_only_their_own_group() {
    let mut w = World::new(fast_sim()).await;
    // Groups a comma-split title would name: `Victim` lies outside the scope.
    w.sim
        .add_group("Victim", "198.51.100.1-198.51.100.6")
        .expect("seed Victim");
    w.sim.add_group("Acme", "64.39.100.200").expect("seed Acme");
    let orgs = ["Acme, Inc.", "Victim,Acme", "O'Brien & \"Söhne\" Ærø, Ltd."];
    for (i, org) in orgs.iter().enumerate() {
        let ip = format!("64.39.100.{}", 1 + i);
        w.drop_job(&format!("org{i}.toml"), &job_toml(org, &[&ip]));
    }
    let code = w
        .run_until_finished(orgs.len(), Duration::from_secs(60), "the three jobs")
        .await;
    assert_eq!(code, Some(0));
    let scans = w.sim.scans();
    for st in w.statuses() {
        let id = st["id"].as_str().expect("id");
        let org = st["organization"].as_str().expect("organization");
        assert_eq!(st["state"], "done", "{org}: {st:#}\n{}", w.logs());
        let mine: Vec<_> = scans
            .iter()
            .filter(|s| s.title.ends_with(&format!(" [{id}]")))
            .collect();
        assert_eq!(mine.len(), 1, "{org}: exactly one scan, got {mine:?}");
        let scan = mine[0];
        assert_eq!(
            scan.group_titles,
            [org.to_string()],
            "{org}: its own group only"
        );
        let ip: std::net::Ipv4Addr = st["ips"].as_str().expect("ips").parse().expect("one ip");
        assert_eq!(scan.target, [(ip, ip)], "{org}: the job's address only");
        assert_eq!(st["scan_ref"], scan.reference.as_str());
    }
    assert_eq!(scans.len(), orgs.len(), "no other scan: {scans:?}");
    assert!(
        scans.iter().all(|s| within_scope(&s.target)),
        "a scan left the scope: {scans:?}"
    );
    let j = w.journal();
    assert!(
        applied(&j, LAUNCH_SCAN)
            .iter()
            .all(|e| param(e, "asset_groups").is_none()),
        "a title was sent where Qualys parses a list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preexisting_group_holding_addresses_outside_the_scope_is_never_scanned() {
    let mut w = World::new(fast_sim()).await;
    // Someone else put 203.0.113.5 into the group of the organization's title.
    w.sim
        .add_group("Preowned Org", "64.39.100.9, 203.0.113.5")
        .expect("seed the group");
    w.drop_job("pre.toml", &job_toml("Preowned Org", &["64.39.100.9"]));
    let code = w
        .run_until_finished(1, Duration::from_secs(30), "the job to fail")
        .await;
    assert_eq!(code, Some(0));
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "failed", "{st:#}");
    let error = st["error"].as_str().expect("error");
    assert!(
        error.contains("203.0.113.5") && error.contains("outside"),
        "the error names the outside address: {error}"
    );
    assert!(
        applied(&w.journal(), LAUNCH_SCAN).is_empty(),
        "no scan launched"
    );
    assert!(w.sim.scans().is_empty());
    assert!(
        w.logs().contains("203.0.113.5"),
        "the failure is in the journal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_logged_at_warning_with_qualys_code_and_text() {
    let mut w = World::new(fast_sim()).await;
    let job = format!(
        "{}option_title = \"No Such Profile\"\n",
        job_toml("Profile Org", &["64.39.100.20"])
    );
    w.drop_job("profile.toml", &job);
    let code = w
        .run_until_finished(1, Duration::from_secs(30), "the job to fail")
        .await;
    assert_eq!(code, Some(0));
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "failed", "{st:#}");
    let error = st["error"].as_str().expect("error");
    assert!(
        error.starts_with("CODE 1905 ") && error.contains("option_title"),
        "Qualys's CODE and text: {error}"
    );
    let logs = w.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains(" WARN ") && l.contains("-> failed: CODE 1905")),
        "a warning names the failure:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_job_keeps_its_last_scan_state() {
    let mut sim = fast_sim();
    sim.scan_running = Duration::from_secs(60);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("slow.toml", &job_toml("Slow Org", &["64.39.100.30"]));
    w.wait_for(Duration::from_secs(20), "the scan to be polled", |s| {
        s.len() == 1 && s[0]["scan_state"] == "Running"
    })
    .await;
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    std::fs::write(w.spool.join("cancel").join(&id), b"").expect("cancel request");
    w.wait_for(Duration::from_secs(20), "the cancel", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "canceled", "{st:#}");
    assert_eq!(
        st["scan_state"], "Canceled",
        "the scan state follows Qualys, which lists the scan Canceled: {st:#}"
    );
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_in_cancel_is_warned_about_once_not_every_second() {
    let mut w = World::new(fast_sim()).await;
    let cancel = w.spool.join("cancel");
    for i in 0..2000 {
        std::fs::create_dir_all(cancel.join(format!("junk{i:04}"))).expect("junk dir");
    }
    std::fs::write(cancel.join("not-an-id"), b"").expect("junk file");
    let mut daemon = w.start_daemon();
    wait_ready(&w, &daemon).await;
    // Several spool passes (one a second).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    // The whole log (`World::logs` keeps only its end).
    let logs = read(&w.dir.path().join("daemon-1.log"));
    let count = |needle: &str| logs.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count("ignoring cancel request"),
        2000,
        "each directory once"
    );
    assert_eq!(count("cancel request for a job that is not running"), 1);
    assert!(!cancel.join("not-an-id").exists(), "a junk file is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_targets_follow_the_template_type_read_once_per_run() {
    let mut w = World::new(fast_sim()).await;
    // 1: Auto (host-based), 4: Manual (scan-based), 5: an Auto Patch template, 99: none.
    // 64.39.100.45 answers nothing in the simulator (a No_Host scan).
    let jobs = [
        ("auto", "64.39.100.40-64.39.100.41", 1),
        ("manual", "64.39.100.42", 4),
        ("patch", "64.39.100.43", 5),
        ("unknown", "64.39.100.44", 99),
        ("nohost", "64.39.100.45", 1),
    ];
    for (name, ips, template) in jobs {
        let job = format!(
            "{}report_template_id = {template}\n",
            job_toml(&format!("Template {name}"), &[ips])
        );
        w.drop_job(&format!("{name}.toml"), &job);
    }
    let code = w
        .run_until_finished(jobs.len(), Duration::from_secs(60), "the jobs")
        .await;
    assert_eq!(code, Some(0));
    let by_org = |name: &str| {
        w.statuses()
            .into_iter()
            .find(|s| s["organization"] == format!("Template {name}"))
            .expect("the job's status")
    };
    let reports = w.sim.reports();
    let report_of = |st: &serde_json::Value| {
        let id = st["report_id"].as_u64().expect("report id");
        reports
            .iter()
            .find(|r| r.id == id)
            .expect("the report in the simulator")
            .clone()
    };
    let auto = by_org("auto");
    assert_eq!(auto["state"], "done", "{auto:#}");
    let r = report_of(&auto);
    assert_eq!(r.template_id, 1);
    assert!(r.scan_refs.is_empty(), "no report_refs on an Auto template");
    assert_eq!(
        r.hosts_list, "64.39.100.40-64.39.100.41",
        "exactly the job's addresses"
    );
    let manual = by_org("manual");
    assert_eq!(manual["state"], "done", "{manual:#}");
    let r = report_of(&manual);
    assert_eq!(
        r.scan_refs,
        [manual["scan_ref"].as_str().expect("scan").to_string()]
    );
    for (name, needle) in [
        ("patch", "report template 5"),
        ("unknown", "report template 99"),
    ] {
        let st = by_org(name);
        assert_eq!(st["state"], "failed", "{st:#}");
        let error = st["error"].as_str().expect("error");
        assert!(error.contains(needle), "{name}: {error}");
        // The pre-flight fails it before its scan.
        assert!(st["scan_ref"].is_null(), "{name}: no scan spent: {st:#}");
    }
    let nohost = by_org("nohost");
    assert_eq!(nohost["state"], "done", "{nohost:#}");
    assert!(nohost["report_id"].is_null(), "no report of nothing");
    assert!(
        nohost["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("No_Host")),
        "the reason is shown: {nohost:#}"
    );
    assert_eq!(reports.len(), 2, "{reports:?}");
    let lists = w
        .journal()
        .iter()
        .filter(|e| e.api.contains("report_template_list"))
        .count();
    // Once per run, and once more for the job naming a template the list lacked (it may
    // have been added since).
    assert_eq!(
        lists, 2,
        "the template list is read once per run, again for an unknown id"
    );
}

/// The job directory's temporary download files (`*.part`).
fn part_files(w: &World, id: &str) -> Vec<String> {
    std::fs::read_dir(w.job_dir(id))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".part"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_interrupts_a_trickling_download_and_leaves_no_part_file() {
    let mut w = World::new(fast_sim()).await;
    w.sim.set_faults(qualys_sim::Faults {
        seed: 3,
        p_trickle: 1.0,
        // Raw results of a few KiB: the first KiB (sniffed) in about 5 s, then the rest
        // into the `.part`, slowly.
        trickle_bytes_per_sec: 200,
        only_apis: vec!["/api/2.0/fo/scan/?action=fetch".to_string()],
        ..qualys_sim::Faults::default()
    });
    let mut daemon = w.start_daemon();
    w.drop_job("trickle.toml", &job_toml("Trickle Org", &["64.39.100.40"]));
    w.wait_for(Duration::from_secs(30), "the download to start", |s| {
        s.len() == 1 && s[0]["state"] == "downloading"
    })
    .await;
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    // Bytes are trickling into the temporary file.
    let t = std::time::Instant::now();
    while part_files(&w, &id).is_empty() && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !part_files(&w, &id).is_empty(),
        "the download is in progress"
    );
    std::fs::write(w.spool.join("cancel").join(&id), b"").expect("cancel request");
    w.wait_for(Duration::from_secs(10), "the cancel", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "canceled", "{st:#}");
    assert!(part_files(&w, &id).is_empty(), "no .part left");
    assert!(!w.job_dir(&id).join("results.json").exists());
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_interrupts_a_day_long_rate_wait() {
    let mut sim = fast_sim();
    // Two calls per API a day: the third scan poll waits for a day.
    sim.rate_limit = 2;
    sim.rate_window = Duration::from_secs(24 * 3600);
    sim.scan_running = Duration::from_secs(600);
    let mut w = World::new(sim).await;
    let mut daemon = w.start_daemon();
    w.drop_job("wait.toml", &job_toml("Waiting Org", &["64.39.100.41"]));
    let t = std::time::Instant::now();
    let polls = |w: &World| {
        w.journal()
            .iter()
            .filter(|e| e.api.contains("fo/scan/") && e.api.ends_with("action=list"))
            .count()
    };
    while polls(&w) < 2 && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(polls(&w) >= 2, "the scan was polled twice\n{}", w.logs());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let id = w.statuses()[0]["id"].as_str().expect("id").to_string();
    std::fs::write(w.spool.join("cancel").join(&id), b"").expect("cancel request");
    w.wait_for(Duration::from_secs(15), "the cancel", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "canceled", "{st:#}");
    let cancels = applied(&w.journal(), "/api/2.0/fo/scan/?action=cancel").len();
    assert_eq!(cancels, 1, "the scan is canceled in Qualys");
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_whose_title_only_contains_the_jobs_title_is_never_adopted() {
    let mut w = World::new(fast_sim()).await;
    // The victim's launch answers 500 (not applied): the job looks its scan up.
    w.sim.set_faults(qualys_sim::Faults {
        seed: 5,
        p_5xx: 1.0,
        only_apis: vec![LAUNCH_SCAN.to_string()],
        ..qualys_sim::Faults::default()
    });
    let mut daemon = w.start_daemon();
    let victim = format!(
        "{}scan_title = \"Baseline\"\n",
        job_toml("Victim Org", &["64.39.100.46"])
    );
    w.drop_job("victim.toml", &victim);
    let t = std::time::Instant::now();
    let sent_title = loop {
        let j = w.journal();
        if let Some(e) = j.iter().find(|e| e.api == LAUNCH_SCAN) {
            break param(e, "scan_title").expect("scan_title").to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no launch\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    w.sim.set_faults(qualys_sim::Faults::default());
    // Someone else launches scans whose titles carry the victim's exact title (and job
    // tag) as a prefix and as a suffix, on another group.
    let attacker_group = w
        .sim
        .add_group("Attacker Org", "64.39.100.47")
        .expect("attacker group");
    let mut cfg = baseliner_qualys::ClientConfig::new(
        w.sim.url(),
        "demo",
        baseliner_qualys::Secret::new("demo"),
    );
    cfg.request_timeout = Duration::from_secs(10);
    let c = baseliner_qualys::Client::new(cfg).expect("client");
    let attacker_ip: std::net::Ipv4Addr = "64.39.100.47".parse().expect("ip");
    c.add_ips(
        &[(attacker_ip, attacker_ip)],
        baseliner_qualys::TrackingMethod::Ip,
    )
    .await
    .expect("attacker's address");
    let mut foreign = Vec::new();
    for title in [format!("{sent_title} (copy)"), format!("Not {sent_title}")] {
        let launched = c
            .launch_scan(&title, &[attacker_group], "New IPs option profile", None)
            .await
            .expect("foreign launch");
        foreign.push(launched.value.scan_ref);
    }
    w.wait_for(Duration::from_secs(40), "the victim's job", all_finished(1))
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "done", "{st:#}\n{}", w.logs());
    let scan_ref = st["scan_ref"].as_str().expect("scan_ref");
    assert!(
        !foreign.iter().any(|f| f == scan_ref),
        "the job adopted a foreign scan {scan_ref}"
    );
    let own = w
        .sim
        .scans()
        .into_iter()
        .find(|s| s.reference == scan_ref)
        .expect("the job's scan");
    assert_eq!(
        own.title, sent_title,
        "the job's scan has exactly its title"
    );
    assert_eq!(own.group_titles, ["Victim Org".to_string()]);
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

/// Starts the daemon of `w` with one job and waits until `daemon.json` says it is paused;
/// returns the pause reason.
async fn pause_reason(w: &mut World) -> String {
    let mut daemon = w.start_daemon();
    w.drop_job("paused.toml", &job_toml("Paused Org", &["64.39.100.48"]));
    let path = w.spool.join("daemon.json");
    let t = std::time::Instant::now();
    let reason = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(r) = v["paused"]["reason"].as_str() {
                break r.to_string();
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no pause\n{}",
            w.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Paused, not failed: the job waits.
    let st = &w.statuses()[0];
    assert!(
        !["failed", "done"].contains(&st["state"].as_str().unwrap_or("")),
        "{st:#}"
    );
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
    reason
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_codes_2002_2011_2012_pause_the_daemon() {
    for code in [2002, 2011, 2012] {
        let mut w = World::new(fast_sim()).await;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN><RESPONSE>\
             <DATETIME>2026-12-01T00:00:00Z</DATETIME><CODE>{code}</CODE>\
             <TEXT>account problem {code}</TEXT></RESPONSE></SIMPLE_RETURN>\n"
        );
        let url = crate::bad_input::raw_server(crate::bad_input::Answer::Body(body.into_bytes()));
        w.replace_config(
            &format!("url = \"{}\"", w.sim.url()),
            &format!("url = \"{url}\""),
        );
        let reason = pause_reason(&mut w).await;
        assert!(reason.contains(&code.to_string()), "{code}: {reason}");
    }
}
