//! Action items end to end: the real daemon against the simulator, then the files a team
//! acts on — `coverage.csv` and the coverage line, `findings.csv` with its `change` column
//! across two jobs of one organization, an honest summary for a PDF-only job (and the
//! `submit` warning), the Slack and Teams webhook messages posted to a loopback receiver
//! (with their markup escaped), and `summary.html` rendered by a real headless chromium:
//! what to do first before the scan's details, a legend on every chart, the full width.

use crate::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// Reads a CSV written by baseliner (RFC 4180, CRLF, quoted fields may hold newlines):
/// the header and the records.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut records: Vec<Vec<String>> = Vec::new();
    let (mut rec, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut rec));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        rec.is_empty() && field.is_empty(),
        "{path:?} ends mid-record"
    );
    let header = records.remove(0);
    (header, records)
}

/// The addresses of one list entry (`a` or `a-b`), as text.
fn expand(entry: &str) -> Vec<String> {
    let ip = |s: &str| u32::from(s.trim().parse::<std::net::Ipv4Addr>().expect("an address"));
    let (a, b) = entry.split_once('-').unwrap_or((entry, entry));
    (ip(a)..=ip(b))
        .map(|n| std::net::Ipv4Addr::from(n).to_string())
        .collect()
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The simulator's scan-based ("Manual") template: the report is launched with the scan's
/// reference whatever the daemon's template handling.
const MANUAL_TEMPLATE: &str = "report_template_id = 4\n";

/// Runs one job of `org` for `ips` (with extra job lines) to the end; returns its id.
async fn run_job(w: &mut World, name: &str, org: &str, ips: &[&str], extra: &str) -> String {
    let before = w.statuses().len();
    w.drop_job(
        name,
        &format!("{}{MANUAL_TEMPLATE}{extra}", job_toml(org, ips)),
    );
    w.run_until_finished(before + 1, Duration::from_secs(60), name)
        .await;
    let st = w.statuses();
    let last = st.last().expect("a job");
    assert_eq!(last["state"], "done", "{last:#}\n{}", w.logs());
    last["id"].as_str().expect("id").to_owned()
}

fn add_webhook(w: &World, url: &str, format: &str) {
    let mut text = read(&w.config);
    text.push_str(&format!(
        "\n[alerts]\nmin_severity = 1\nwebhook = \"{url}\"\nwebhook_format = \"{format}\"\n"
    ));
    std::fs::write(&w.config, text).expect("config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_accounts_for_every_requested_address_and_html_renders() {
    let excluded: std::net::Ipv4Addr = "64.39.106.9".parse().expect("ip");
    let sim = qualys_sim::SimConfig {
        excluded_ips: vec![(excluded, excluded)],
        ..fast_sim()
    };
    let mut w = World::new(sim).await;
    let id = run_job(
        &mut w,
        "cov.toml",
        "Coverage Org",
        &["64.39.106.0-64.39.106.15"],
        "",
    )
    .await;
    let dir = w.job_dir(&id);

    // What the raw results say, read independently of baseliner's parser.
    let results: Vec<Value> =
        serde_json::from_str(&read(&dir.join("results.json"))).expect("results JSON");
    let mut per_ip: BTreeMap<String, u64> = BTreeMap::new();
    for r in results.iter().filter(|r| r.get("qid").is_some()) {
        if r["type"] != "Ig" {
            *per_ip
                .entry(r["ip"].as_str().expect("ip").to_owned())
                .or_default() += 1;
        }
    }
    let not_alive: BTreeSet<String> = results
        .iter()
        .filter_map(|r| r.get("hosts_not_scanned_host_not_alive_ip"))
        .filter_map(Value::as_str)
        .flat_map(|s| s.split(',').flat_map(expand))
        .collect();

    let (header, rows) = csv(&dir.join("coverage.csv"));
    assert_eq!(header, ["ip", "status", "findings", "max_severity", "note"]);
    assert_eq!(rows.len(), 16, "one row per requested address: {rows:?}");
    let (mut scanned, mut no_response) = (0, 0);
    assert!(
        !not_alive.is_empty(),
        "the simulator lists the hosts that did not answer"
    );
    for (n, r) in rows.iter().enumerate() {
        assert_eq!(r[0], format!("64.39.106.{n}"));
        if r[0] == excluded.to_string() {
            assert_eq!(r[1], "excluded", "{r:?}");
            continue;
        }
        match per_ip.get(&r[0]) {
            Some(&count) => {
                assert_eq!(r[1], "scanned", "{r:?}");
                assert_eq!(r[2], count.to_string(), "{r:?}");
                assert!(!r[3].is_empty(), "{r:?}");
                scanned += 1;
            }
            None => {
                assert_eq!(r[1], "no_response", "a host without records: {r:?}");
                assert!(not_alive.contains(&r[0]), "{r:?} vs {not_alive:?}");
                no_response += 1;
            }
        }
    }
    assert!(
        scanned > 0 && no_response > 0,
        "the simulator has dead hosts in a /28"
    );
    let line = format!(
        "16 requested · {scanned} scanned · {no_response} no response · 1 excluded · 0 not scanned"
    );
    let md = read(&dir.join("summary.md"));
    assert!(
        md.starts_with("# Vulnerability baseline: Coverage Org\n\n## What to do first\n\n- "),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "\n\n**Coverage:** {line}\n\nNot covered:\n\n- no_response: "
        )),
        "{md}"
    );
    // "scanned" is one set everywhere: the scan's target has its own words.
    assert!(!md.contains("Scanned:"), "{md}");
    assert!(
        md.contains("- In the scan target: 16 addresses (64.39.106.0-64.39.106.15)\n"),
        "{md}"
    );
    let html = read(&dir.join("summary.html"));
    assert!(html.contains(&line), "{html}");

    // One name per severity level, in both summaries (Qualys's names).
    for text in [&md, &html] {
        assert!(!text.contains("minor"), "{text}");
        for (sev, name) in [
            (5, "urgent"),
            (4, "critical"),
            (3, "serious"),
            (2, "medium"),
            (1, "minimal"),
        ] {
            let others = ["urgent", "critical", "serious", "medium", "minimal"]
                .into_iter()
                .filter(|n| *n != name);
            for other in others {
                assert!(
                    !text.contains(&format!("{sev} ({other})"))
                        && !text.contains(&format!("{other} (severity {sev})")),
                    "severity {sev} is {name}, not {other}"
                );
            }
        }
    }

    // findings.csv has the ticket columns filled from the extended records.
    let (fh, findings) = csv(&dir.join("findings.csv"));
    assert_eq!(
        findings.len() as u64,
        per_ip.values().sum::<u64>(),
        "Ig records are not findings"
    );
    for name in [
        "solution",
        "threat",
        "impact",
        "result",
        "due",
        "cvss_base",
        "pci_vuln",
    ] {
        let c = col(&fh, name);
        assert!(
            findings.iter().any(|r| !r[c].is_empty()),
            "column {name} is empty everywhere"
        );
    }
    let change = col(&fh, "change");
    assert!(
        findings.iter().all(|r| r[change].is_empty()),
        "no baseline yet"
    );
    let (sev, due) = (col(&fh, "severity"), col(&fh, "due"));
    for r in &findings {
        let expect_due = matches!(r[sev].as_str(), "3" | "4" | "5");
        assert_eq!(!r[due].is_empty(), expect_due, "{r:?}");
    }

    render_in_chromium(&dir.join("summary.html"), &line);
}

