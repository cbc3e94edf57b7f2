//! Raw scan results (`scan/?action=fetch`) as JSON or CSV, built from the scan's TARGET
//! and the deterministic findings. Every JSON value is a string.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::clock;
use crate::config::SimConfig;
use crate::findings::{self, Host};
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
}

/// The scanned addresses after the `ips` filter.
fn targets(c: &RawCtx<'_>) -> IpSet {
    match c.filter {
        Some(f) => c.scan.target.intersect(f),
        None => c.scan.target.clone(),
    }
}

/// The alive hosts of the (filtered) target.
pub(crate) fn hosts(target: &IpSet) -> Vec<Host> {
    target.iter().filter_map(findings::host).collect()
}

/// The two leading metadata objects.
fn metadata(c: &RawCtx<'_>, target: &IpSet, alive: usize) -> [Value; 2] {
    let s = c.scan;
    [
        json!({
            "username": c.user, "company": "Simulated Company", "add1": "1 Loopback Way",
            "city": "Localhost", "state": "", "zip": "00000", "country": "Nowhere",
            "name": c.user, "scan_report_template_title": "Scan Results",
            "result_date": clock::datetime(std::time::SystemTime::now()),
        }),
        json!({
            "launch_date": clock::datetime(s.launched), "active_hosts": alive.to_string(),
            "total_hosts": target.len().to_string(), "type": "API", "status": "Finished",
            "reference": s.reference, "scanner_appliance": scanner(s),
            "duration": clock::hms(c.cfg.scan_running), "scan_title": s.title,
            "asset_groups": s.group_titles.join(", "), "ips": s.target.to_list(),
            "excluded_ips": "", "option_profile": s.option_title,
        }),
    ]
}

/// Scanner description: the appliance name, or External.
fn scanner(s: &Scan) -> String {
    s.appliance.clone().unwrap_or_else(|| "External".to_owned())
}

/// The JSON array: two metadata objects, one object per finding, then the
/// `target_distribution_across_scanner_appliances` object.
pub(crate) fn json(c: &RawCtx<'_>) -> String {
    let target = targets(c);
    let hosts = hosts(&target);
    let mut out = String::from("[\n");
    for m in metadata(c, &target, hosts.len()) {
        out.push_str(&m.to_string());
        out.push_str(",\n");
    }
    for h in &hosts {
        for v in &h.vulns {
            let o = json!({
                "ip": h.ip.to_string(), "dns": h.dns, "netbios": h.netbios, "os": h.os,
                "ip_status": "host scanned, found vuln", "qid": v.qid.to_string(), "title": v.title,
                "type": v.kind, "severity": v.severity.to_string(),
                "port": if v.port == 0 { String::new() } else { v.port.to_string() },
                "protocol": v.protocol, "fqdn": "", "ssl": if v.ssl { "yes" } else { "no" },
                "cve_id": v.cve, "vendor_reference": "", "bugtraq_id": "", "cvss_base": v.cvss,
                "threat": v.threat, "impact": v.impact, "solution": v.solution,
                "exploitability": "", "associated_malware": "", "results": v.result,
                "pci_vuln": if v.severity >= 4 { "yes" } else { "no" }, "instance": "", "category": v.service,
            });
            out.push_str(&o.to_string());
            out.push_str(",\n");
        }
    }
    let dist = json!({
        "target_distribution_across_scanner_appliances": format!("{} : {}", scanner(c.scan), target.to_list())
    });
    out.push_str(&dist.to_string());
    out.push_str("\n]\n");
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

/// The CSV form: metadata lines, then one line per finding.
pub(crate) fn csv(c: &RawCtx<'_>) -> String {
    let target = targets(c);
    let hosts = hosts(&target);
    let mut out = String::new();
    for m in metadata(c, &target, hosts.len()) {
        if let Value::Object(map) = m {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            let vals: Vec<&str> = map.values().map(|v| v.as_str().unwrap_or("")).collect();
            csv_line(&mut out, &keys);
            csv_line(&mut out, &vals);
        }
    }
    findings_table(&mut out, &hosts, true);
    out
}

/// Qualys's CSV findings table: a header line, then one line per finding of `hosts`
/// (columns IP, DNS, NetBIOS, OS, QID, Title, Type, Severity, Port, Protocol, SSL, CVE ID,
/// `CVSS Base` when `cvss` (scan results have it, scan reports do not), Threat, Impact,
/// Solution, Results).
pub(crate) fn findings_table(out: &mut String, hosts: &[Host], cvss: bool) {
    let mut header = vec![
        "IP", "DNS", "NetBIOS", "OS", "QID", "Title", "Type", "Severity", "Port", "Protocol",
        "SSL", "CVE ID",
    ];
    if cvss {
        header.push("CVSS Base");
    }
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
            if cvss {
                row.push(v.cvss);
            }
            row.extend([v.threat, v.impact, v.solution, v.result]);
            csv_line(out, &row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some_hosts() -> Vec<Host> {
        (1..=40u8)
            .filter_map(|n| findings::host(std::net::Ipv4Addr::new(64, 39, 106, n)))
            .collect()
    }

    #[test]
    fn the_findings_table_has_cvss_only_when_asked() {
        let hosts = some_hosts();
        let findings: usize = hosts.iter().map(|h| h.vulns.len()).sum();
        assert!(findings > 0, "the catalog gives these hosts findings");
        for (cvss, columns) in [(true, 17), (false, 16)] {
            let mut out = String::new();
            findings_table(&mut out, &hosts, cvss);
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 1 + findings, "cvss {cvss}");
            assert_eq!(lines[0].split(',').count(), columns, "{}", lines[0]);
            assert_eq!(lines[0].contains("\"CVSS Base\""), cvss, "{}", lines[0]);
            let (h, v) = (&hosts[0], hosts[0].vulns[0]);
            assert!(
                lines[1].starts_with(&format!("\"{}\",", h.ip)),
                "{}",
                lines[1]
            );
            let qid = csv_field(&v.qid.to_string());
            assert!(lines[1].contains(&format!(",{qid},")), "{}", lines[1]);
        }
    }
}
