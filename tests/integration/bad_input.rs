//! Bad input beyond daemon.rs's bad-files test. Spool side, against the running daemon:
//! control characters in names, 65,537 addresses, overlapping entries (merged and
//! accepted), organization names at and past the limit, a 10 MB file, duplicate drops —
//! and the daemon stays up. Server side: malformed XML, truncated bodies, wrong roots,
//! empty and huge documents, served by a tiny raw HTTP server on 127.0.0.1 (the simulator
//! only writes well-formed XML), each failing the call with a classified error.

use crate::support::*;
use baseliner_qualys::{ApiError, Client, ClientConfig, ErrorKind, Secret};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_spool_files_are_refused_or_merged_and_the_daemon_stays_up() {
    let mut w = World::new(fast_sim()).await;
    w.set_polling("200ms", "200ms", "200ms");
    let mut daemon = w.start_daemon();
    let rejected = w.spool.join("rejected");

    w.drop_job("bell\u{7}tab\t.toml", &job_toml("Ctl", &["64.39.106.30"]));
    w.drop_job(
        "many.toml",
        &job_toml("Many", &["64.39.0.0-64.39.255.255", "64.40.0.0"]),
    );
    let long_org = "O".repeat(255);
    let too_long_org = "O".repeat(256);
    w.drop_job("org256.toml", &job_toml(&too_long_org, &["64.39.106.31"]));
    // 10 MB of a syntactically valid job: a comment pads it.
    let mut big = job_toml("Big", &["64.39.106.32"]);
    big.push('#');
    big.push_str(&"x".repeat(10 * 1024 * 1024));
    w.drop_job("ten-mb.toml", &big);

    let overlap = job_toml(
        "Overlap",
        &[
            "64.39.106.40-64.39.106.50",
            "64.39.106.45",
            "64.39.106.48-64.39.106.60",
            "64.39.106.61",
        ],
    );
    w.drop_job("overlap.toml", &overlap);
    w.drop_job("org255.toml", &job_toml(&long_org, &["64.39.106.33"]));
    let dup = job_toml("Dup", &["64.39.106.70"]);
    w.drop_job("dup.toml", &dup);
    w.wait_for(Duration::from_secs(40), "the first jobs", all_finished(3))
        .await;
    // The same content under another name, then the same file again after its first drop
    // was taken: each is a new drop and a new job, reusing the organization's group.
    w.drop_job("dup-copy.toml", &dup);
    w.wait_for(Duration::from_secs(40), "the copy", all_finished(4))
        .await;
    w.drop_job("dup.toml", &dup);
    w.wait_for(
        Duration::from_secs(40),
        "the re-dropped job",
        all_finished(5),
    )
    .await;

    let expect = [
        ("bell_tab_.toml", "control characters"),
        ("many.toml", "65537"),
        ("org256.toml", "organization"),
        ("ten-mb.toml", "bytes"),
    ];
    for (name, needle) in expect {
        assert_rejected_reason(&rejected, name, needle);
        assert!(rejected.join(name).is_file(), "{name} is in rejected/");
    }
    let ten_mb = std::fs::metadata(rejected.join("ten-mb.toml")).expect("ten-mb.toml");
    assert_eq!(ten_mb.len(), big.len() as u64, "moved whole, not truncated");

    let statuses = w.statuses();
    let by_org = |org: &str| -> Vec<&serde_json::Value> {
        statuses
            .iter()
            .filter(|s| s["organization"] == org)
            .collect()
    };
    let ov = by_org("Overlap");
    assert_eq!(ov.len(), 1);
    assert_eq!(ov[0]["state"], "done", "{:#}", ov[0]);
    assert_eq!(ov[0]["ips"], "64.39.106.40-64.39.106.61", "merged ranges");
    let long = by_org(&long_org);
    assert_eq!(long.len(), 1);
    assert_eq!(long[0]["state"], "done", "{:#}", long[0]);
    let dups = by_org("Dup");
    assert_eq!(dups.len(), 3, "two names and one re-drop: three jobs");
    for d in &dups {
        assert_eq!(d["state"], "done", "{d:#}\n{}", w.logs());
    }
    assert_eq!(statuses.len(), 5);

    let j = w.journal();
    let group = |org: &str| {
        applied(&j, ADD_GROUP_API)
            .into_iter()
            .filter(|e| param(e, "title") == Some(org))
            .count()
    };
    assert_eq!(group("Dup"), 1, "the later Dup jobs reuse the group");
    assert_eq!(group(&long_org), 1);
    for st in &statuses {
        let id = st["id"].as_str().expect("id");
        let scans = applied_matching(&j, LAUNCH_SCAN_API, "scan_title", &format!(" [{id}]"));
        assert_eq!(scans, 1, "one scan launch for {id}");
        let report = applied(&j, LAUNCH_REPORT_API)
            .into_iter()
            .find(|e| param(e, "report_title").is_some_and(|t| t.ends_with(&format!(" [{id}]"))))
            .unwrap_or_else(|| panic!("report launch of {id}"));
        let title = param(report, "report_title").expect("report_title");
        assert!(title.chars().count() <= 128, "report title {title:?}");
    }
    assert!(
        w.incoming_candidates().is_empty(),
        "{:?}",
        w.incoming_candidates()
    );
    assert!(
        daemon.try_wait().expect("try_wait").is_none(),
        "the daemon is still up"
    );
    sigterm(&daemon);
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(0));
}