/// Opens `page` in headless Debian chromium at 1280 px: the screenshot must not be blank,
/// and the DOM must hold `needle` and the layout's facts — what to do first before the
/// coverage and before the scan's details, a legend in every chart, no width cap, names
/// and addresses kept on one line. Skipped, loudly, only when chromium cannot run at all.
/// With `BASELINER_SCREENSHOT` set, the screenshot is also copied there (to look at it).
fn render_in_chromium(page: &Path, needle: &str) {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        eprintln!("\n!!!!! SKIPPED: summary.html rendering: no chromium (apt-get install -y chromium) !!!!!\n");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let shot = tmp.path().join("shot.png");
    let base = |extra: &[String]| {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ])
            .arg(format!(
                "--user-data-dir={}",
                tmp.path().join("profile").display()
            ))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .stdin(std::process::Stdio::null())
            .output()
    };
    let dom = match base(&["--dump-dom".to_owned()]) {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        other => {
            eprintln!(
                "\n!!!!! SKIPPED: summary.html rendering: chromium cannot run: {other:?} !!!!!\n"
            );
            return;
        }
    };
    assert!(dom.contains(needle), "the DOM lacks {needle:?}: {dom}");
    assert!(dom.contains("<svg"), "{dom}");
    let at = |needle: &str| {
        dom.find(needle)
            .unwrap_or_else(|| panic!("the DOM lacks {needle:?}: {dom}"))
    };
    assert!(
        at("<section id=\"todo\">") < at("<section id=\"coverage\">"),
        "what to do first comes first"
    );
    assert!(
        at("<section id=\"todo\">") < at("<h1>") + 200,
        "right under the title"
    );
    assert!(
        at("<section id=\"todo\">") < at("<section id=\"details\">"),
        "the to-do list before the scan metadata"
    );
    assert!(at("<li><b>Job</b>") > at("<section id=\"details\">"));
    let charts = dom.matches("<svg").count();
    assert!(charts >= 3, "coverage, severities, hosts: {charts}");
    for (n, chart) in dom.split("<svg").skip(1).enumerate() {
        let chart = &chart[..chart.find("</svg>").expect("a closed chart")];
        assert!(
            chart.contains("<g class=\"legend\"") && chart.matches("<rect").count() > 1,
            "chart {n} has no legend: {chart}"
        );
    }
    assert!(!dom.contains("max-width"), "the page is not capped");
    assert!(!dom.contains("60em"), "the page is not capped");
    assert!(dom.contains(".nw{white-space:nowrap}"), "{dom}");
    assert!(
        dom.contains("<td class=\"nw\">host-"),
        "DNS names on one line: {dom}"
    );
    let out = base(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=1280,2000".to_owned(),
    ])
    .expect("chromium runs");
    assert!(out.status.success(), "{out:?}");
    assert!(png_has_several_colours(&shot), "the screenshot is blank");
    if let Some(keep) = std::env::var_os("BASELINER_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copy the screenshot");
    }
}

