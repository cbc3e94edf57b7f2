//! Findings pipeline benchmark: generates a raw-results JSON file of `BENCH_RESULTS_BYTES`
//! bytes (default 1 GiB) in the json_extended shape (metadata, records with one `Ig` in
//! 20, a host-coverage object, the scanner-distribution trailer) in a temporary spool,
//! runs the action items on it (streamed parse, sort, findings.csv with the long texts
//! read back, information.csv, coverage.csv, summary.md, summary.html) and prints the
//! throughput and the process's peak resident memory (VmHWM). With `BENCH_BASELINE=1` the
//! same file is then processed as a second job of the organization, so the baseline delta
//! and the `change` column are included. Run with `cargo bench -p baseliner --bench findings`.

use baseliner::actions;
use baseliner::spool::Spool;
use baseliner_core::config::AlertsConfig;
use baseliner_core::ip::IpSet;
use baseliner_core::job::{Job, ReportFormat, Results, TrackingMethod};
use baseliner_core::state::Checkpoint;
use baseliner_core::store::{JobId, JobRecord};
use baseliner_core::time::Timestamp;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const DEFAULT_BYTES: u64 = 1 << 30;
const ID: &str = "20240101-000000-000001";
const SECOND: &str = "20240102-000000-000002";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target: u64 = match std::env::var("BENCH_RESULTS_BYTES") {
        Ok(v) => v.trim().parse()?,
        Err(_) => DEFAULT_BYTES,
    };
    let tmp = tempfile::tempdir()?;
    let spool = Spool::new(tmp.path());
    let dir = spool.job_dir(ID);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("results.json");
    let t0 = Instant::now();
    let (bytes, findings) = generate(&path, target)?;
    let gen_time = t0.elapsed();
    println!(
        "generated {} ({} findings) in {:.1}s; peak RSS so far {} KiB",
        human(bytes),
        findings,
        gen_time.as_secs_f64(),
        peak_rss_kib().unwrap_or(0)
    );
    let rec = record(ID)?;
    let alerts = AlertsConfig {
        min_severity: 5,
        command: None,
        webhook: None,
        webhook_format: Default::default(),
        command_timeout: Duration::from_secs(1),
    };
    let t1 = Instant::now();
    let done = actions::run(&spool, &rec, None, &alerts, &Default::default())?;
    let secs = t1.elapsed().as_secs_f64();
    let csv = std::fs::metadata(dir.join("findings.csv"))?.len();
    println!(
        "processed {} findings (parse + sort + findings.csv {} + summaries) in {:.1}s: {:.1} MB/s",
        done.findings,
        human(csv),
        secs,
        bytes as f64 / 1e6 / secs
    );
    println!("peak RSS (VmHWM): {} KiB", peak_rss_kib().unwrap_or(0));
    if std::env::var_os("BENCH_BASELINE").is_some() {
        // The first job becomes the organization's baseline.
        std::fs::write(
            spool.status_file(ID),
            format!(
                r#"{{"id":"{ID}","organization":"Bench","state":"done","scan_ref":null,"scan_state":null,"report_id":null,"error":null,"last_error":null,"updated_at":"","accepted_at":"","next_action_at":null,"ips":"","source":"","history":[],"outputs":[]}}"#
            ),
        )?;
        let second = spool.job_dir(SECOND);
        std::fs::create_dir_all(&second)?;
        std::fs::rename(&path, second.join("results.json"))?;
        let t2 = Instant::now();
        let done = actions::run(
            &spool,
            &record(SECOND)?,
            Some(ID),
            &alerts,
            &Default::default(),
        )?;
        let secs = t2.elapsed().as_secs_f64();
        println!(
            "second job, against the first as baseline: {} findings in {:.1}s: {:.1} MB/s",
            done.findings,
            secs,
            bytes as f64 / 1e6 / secs
        );
        println!("peak RSS (VmHWM): {} KiB", peak_rss_kib().unwrap_or(0));
    }
    Ok(())
}

