//! Raw scan results (`scan/?action=fetch`, qualys-api.md §6.4) as JSON or CSV, built from
//! the scan's TARGET and the deterministic findings. Every JSON value is a string.
//!
//! # Rules (§6.4)
//! - `mode` defaults to `brief`: each finding has `ip`, `dns`, `netbios`, `qid` and
//!   `results` only — no severity, title, type, port or CVE. `mode=extended` gives the full
//!   record: `ip, dns, netbios, os, ip_status, qid, title, type, severity, port, protocol,
//!   fqdn, ssl, cve_id, vendor_reference, bugtraq_id, cvss_base, threat, impact, solution,
//!   exploitability, associated_malware, results, pci_vuln, instance, category`, in that
//!   order. Another `mode` → 1905.
//! - `output_format` is `csv` (default), `json`, `csv_extended` or `json_extended`; another
//!   → 1905. The plain formats hold the findings only. The `*_extended` formats put two
//!   metadata objects first (the account's, then the scan's: `launch_date, active_hosts,
//!   total_hosts, type, status, reference, scanner_appliance, duration, scan_title,
//!   asset_groups, ips, excluded_ips, option_profile`), then the findings, then one
//!   host-coverage object per non-empty status (`hosts_not_scanned_host_not_alive_ip`: the
//!   scanned addresses that did not answer; `hosts_not_scanned_excluded_host_ip`: the
//!   addresses of TARGET the subscription excludes, [`crate::SimConfig::excluded_ips`]),
//!   and last `target_distribution_across_scanner_appliances`. The exact coverage keys are
//!   \[U\] in §6.4; these are the simulator's choice.
//! - Which scanned hosts answer is decided by the per-address hash of [`crate::findings`];
//!   `Ig` (e.g. QID 45038 "Host Scan Time") and `Potential Vuln` records are among the
//!   findings (§6.4 `type`).
//! - CSV has the same records: a header line of column titles, then one line per record;
//!   in `csv_extended` each metadata and trailing object is a header line and a value line.

use std::fmt::Write as _;

use crate::clock;
use crate::config::SimConfig;
use crate::findings::{self, Host, Vuln};
use crate::ips::IpSet;
use crate::model::Scan;

/// What a raw-results rendering reads.
pub(crate) struct RawCtx<'a> {
    /// The scan.
    pub scan: &'a Scan,
    /// Login of the caller.
    pub user: &'a str,
    /// Only these addresses, if given.
    pub filter: Option<&'a IpSet>,
    /// Config (for the duration).
    pub cfg: &'a SimConfig,
    /// `mode=extended`.
    pub extended_mode: bool,
    /// A `*_extended` output format.
    pub extended_format: bool,
    /// The scan's state: `Finished`, or `Canceled`, `Paused`, `Error` for partial results.
    pub state: &'a str,
}

/// One record: (JSON key, CSV column title, value), in output order.
type Record = Vec<(&'static str, &'static str, String)>;

/// The alive hosts among `scanned`.
pub(crate) fn hosts(scanned: &IpSet) -> Vec<Host> {
    scanned.iter().filter_map(findings::host).collect()
}

/// `set` ∩ the `ips` filter.
fn filtered(c: &RawCtx<'_>, set: &IpSet) -> IpSet {
    match c.filter {
        Some(f) => set.intersect(f),
        None => set.clone(),
    }
}

/// Scanner description: the appliance name, or External.
fn scanner(s: &Scan) -> String {
    s.appliance.clone().unwrap_or_else(|| "External".to_owned())
}