/// Two jobs for the same new organization dropped together: both must finish, sharing
/// one asset group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_jobs_for_one_new_organization_at_once_both_finish() {
    let mut w = World::new(fast_sim()).await;
    w.set_polling("200ms", "200ms", "200ms");
    let same = job_toml("Twin", &["64.39.106.80"]);
    w.drop_job("twin-a.toml", &same);
    w.drop_job("twin-b.toml", &same);
    let mut daemon = w.start_daemon();
    w.wait_for(Duration::from_secs(40), "both twins", all_finished(2))
        .await;
    sigterm(&daemon);
    wait_exit(&mut daemon, Duration::from_secs(10));
    for st in w.statuses() {
        assert_eq!(st["state"], "done", "{st:#}");
    }
    let j = w.journal();
    assert_eq!(applied(&j, ADD_GROUP_API).len(), 1, "one group for both");
}

/// What the raw server answers to every request.
#[derive(Clone)]
pub(crate) enum Answer {
    /// A complete response with this body.
    Body(Vec<u8>),
    /// Announces `len` bytes, sends `body` (shorter), closes.
    Truncated { len: usize, body: Vec<u8> },
    /// A valid-looking XML document of more than `mib` MiB, streamed.
    Huge { mib: usize },
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 answering every request with `answer`;
/// returns its base URL. It lives until the test process ends.
pub(crate) fn raw_server(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve_one(stream, &answer);
        }
    });
    url
}

fn serve_one(stream: TcpStream, answer: &Answer) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let mut out = stream;
    let head = |n: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml;charset=UTF-8\r\n\
             Content-Length: {n}\r\nConnection: close\r\n\r\n"
        )
    };
    match answer {
        Answer::Body(b) => {
            out.write_all(head(b.len()).as_bytes())?;
            out.write_all(b)?;
        }
        Answer::Truncated { len, body } => {
            out.write_all(head(*len).as_bytes())?;
            out.write_all(body)?;
        }
        Answer::Huge { mib } => {
            let open = b"<?xml version=\"1.0\"?>\n<SCAN_LIST_OUTPUT><RESPONSE><SCAN_LIST>";
            let item = b"<SCAN><REF>scan/1.1</REF><TITLE>x</TITLE></SCAN>\n";
            let chunk: Vec<u8> = item.repeat(1024 * 1024 / item.len());
            let n = mib + 1;
            out.write_all(head(open.len() + chunk.len() * n).as_bytes())?;
            out.write_all(open)?;
            for _ in 0..n {
                out.write_all(&chunk)?;
            }
        }
    }
    out.flush()
}

fn client_for(url: &str) -> Client {
    let mut cfg = ClientConfig::new(url, "demo", Secret::new("demo"));
    cfg.request_timeout = Duration::from_secs(20);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::new(cfg).expect("client for the raw server")
}

async fn list_error(answer: Answer) -> ApiError {
    let c = client_for(&raw_server(answer));
    match c.list_scans_by_ref(&["scan/1.1"]).await {
        Ok(r) => panic!("the call succeeded with {:?}", r.value),
        Err(e) => e,
    }
}

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_response_bodies_fail_the_call_with_a_classified_error() {
    let cases: Vec<(&str, Answer)> = vec![
        (
            "malformed",
            Answer::Body(
                format!("{DECL}<SCAN_LIST_OUTPUT><RESPONSE><SCAN_LIST><SCAN></RESPONSE>")
                    .into_bytes(),
            ),
        ),
        (
            "wrong root",
            Answer::Body(format!("{DECL}<ASSET_GROUP_LIST_OUTPUT/>").into_bytes()),
        ),
        (
            "html",
            Answer::Body(b"<html><body>Welcome</body></html>".to_vec()),
        ),
        ("empty", Answer::Body(Vec::new())),
        (
            "not utf-8",
            Answer::Body(b"<?xml version=\"1.0\"?><A>\xff\xfe</A>".to_vec()),
        ),
    ];
    for (what, answer) in cases {
        let e = list_error(answer).await;
        assert_eq!(e.kind, ErrorKind::Protocol, "{what}: {e}");
        assert!(
            e.api.contains("scan") && e.api.contains("action=list"),
            "{what}: the error names the API: {e}"
        );
    }

    let full = format!(
        "{DECL}<SCAN_LIST_OUTPUT><RESPONSE><SCAN_LIST></SCAN_LIST></RESPONSE></SCAN_LIST_OUTPUT>"
    );
    let e = list_error(Answer::Truncated {
        len: full.len(),
        body: full.as_bytes()[..full.len() / 2].to_vec(),
    })
    .await;
    assert!(
        matches!(e.kind, ErrorKind::Transient | ErrorKind::Protocol),
        "truncated body: {e}"
    );

    let e = list_error(Answer::Huge { mib: 64 }).await;
    assert_eq!(e.kind, ErrorKind::Protocol, "huge body: {e}");
    assert!(e.to_string().contains("larger than"), "huge body: {e}");

    // A launch whose answer is unreadable may or may not have happened: never a plain
    // failure that would invite a blind retry.
    let c = client_for(&raw_server(Answer::Body(
        format!("{DECL}<SIMPLE_RETURN><RESPONSE>").into_bytes(),
    )));
    let e = match c
        .launch_scan("t [X]", &[1], "New IPs option profile", None)
        .await
    {
        Ok(r) => panic!("launch succeeded with {:?}", r.value),
        Err(e) => e,
    };
    assert!(
        matches!(e.kind, ErrorKind::Ambiguous | ErrorKind::Protocol),
        "unreadable launch answer: {e}"
    );
}