/// True when the PNG at `path` has pixels of more than one colour (decoded by python3's
/// zlib: the workspace has no inflate crate, and CI installs python3).
fn png_has_several_colours(path: &Path) -> bool {
    const SCRIPT: &str = r#"
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, ihdr = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
    if kind == b'IDAT': idat += body
    pos += 12 + n
w, h, depth, ctype = ihdr[:4]
assert depth == 8 and ctype in (2, 6), ihdr
bpp = 3 if ctype == 2 else 4
raw, stride, prev, colours = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 7): colours.add(bytes(line[x:x + 3]))
    prev = line
print(len(colours))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .expect("python3 runs (CI installs it)");
    assert!(out.status.success(), "{out:?}");
    let n: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count");
    n > 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_column_across_two_jobs_of_one_organization() {
    let mut w = World::new(fast_sim()).await;
    let ips = ["64.39.106.1-64.39.106.4"];
    let first = run_job(&mut w, "a.toml", "Twice Org", &ips, "").await;
    let (h1, rows1) = csv(&w.job_dir(&first).join("findings.csv"));
    assert!(!rows1.is_empty());
    assert!(rows1.iter().all(|r| r[col(&h1, "change")].is_empty()));
    // The second job scans one more address: its findings are new, the rest unchanged.
    let second = run_job(
        &mut w,
        "b.toml",
        "Twice Org",
        &["64.39.106.1-64.39.106.6"],
        "",
    )
    .await;
    let (h2, rows2) = csv(&w.job_dir(&second).join("findings.csv"));
    let (ip, change) = (col(&h2, "ip"), col(&h2, "change"));
    let old: BTreeSet<&str> = ["64.39.106.1", "64.39.106.2", "64.39.106.3", "64.39.106.4"].into();
    for r in &rows2 {
        let expected = if old.contains(r[ip].as_str()) {
            "unchanged"
        } else {
            "new"
        };
        assert_eq!(r[change], expected, "{r:?}");
    }
    assert_eq!(
        rows2.iter().filter(|r| r[change] == "unchanged").count(),
        rows1.len()
    );
    let md = read(&w.job_dir(&second).join("summary.md"));
    assert!(
        md.contains(&format!("## Since the baseline (job `{first}`)")),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_only_job_says_its_findings_are_unknown_and_submit_warns() {
    let mut w = World::new(fast_sim()).await;
    let job = w.dir.path().join("pdf.toml");
    std::fs::write(
        &job,
        format!(
            "{}{MANUAL_TEMPLATE}results = [\"report\"]\nreport_format = \"pdf\"\n",
            job_toml("Pdf Org", &["64.39.106.1-64.39.106.2"])
        ),
    )
    .expect("job");
    std::fs::create_dir_all(w.spool.join("incoming")).expect("incoming");
    let out = w.cli(&["submit", &job.to_string_lossy()]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:") && err.contains("cannot alert"),
        "{err}"
    );
    w.run_until_finished(1, Duration::from_secs(60), "the PDF job")
        .await;
    let st = &w.statuses()[0];
    assert_eq!(st["state"], "done", "{st:#}");
    let dir = w.job_dir(st["id"].as_str().expect("id"));
    assert!(dir.join("report.pdf").is_file());
    assert!(!dir.join("findings.csv").exists());
    let md = read(&dir.join("summary.md"));
    assert!(
        md.contains("The findings are unknown: the job asked only for a pdf report"),
        "{md}"
    );
    assert!(!md.contains("| 5 (urgent)"), "no table of zeros: {md}");
    assert!(!md.contains("alert threshold"), "{md}");
    assert!(
        md.contains(
            "2 requested · 0 scanned · 0 no response · 0 excluded · 0 not scanned · 2 unknown"
        ),
        "{md}"
    );
    let (_, rows) = csv(&dir.join("coverage.csv"));
    assert!(rows.iter().all(|r| r[1] == "unknown"), "{rows:?}");
    assert!(
        !dir.join("alert.json").exists(),
        "no alert without findings"
    );

    // A job with raw results draws no warning.
    let ok = w.dir.path().join("raw.toml");
    std::fs::write(&ok, job_toml("Raw Org", &["64.39.106.3"])).expect("job");
    let out = w.cli(&["submit", &ok.to_string_lossy()]);
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_and_teams_messages_have_their_documented_shapes() {
    for format in ["slack", "teams"] {
        let (url, bodies) = webhook_receiver(None).await;
        let mut w = World::new(fast_sim()).await;
        add_webhook(&w, &url, format);
        let id = run_job(
            &mut w,
            "hook.toml",
            "Msg <Org> **bold** _it_ ~~gone~~ `x` #1",
            &["64.39.106.0-64.39.106.7"],
            "",
        )
        .await;
        let sent = bodies.lock().expect("lock").clone();
        assert_eq!(sent.len(), 1, "{format}: one POST: {sent:?}");
        let v: Value = serde_json::from_str(&sent[0]).expect("JSON body");
        let html = w.job_dir(&id).join("summary.html");
        let cov = read(&w.job_dir(&id).join("summary.md"));
        let line = cov
            .lines()
            .find_map(|l| l.strip_prefix("**Coverage:** "))
            .expect("coverage line")
            .to_owned();
        let all = v.to_string();
        assert!(
            all.contains(&line),
            "{format}: coverage line {line:?} in {all}"
        );
        let path = html.display().to_string();
        match format {
            // Teams's Markdown: every special character escaped with a backslash.
            "teams" => assert!(all.contains(&teams_escaped(&path)), "{format}: {all}"),
            _ => assert!(all.contains(&path), "{format}: {all}"),
        }
        match format {
            "slack" => {
                let text = v["text"].as_str().expect("text is a string");
                assert!(
                    text.starts_with("Msg &lt;Org&gt; ∗∗bold∗∗ ＿it＿ ∼∼gone∼∼ ˋxˋ #1: "),
                    "{text}"
                );
                let blocks = v["blocks"].as_array().expect("blocks is an array");
                assert!(!blocks.is_empty() && blocks.len() <= 50);
                assert_eq!(blocks[0]["type"], "header");
                assert_eq!(blocks[0]["text"]["type"], "plain_text");
                for b in blocks {
                    match b["type"].as_str().expect("block type") {
                        "header" => {
                            assert!(b["text"]["text"].as_str().expect("s").chars().count() <= 150)
                        }
                        "section" => {
                            if let Some(t) = b.get("text") {
                                assert_eq!(t["type"], "mrkdwn");
                                assert_eq!(t["verbatim"], true, "no automatic links");
                                assert!(t["text"].as_str().expect("s").chars().count() <= 3000);
                            }
                            if let Some(f) = b.get("fields") {
                                let f = f.as_array().expect("fields");
                                assert!(f.len() <= 10);
                                assert!(f
                                    .iter()
                                    .all(|x| x["type"] == "mrkdwn" && x["text"].is_string()));
                            }
                        }
                        "context" => assert!(b["elements"].is_array()),
                        other => panic!("unexpected block {other}"),
                    }
                }
                assert!(all.contains("QID"), "worst findings named: {all}");
            }
            _ => {
                assert_eq!(v["type"], "message");
                let att = v["attachments"].as_array().expect("attachments");
                assert_eq!(att.len(), 1);
                assert_eq!(
                    att[0]["contentType"],
                    "application/vnd.microsoft.card.adaptive"
                );
                let card = &att[0]["content"];
                assert_eq!(card["type"], "AdaptiveCard");
                assert!(card["version"].is_string());
                assert!(card["$schema"]
                    .as_str()
                    .is_some_and(|s| s.contains("adaptive-card")));
                let body = card["body"].as_array().expect("body");
                for el in body {
                    match el["type"].as_str().expect("element type") {
                        "TextBlock" => assert!(el["text"].is_string()),
                        "FactSet" => assert!(el["facts"]
                            .as_array()
                            .expect("facts")
                            .iter()
                            .all(|f| f["title"].is_string() && f["value"].is_string())),
                        other => panic!("unexpected element {other}"),
                    }
                }
                assert_eq!(
                    body[0]["text"],
                    "Vulnerability baseline: Msg \\<Org\\> \\*\\*bold\\*\\* \\_it\\_ \\~\\~gone\\~\\~ \\`x\\` \\#1"
                );
                let qids = all.matches("QID ").count();
                assert!((1..=5).contains(&qids), "at most the worst five: {all}");
            }
        }
        let st = &w.statuses()[0];
        assert_eq!(st["alert"]["webhook"]["status"], "ok", "{:#}", st["alert"]);
    }
}

/// `text` as the Teams messages write it: every Markdown special character after a
/// backslash (written here independently of baseliner's escaper).
fn teams_escaped(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\*_~[]()#+-.!|><`&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    // As it appears inside the JSON body: a backslash is written twice.
    out.replace('\\', "\\\\")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_fires_from_the_raw_results_at_min_severity() {
    let mut fired = 0;
    for min in [4u64, 5] {
        let (url, bodies) = webhook_receiver(None).await;
        let mut w = World::new(fast_sim()).await;
        let mut text = read(&w.config);
        text.push_str(&format!(
            "\n[alerts]\nmin_severity = {min}\nwebhook = \"{url}\"\n"
        ));
        std::fs::write(&w.config, text).expect("config");
        let id = run_job(
            &mut w,
            "sev.toml",
            "Sev Org",
            &["64.39.106.0-64.39.106.7"],
            "",
        )
        .await;
        let dir = w.job_dir(&id);
        // The expected count, from the raw results as Qualys's extended records give it.
        let results: Vec<Value> =
            serde_json::from_str(&read(&dir.join("results.json"))).expect("results JSON");
        let due = results
            .iter()
            .filter(|r| r.get("qid").is_some() && r["type"] != "Ig")
            .filter(|r| {
                r["severity"]
                    .as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s >= min)
            })
            .count();
        let sent = bodies.lock().expect("lock").clone();
        if due == 0 {
            assert!(sent.is_empty(), "min {min}: nothing reaches it: {sent:?}");
            assert!(!dir.join("alert.json").exists());
            continue;
        }
        assert_eq!(sent.len(), 1, "min {min}: {sent:?}");
        let body: Value = serde_json::from_str(&sent[0]).expect("JSON");
        assert_eq!(
            body["reason"],
            format!("{due} finding(s) at or above severity {min}"),
            "{body:#}"
        );
        assert_eq!(body["job_id"], id.as_str());
        fired += 1;
    }
    assert!(
        fired > 0,
        "the simulator's hosts have findings of severity 4 or more"
    );
}