/// A record of (key, value) pairs whose CSV titles are the keys.
fn plain(pairs: Vec<(&'static str, String)>) -> Record {
    pairs.into_iter().map(|(k, v)| (k, k, v)).collect()
}

/// The two leading metadata objects of the `*_extended` formats.
fn metadata(c: &RawCtx<'_>, target: &IpSet, alive: usize) -> [Record; 2] {
    let s = c.scan;
    let now = clock::datetime(std::time::SystemTime::now());
    [
        plain(vec![
            ("username", c.user.to_owned()),
            ("company", "Simulated Company".to_owned()),
            ("add1", "1 Loopback Way".to_owned()),
            ("city", "Localhost".to_owned()),
            ("state", String::new()),
            ("zip", "00000".to_owned()),
            ("country", "Nowhere".to_owned()),
            ("name", c.user.to_owned()),
            ("scan_report_template_title", "Scan Results".to_owned()),
            ("result_date", now),
        ]),
        plain(vec![
            ("launch_date", clock::datetime(s.launched)),
            ("active_hosts", alive.to_string()),
            ("total_hosts", target.len().to_string()),
            ("type", "API".to_owned()),
            ("status", c.state.to_owned()),
            ("reference", s.reference.clone()),
            ("scanner_appliance", scanner(s)),
            ("duration", clock::hms(c.cfg.scan_running)),
            ("scan_title", s.title.clone()),
            ("asset_groups", s.group_titles.join(", ")),
            ("ips", s.target.to_list()),
            ("excluded_ips", s.excluded.to_list()),
            ("option_profile", s.option_title.clone()),
        ]),
    ]
}

/// One finding in `brief` or `extended` mode.
fn finding(h: &Host, v: &Vuln, extended: bool) -> Record {
    let s = |x: &str| x.to_owned();
    if !extended {
        return vec![
            ("ip", "IP", h.ip.to_string()),
            ("dns", "DNS", h.dns.clone()),
            ("netbios", "NetBIOS", h.netbios.clone()),
            ("qid", "QID", v.qid.to_string()),
            ("results", "Results", s(v.result)),
        ];
    }
    let port = if v.port == 0 {
        String::new()
    } else {
        v.port.to_string()
    };
    let status = if v.kind == "Ig" {
        "host scanned, found info"
    } else {
        "host scanned, found vuln"
    };
    vec![
        ("ip", "IP", h.ip.to_string()),
        ("dns", "DNS", h.dns.clone()),
        ("netbios", "NetBIOS", h.netbios.clone()),
        ("os", "OS", s(h.os)),
        ("ip_status", "IP Status", s(status)),
        ("qid", "QID", v.qid.to_string()),
        ("title", "Title", s(v.title)),
        ("type", "Type", s(v.kind)),
        ("severity", "Severity", v.severity.to_string()),
        ("port", "Port", port),
        ("protocol", "Protocol", s(v.protocol)),
        ("fqdn", "FQDN", String::new()),
        ("ssl", "SSL", s(if v.ssl { "yes" } else { "no" })),
        ("cve_id", "CVE ID", s(v.cve)),
        ("vendor_reference", "Vendor Reference", String::new()),
        ("bugtraq_id", "Bugtraq ID", String::new()),
        ("cvss_base", "CVSS Base", s(v.cvss)),
        ("threat", "Threat", s(v.threat)),
        ("impact", "Impact", s(v.impact)),
        ("solution", "Solution", s(v.solution)),
        ("exploitability", "Exploitability", String::new()),
        ("associated_malware", "Associated Malware", String::new()),
        ("results", "Results", s(v.result)),
        (
            "pci_vuln",
            "PCI Vuln",
            s(if v.severity >= 3 && v.kind != "Ig" {
                "yes"
            } else {
                "no"
            }),
        ),
        ("instance", "Instance", String::new()),
        ("category", "Category", s(v.service)),
    ]
}

/// What a scan in `state` has scanned of `all`: everything once Finished; the first half
/// of it (rounded down) for a scan that stopped short (Canceled, Paused, Error).
fn partial(state: &str, all: IpSet) -> IpSet {
    if state == "Finished" {
        return all;
    }
    let half = all.len() / 2;
    IpSet::from_iter_ips(all.iter().take(usize::try_from(half).unwrap_or(usize::MAX)))
}

/// Every record of the answer, in order: metadata (extended format), findings, coverage
/// and distribution (extended format).
fn records(c: &RawCtx<'_>) -> (Vec<Record>, Vec<Record>, Vec<Record>) {
    let target = filtered(c, &c.scan.target);
    let scanned = filtered(c, &partial(c.state, c.scan.scanned()));
    let excluded = filtered(c, &c.scan.excluded);
    let hosts = hosts(&scanned);
    let found: Vec<Record> = hosts
        .iter()
        .flat_map(|h| h.vulns.iter().map(|v| finding(h, v, c.extended_mode)))
        .collect();
    if !c.extended_format {
        return (Vec::new(), found, Vec::new());
    }
    let lead = metadata(c, &target, hosts.len()).into_iter().collect();
    let alive = IpSet::from_iter_ips(hosts.iter().map(|h| h.ip));
    let mut tail = Vec::new();
    let down = scanned.minus(&alive);
    if !down.is_empty() {
        tail.push(plain(vec![(
            "hosts_not_scanned_host_not_alive_ip",
            down.to_list(),
        )]));
    }
    if !excluded.is_empty() {
        tail.push(plain(vec![(
            "hosts_not_scanned_excluded_host_ip",
            excluded.to_list(),
        )]));
    }
    tail.push(plain(vec![(
        "target_distribution_across_scanner_appliances",
        format!("{} : {}", scanner(c.scan), scanned.to_list()),
    )]));
    (lead, found, tail)
}

/// One JSON object with its keys in record order.
fn json_object(out: &mut String, r: &Record) {
    out.push('{');
    for (i, (k, _, v)) in r.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{}:{}",
            serde_json::Value::from(*k),
            serde_json::Value::from(v.as_str())
        );
    }
    out.push('}');
}

