//! Report files: an ASSET_DATA_REPORT XML, a CSV, an HTML page or a small PDF, all
//! deterministic from the report's scans and their findings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::clock;
use crate::findings::Vuln;
use crate::ips::IpSet;
use crate::model::Report;
use crate::raw::{csv_line, findings_table, hosts};
use crate::xml::{cdata, escape, CONFIDENTIAL};

/// Renders report `r` in its format.
pub(crate) fn render(r: &Report, user: &str) -> Vec<u8> {
    match r.format.as_str() {
        "xml" => asset_data_report(r, user).into_bytes(),
        "csv" => csv(r).into_bytes(),
        "html" => html(r).into_bytes(),
        _ => pdf(r),
    }
}

/// The ASSET_DATA_REPORT document.
fn asset_data_report(r: &Report, user: &str) -> String {
    let (ips, groups) = (&r.hosts, &r.group_titles);
    let hosts = hosts(&r.with_data);
    let found = clock::datetime(r.launched);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\n");
    x.push_str("<!DOCTYPE ASSET_DATA_REPORT SYSTEM \"https://qualysguard.qualys.com/asset_data_report.dtd\">\n");
    x.push_str(
        "<ASSET_DATA_REPORT>\n  <HEADER>\n    <COMPANY><![CDATA[Simulated Company]]></COMPANY>\n",
    );
    let _ = writeln!(x, "    <USERNAME>{}</USERNAME>\n    <GENERATION_DATETIME>{}</GENERATION_DATETIME>\n    <TEMPLATE>{}</TEMPLATE>\n    <TARGET>\n      <USER_ASSET_GROUPS>", escape(user), found, cdata(&r.template_title));
    for g in groups {
        let _ = writeln!(
            x,
            "        <ASSET_GROUP_TITLE>{}</ASSET_GROUP_TITLE>",
            cdata(g)
        );
    }
    x.push_str("      </USER_ASSET_GROUPS>\n      <COMBINED_IP_LIST>\n");
    for (a, b) in ips.ranges() {
        let _ = writeln!(x, "        <RANGE>\n          <START>{a}</START>\n          <END>{b}</END>\n        </RANGE>");
    }
    let total: usize = hosts.iter().map(|h| h.vulns.len()).sum();
    let sev_sum: u32 = hosts
        .iter()
        .flat_map(|h| &h.vulns)
        .map(|v| u32::from(v.severity))
        .sum();
    let avg = if total == 0 {
        0.0
    } else {
        f64::from(sev_sum) / total as f64
    };
    let _ = writeln!(x, "      </COMBINED_IP_LIST>\n    </TARGET>\n    <RISK_SCORE_SUMMARY>\n      <TOTAL_VULNERABILITIES>{total}</TOTAL_VULNERABILITIES>\n      <AVG_SECURITY_RISK>{avg:.1}</AVG_SECURITY_RISK>\n      <BUSINESS_RISK>{}/100</BUSINESS_RISK>\n    </RISK_SCORE_SUMMARY>\n  </HEADER>\n  <HOST_LIST>", (avg * 5.0).round() as u32);
    let mut glossary: BTreeMap<u32, &Vuln> = BTreeMap::new();
    for h in &hosts {
        let _ = writeln!(x, "    <HOST>\n      <IP>{}</IP>\n      <TRACKING_METHOD>IP</TRACKING_METHOD>\n      <DNS>{}</DNS>\n      <NETBIOS>{}</NETBIOS>\n      <OPERATING_SYSTEM>{}</OPERATING_SYSTEM>\n      <VULN_INFO_LIST>", h.ip, cdata(&h.dns), cdata(&h.netbios), cdata(h.os));
        for v in &h.vulns {
            glossary.insert(v.qid, v);
            let _ = writeln!(x, "        <VULN_INFO>\n          <QID id=\"qid_{q}\">{q}</QID>\n          <TYPE>{}</TYPE>\n          <PORT>{}</PORT>\n          <SERVICE>{}</SERVICE>\n          <PROTOCOL>{}</PROTOCOL>\n          <SSL>{}</SSL>\n          <RESULT>{}</RESULT>\n          <FIRST_FOUND>{found}</FIRST_FOUND>\n          <LAST_FOUND>{found}</LAST_FOUND>\n          <TIMES_FOUND>1</TIMES_FOUND>\n          <VULN_STATUS>New</VULN_STATUS>\n        </VULN_INFO>", escape(v.kind), v.port, escape(v.service), v.protocol, v.ssl, cdata(v.result), q = v.qid);
        }
        x.push_str("      </VULN_INFO_LIST>\n    </HOST>\n");
    }
    x.push_str("  </HOST_LIST>\n  <GLOSSARY>\n    <VULN_DETAILS_LIST>\n");
    for v in glossary.values() {
        let _ = writeln!(x, "      <VULN_DETAILS id=\"qid_{q}\">\n        <QID id=\"qid_{q}\">{q}</QID>\n        <TITLE>{}</TITLE>\n        <SEVERITY>{}</SEVERITY>\n        <CATEGORY>{}</CATEGORY>\n        <THREAT>{}</THREAT>\n        <IMPACT>{}</IMPACT>\n        <SOLUTION>{}</SOLUTION>", cdata(v.title), v.severity, escape(v.service), cdata(v.threat), cdata(v.impact), cdata(v.solution), q = v.qid);
        if !v.cve.is_empty() {
            x.push_str("        <CVE_ID_LIST>\n");
            for cve in v.cve.split(',') {
                let _ = writeln!(x, "          <CVE_ID>\n            <ID>{}</ID>\n            <URL>{}</URL>\n          </CVE_ID>", cdata(cve), cdata(&format!("https://www.cve.org/CVERecord?id={cve}")));
            }
            x.push_str("        </CVE_ID_LIST>\n");
        }
        x.push_str("      </VULN_DETAILS>\n");
    }
    x.push_str("    </VULN_DETAILS_LIST>\n  </GLOSSARY>\n  <APPENDICES>\n    <NO_RESULTS>\n      <IP_LIST>\n");
    let alive = IpSet::from_iter_ips(hosts.iter().map(|h| h.ip));
    for (a, b) in ips.minus(&alive).ranges() {
        let _ = writeln!(x, "        <RANGE>\n          <START>{a}</START>\n          <END>{b}</END>\n        </RANGE>");
    }
    x.push_str("      </IP_LIST>\n    </NO_RESULTS>\n  </APPENDICES>\n</ASSET_DATA_REPORT>\n");
    x.push_str(CONFIDENTIAL);
    x.push('\n');
    x
}