/// Writes a results file of about `target` bytes; returns its size and finding count.
fn generate(path: &Path, target: u64) -> std::io::Result<(u64, u64)> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let head = concat!(
        r#"[{"username":"bench","company":"Bench","result_date":"01/01/2024 00:00:00"},"#,
        "\n",
        r#"{"launch_date":"01/01/2024 00:00:00","active_hosts":"65536","total_hosts":"65536","type":"API","status":"Finished","reference":"scan/1704067200.00001","duration":"05:00:00","scan_title":"Bench","ips":"10.0.0.0-10.0.255.255","excluded_ips":""},"#,
        "\n"
    );
    w.write_all(head.as_bytes())?;
    let mut written = head.len() as u64;
    let threat =
        "The service answers in a way that reveals details an attacker can use. ".repeat(8);
    let solution = "Apply the vendor's update or restrict access to the service. ".repeat(6);
    let mut n: u64 = 0;
    let tail = "{\"hosts_not_scanned_host_not_alive_ip\":\"10.0.255.254-10.0.255.255\"},\n{\"target_distribution_across_scanner_appliances\":\"External : 10.0.0.0-10.0.255.255\"}\n]\n";
    while written + (tail.len() as u64) < target {
        // A pseudo-random but deterministic spread of hosts, QIDs and severities.
        let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let ip = format!("10.0.{}.{}", (h >> 8) & 0xff, h & 0xff);
        let qid = 10_000 + (h % 400);
        let sev = 1 + (h / 7) % 5;
        let port = [0u64, 22, 25, 80, 443, 3389][(h % 6) as usize];
        let kind = if n.is_multiple_of(20) { "Ig" } else { "Vuln" };
        let line = format!(
            "{{\"ip\":\"{ip}\",\"dns\":\"host-{hh}.bench.example\",\"netbios\":\"\",\"os\":\"Linux 5.x\",\"ip_status\":\"host scanned, found vuln\",\"qid\":\"{qid}\",\"title\":\"Benchmark vulnerability number {qid}\",\"type\":\"{kind}\",\"severity\":\"{sev}\",\"port\":\"{p}\",\"protocol\":\"tcp\",\"fqdn\":\"\",\"ssl\":\"no\",\"cve_id\":\"CVE-2024-{qid}\",\"cvss_base\":\"5.0\",\"cvss3_base\":\"6.1\",\"pci_vuln\":\"no\",\"threat\":\"{threat}\",\"impact\":\"An attacker may learn about the host.\",\"solution\":\"{solution}\",\"results\":\"Observed banner {n}\"}},\n",
            hh = h & 0xffff,
            p = if port == 0 { String::new() } else { port.to_string() },
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
        n += 1;
    }
    w.write_all(tail.as_bytes())?;
    written += tail.len() as u64;
    w.flush()?;
    Ok((written, n))
}

/// Job `id` for the whole generated range.
fn record(id: &str) -> Result<JobRecord, Box<dyn std::error::Error>> {
    Ok(JobRecord {
        id: JobId::parse(id).ok_or("bad job id")?,
        intake_key: "bench".into(),
        source_name: "bench.toml".into(),
        accepted_at: Timestamp(0),
        job: Job {
            organization: "Bench".into(),
            ips: IpSet::parse_entries(&["10.0.0.0/16"])?,
            option_title: "Bench".into(),
            scan_title: "Bench".into(),
            comments: String::new(),
            report_template_id: None,
            report_format: ReportFormat::Pdf,
            results: Results {
                report: false,
                raw: true,
            },
            scanner_appliance: None,
            tracking_method: TrackingMethod::Ip,
        },
        checkpoint: Checkpoint::accepted(Timestamp(0)),
        generation: 0,
        held: false,
        retried_as: None,
    })
}

/// The process's peak resident set size, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Bytes in MiB/GiB.
fn human(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    }
}