/// The JSON array of every record.
pub(crate) fn json(c: &RawCtx<'_>) -> String {
    let (lead, found, tail) = records(c);
    let all: Vec<&Record> = lead.iter().chain(&found).chain(&tail).collect();
    let mut out = String::from("[\n");
    for (i, r) in all.iter().enumerate() {
        json_object(&mut out, r);
        out.push_str(if i + 1 < all.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

/// The CSV form: each metadata and trailing object as a header line and a value line;
/// the findings as one header line and one line each.
pub(crate) fn csv(c: &RawCtx<'_>) -> String {
    let (lead, found, tail) = records(c);
    let mut out = String::new();
    let object = |out: &mut String, r: &Record| {
        csv_line(out, &r.iter().map(|(_, t, _)| *t).collect::<Vec<_>>());
        csv_line(
            out,
            &r.iter().map(|(_, _, v)| v.as_str()).collect::<Vec<_>>(),
        );
    };
    for r in &lead {
        object(&mut out, r);
    }
    if let Some(first) = found.first() {
        csv_line(
            &mut out,
            &first.iter().map(|(_, t, _)| *t).collect::<Vec<_>>(),
        );
    }
    for r in &found {
        csv_line(
            &mut out,
            &r.iter().map(|(_, _, v)| v.as_str()).collect::<Vec<_>>(),
        );
    }
    for r in &tail {
        object(&mut out, r);
    }
    out
}

/// One CSV field, always quoted, quotes doubled.
pub(crate) fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One CSV line of fields.
pub(crate) fn csv_line(out: &mut String, fields: &[&str]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    let _ = writeln!(out, "{}", line.join(","));
}

/// A scan report's CSV findings table: a header line, then one line per finding of
/// `hosts` (columns IP, DNS, NetBIOS, OS, QID, Title, Type, Severity, Port, Protocol, SSL,
/// CVE ID, Threat, Impact, Solution, Results).
pub(crate) fn findings_table(out: &mut String, hosts: &[Host]) {
    let mut header = vec![
        "IP", "DNS", "NetBIOS", "OS", "QID", "Title", "Type", "Severity", "Port", "Protocol",
        "SSL", "CVE ID",
    ];
    header.extend(["Threat", "Impact", "Solution", "Results"]);
    csv_line(out, &header);
    for h in hosts {
        for v in &h.vulns {
            let (ip, qid, sev, port) = (
                h.ip.to_string(),
                v.qid.to_string(),
                v.severity.to_string(),
                v.port.to_string(),
            );
            let mut row = vec![
                ip.as_str(),
                &h.dns,
                &h.netbios,
                h.os,
                &qid,
                v.title,
                v.kind,
                &sev,
                &port,
                v.protocol,
                if v.ssl { "yes" } else { "no" },
                v.cve,
            ];
            row.extend([v.threat, v.impact, v.solution, v.result]);
            csv_line(out, &row);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;

    fn some_hosts() -> Vec<Host> {
        (1..=40u8)
            .filter_map(|n| findings::host(std::net::Ipv4Addr::new(64, 39, 106, n)))
            .collect()
    }

    #[test]
    fn the_report_findings_table_has_one_line_per_finding() {
        let hosts = some_hosts();
        let findings: usize = hosts.iter().map(|h| h.vulns.len()).sum();
        assert!(findings > 0, "the catalog gives these hosts findings");
        let mut out = String::new();
        findings_table(&mut out, &hosts);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1 + findings);
        assert_eq!(lines[0].split(',').count(), 16, "{}", lines[0]);
        let (h, v) = (&hosts[0], hosts[0].vulns[0]);
        assert!(
            lines[1].starts_with(&format!("\"{}\",", h.ip)),
            "{}",
            lines[1]
        );
        let qid = csv_field(&v.qid.to_string());
        assert!(lines[1].contains(&format!(",{qid},")), "{}", lines[1]);
    }

    fn scan(target: &str, excluded: &str) -> Scan {
        Scan {
            id: 1,
            reference: "scan/1.1".into(),
            title: "t".into(),
            launched: SystemTime::now(),
            launched_at: Instant::now(),
            option_title: "o".into(),
            group_titles: vec!["G".into()],
            appliance: None,
            target: IpSet::parse(target).expect("ips"),
            excluded: IpSet::parse(excluded).expect("ips"),
            forced: None,
        }
    }

    fn parse(c: &RawCtx<'_>) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let v: serde_json::Value = serde_json::from_str(&json(c)).expect("valid JSON");
        v.as_array()
            .expect("array")
            .iter()
            .map(|o| o.as_object().expect("object").clone())
            .collect()
    }

    #[test]
    fn brief_by_default_extended_on_request_and_the_extended_shape() {
        let cfg = SimConfig::default();
        let s = scan("64.39.106.0-64.39.106.40", "64.39.106.40");
        let mut c = RawCtx {
            scan: &s,
            user: "u",
            filter: None,
            cfg: &cfg,
            extended_mode: false,
            extended_format: false,
            state: "Finished",
        };
        let brief = parse(&c);
        assert!(!brief.is_empty());
        for r in &brief {
            let keys: Vec<&str> = r.keys().map(String::as_str).collect();
            assert_eq!(keys.len(), 5, "{keys:?}");
            assert!(
                !r.contains_key("severity") && r.contains_key("qid"),
                "{keys:?}"
            );
        }
        c.extended_mode = true;
        let full = parse(&c);
        assert_eq!(full.len(), brief.len());
        assert!(full
            .iter()
            .all(|r| r.contains_key("severity") && r.contains_key("port")));
        let kinds: Vec<&str> = full.iter().filter_map(|r| r["type"].as_str()).collect();
        assert!(
            kinds.contains(&"Ig") && kinds.contains(&"Potential Vuln"),
            "{kinds:?}"
        );
        c.extended_format = true;
        let all = parse(&c);
        assert!(all[0].contains_key("company"), "{:?}", all[0]);
        assert_eq!(all[1]["reference"], "scan/1.1");
        assert_eq!(all[1]["excluded_ips"], "64.39.106.40");
        assert_eq!(all[2..2 + full.len()], full[..]);
        let tail: Vec<&str> = all[2 + full.len()..]
            .iter()
            .flat_map(|o| o.keys().map(String::as_str))
            .collect();
        assert_eq!(
            tail,
            vec![
                "hosts_not_scanned_host_not_alive_ip",
                "hosts_not_scanned_excluded_host_ip",
                "target_distribution_across_scanner_appliances"
            ]
        );
        let excluded = all[all.len() - 2]["hosts_not_scanned_excluded_host_ip"].clone();
        assert_eq!(excluded, "64.39.106.40");
        let ips: Vec<&str> = full.iter().filter_map(|r| r["ip"].as_str()).collect();
        assert!(
            !ips.contains(&"64.39.106.40"),
            "an excluded host is not scanned"
        );
        let csv_text = csv(&c);
        assert!(csv_text.starts_with("\"username\","), "{csv_text}");
        assert!(csv_text.contains("\"IP\",\"DNS\",\"NetBIOS\",\"OS\""));
        assert!(csv_text
            .trim_end()
            .ends_with(&csv_field("External : 64.39.106.0-64.39.106.39")));
    }

    #[test]
    fn a_scan_that_stopped_short_has_the_results_of_half_its_addresses() {
        let cfg = SimConfig::default();
        let s = scan("64.39.106.0-64.39.106.9", "");
        let ctx = |state| RawCtx {
            scan: &s,
            user: "u",
            filter: None,
            cfg: &cfg,
            extended_mode: true,
            extended_format: true,
            state,
        };
        let ips_of = |c: &RawCtx<'_>| -> std::collections::BTreeSet<String> {
            parse(c)
                .iter()
                .filter_map(|r| r.get("target_distribution_across_scanner_appliances"))
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let full = ips_of(&ctx("Finished"));
        let half = ips_of(&ctx("Canceled"));
        assert_eq!(full.len(), 1);
        assert!(
            full.iter().all(|d| d.ends_with("64.39.106.0-64.39.106.9")),
            "{full:?}"
        );
        assert!(
            half.iter().all(|d| d.ends_with("64.39.106.0-64.39.106.4")),
            "{half:?}"
        );
        let status = |c: &RawCtx<'_>| {
            parse(c)
                .iter()
                .find_map(|r| r.get("status").and_then(|v| v.as_str()).map(str::to_owned))
        };
        assert_eq!(status(&ctx("Error")).as_deref(), Some("Error"));
    }
}