/// CSV: one line per finding.
fn csv(r: &Report) -> String {
    let mut out = String::new();
    csv_line(&mut out, &["Scan Report", &r.title]);
    findings_table(&mut out, &hosts(&r.with_data));
    out
}

/// A plain HTML page listing the findings.
fn html(r: &Report) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><title>{0}</title></head><body>\n<h1>{0}</h1>\n<table>\n",
        escape(&r.title)
    );
    for h in hosts(&r.with_data) {
        for v in &h.vulns {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                h.ip,
                v.qid,
                v.severity,
                escape(v.title)
            );
        }
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// A minimal one-page PDF naming the report and counting findings by severity.
fn pdf(r: &Report) -> Vec<u8> {
    let mut counts = [0usize; 5];
    let hosts = hosts(&r.with_data);
    for v in hosts.iter().flat_map(|h| &h.vulns) {
        if let Some(c) = counts.get_mut(usize::from(v.severity.saturating_sub(1))) {
            *c += 1;
        }
    }
    let safe: String = r
        .title
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| !"()\\".contains(*c))
        .collect();
    let text = format!(
        "BT /F1 12 Tf 72 720 Td ({safe}) Tj 0 -18 Td (Hosts alive: {}) Tj 0 -18 Td (Severity 5..1: {} {} {} {} {}) Tj ET",
        hosts.len(), counts[4], counts[3], counts[2], counts[1], counts[0]
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{o}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(out, "{off:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}
