//! Findings from a scan report downloaded as XML (root `ASSET_DATA_REPORT`).
//!
//! Hosts come from `HOST_LIST/HOST` (IP, DNS, NETBIOS, OPERATING_SYSTEM and each
//! `VULN_INFO_LIST/VULN_INFO`: QID, TYPE, PORT, PROTOCOL, FIRST_FOUND, RESULT); title,
//! severity, CVE ids, threat, impact, solution, PCI flag and CVSS base scores from
//! `GLOSSARY/VULN_DETAILS_LIST/VULN_DETAILS` when present; the target from
//! `HEADER/TARGET/COMBINED_IP_LIST`. The DOCTYPE is allowed but its DTD is never fetched.
//! Unlike raw results, a report is parsed as a whole document (about 6 bytes of memory per
//! byte of XML), so only reports up to [`MAX_XML_REPORT`] are read: a larger one is kept
//! but its findings are unknown (the summary says why), rather than exhausting memory at
//! every restart. Like every XML body, its prolog is checked first: no internal DTD
//! subset or entity declaration reaches roxmltree (`baseliner_qualys::check_xml_prolog`).

use super::error::ActionError;
use super::model::{
    parse_number, parse_port, parse_severity, Detail, Details, Finding, Findings, MAX_FIELD_CHARS,
};
use roxmltree::{Document, Node, ParsingOptions};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// The glossary's facts about one QID.
#[derive(Debug, Default)]
struct Gloss {
    title: String,
    severity: u8,
    cves: String,
    threat: String,
    impact: String,
    solution: String,
    pci: String,
    cvss: String,
    cvss3: String,
}

/// The largest XML report whose findings are read (64 MiB: about 400 MB parsed).
pub const MAX_XML_REPORT: u64 = 64 * 1024 * 1024;

/// True when the XML report at `path` is small enough to be read ([`MAX_XML_REPORT`]).
pub fn readable_size(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() <= MAX_XML_REPORT)
}

/// Reads the XML report at `path`.
pub fn read_report(path: &Path) -> Result<Findings, ActionError> {
    let text = std::fs::read_to_string(path).map_err(|e| ActionError::io(path, e))?;
    parse_report(&text).map_err(|message| ActionError::Xml {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses an `ASSET_DATA_REPORT` document.
pub fn parse_report(text: &str) -> Result<Findings, String> {
    baseliner_qualys::check_xml_prolog(text).map_err(|e| e.to_string())?;
    let opts = ParsingOptions {
        allow_dtd: true,
        nodes_limit: 50_000_000,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    if root.tag_name().name() != "ASSET_DATA_REPORT" {
        return Err(format!(
            "root element is {}, expected ASSET_DATA_REPORT",
            root.tag_name().name()
        ));
    }
    let glossary = glossary(root);
    let mut out = Findings::default();
    if let Some(target) = child(root, "HEADER").and_then(|h| child(h, "TARGET")) {
        out.meta.target = combined_ip_list(target);
    }
    let hosts: Vec<Node<'_, '_>> = child(root, "HOST_LIST")
        .map(|l| children(l, "HOST").collect())
        .unwrap_or_default();
    let mut details = Vec::new();
    for host in hosts {
        read_host(&mut out, &mut details, host, &glossary);
    }
    out.details = Details::Inline(details);
    out.meta.active_hosts = Some(out.meta.listed_hosts.len() as u64);
    Ok(out)
}

/// Adds one HOST and its findings.
fn read_host(
    out: &mut Findings,
    details: &mut Vec<Detail>,
    host: Node<'_, '_>,
    glossary: &HashMap<u32, Gloss>,
) {
    let ip_text = text_of(host, "IP");
    out.meta.listed_hosts.push(ip_text.clone());
    let s = &mut out.strings;
    let ip = s.intern(&ip_text);
    let ipv4 = ip_text.parse::<Ipv4Addr>().ok();
    let dns = s.intern(&text_of(host, "DNS"));
    let netbios = s.intern(&text_of(host, "NETBIOS"));
    let os = s.intern(&text_of(host, "OPERATING_SYSTEM"));
    let Some(list) = child(host, "VULN_INFO_LIST") else {
        return;
    };
    for v in children(list, "VULN_INFO") {
        let qid = parse_number(&text_of(v, "QID"))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let d = glossary.get(&qid);
        let severity = match d {
            Some(d) if d.severity > 0 => d.severity,
            _ => parse_severity(&text_of(v, "SEVERITY")),
        };
        let title = d.map_or_else(|| text_of(v, "TITLE"), |d| d.title.clone());
        let g = |pick: fn(&Gloss) -> &str| d.map_or("", pick).to_owned();
        details.push(Detail {
            threat: g(|d| &d.threat),
            impact: g(|d| &d.impact),
            solution: g(|d| &d.solution),
            result: text_of(v, "RESULT"),
        });
        let s = &mut out.strings;
        let row = Finding {
            ip,
            ipv4,
            dns,
            netbios,
            os,
            qid,
            title: s.intern(&super::kb_text::plain_text(&title)),
            kind: s.intern(&text_of(v, "TYPE")),
            severity,
            port: parse_port(&text_of(v, "PORT")),
            protocol: s.intern(&text_of(v, "PROTOCOL")),
            cve_ids: s.intern(d.map_or("", |d| d.cves.as_str())),
            first_found: s.intern(&text_of(v, "FIRST_FOUND")),
            cvss_base: s.intern(d.map_or("", |d| d.cvss.as_str())),
            cvss3_base: s.intern(d.map_or("", |d| d.cvss3.as_str())),
            pci_vuln: s.intern(d.map_or("", |d| d.pci.as_str())),
            detail: details.len() as u64 - 1,
        };
        out.push(row);
    }
}

/// `GLOSSARY/VULN_DETAILS_LIST/VULN_DETAILS` by QID.
fn glossary(root: Node<'_, '_>) -> HashMap<u32, Gloss> {
    let mut map = HashMap::new();
    let Some(list) = child(root, "GLOSSARY").and_then(|g| child(g, "VULN_DETAILS_LIST")) else {
        return map;
    };
    for d in children(list, "VULN_DETAILS") {
        let Some(qid) = parse_number(&text_of(d, "QID")).and_then(|n| u32::try_from(n).ok()) else {
            continue;
        };
        let cves: Vec<String> = child(d, "CVE_ID_LIST")
            .map(|l| {
                children(l, "CVE_ID")
                    .map(|c| text_of(c, "ID"))
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        map.insert(
            qid,
            Gloss {
                title: text_of(d, "TITLE"),
                severity: parse_severity(&text_of(d, "SEVERITY")),
                cves: cves.join(","),
                threat: text_of(d, "THREAT"),
                impact: text_of(d, "IMPACT"),
                solution: text_of(d, "SOLUTION"),
                pci: match text_of(d, "PCI_FLAG").as_str() {
                    "1" => "yes".to_owned(),
                    "0" => "no".to_owned(),
                    other => other.to_owned(),
                },
                cvss: child(d, "CVSS_SCORE").map_or_else(String::new, |c| text_of(c, "CVSS_BASE")),
                cvss3: child(d, "CVSS3_SCORE")
                    .map_or_else(String::new, |c| text_of(c, "CVSS3_BASE")),
            },
        );
    }
    map
}

/// `COMBINED_IP_LIST` as Qualys list text (`a`, `a-b`, comma-separated).
fn combined_ip_list(target: Node<'_, '_>) -> Option<String> {
    let list = child(target, "COMBINED_IP_LIST")?;
    let parts: Vec<String> = list
        .children()
        .filter(Node::is_element)
        .filter_map(|n| match n.tag_name().name() {
            "RANGE" => {
                let (a, b) = (text_of(n, "START"), text_of(n, "END"));
                Some(if a == b || b.is_empty() {
                    a
                } else {
                    format!("{a}-{b}")
                })
            }
            "IP" => Some(trimmed(n)),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The first child element named `name`.
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element named `name`.
fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The trimmed text (CDATA included) of the child `name`, or `""`.
fn text_of(n: Node<'_, '_>, name: &str) -> String {
    child(n, name).map(trimmed).unwrap_or_default()
}

/// The trimmed text of `n`, cut to a bounded length.
fn trimmed(n: Node<'_, '_>) -> String {
    let t: String = n
        .descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    super::model::truncate_chars(t.trim(), MAX_FIELD_CHARS * 50).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!(
        "../../../../tests/data/qualys-samples/report_fetch_scan_report_xml__mikemackintosh_ruby-qualys.xml"
    );

    #[test]
    fn reads_the_real_sample_report() {
        let f = parse_report(SAMPLE).expect("sample parses");
        let hosts_in_file = SAMPLE.matches("<HOST>").count();
        let vulns_in_file = SAMPLE.matches("<VULN_INFO>").count();
        assert_eq!(f.meta.listed_hosts.len(), hosts_in_file);
        assert_eq!(f.rows.len(), vulns_in_file);
        assert_eq!(
            f.meta.target.as_deref(),
            Some("47.69.112.62,88.78.187.177,192.168.1.100")
        );
        let first = f.rows[0];
        assert_eq!(f.strings.get(first.ip), "47.69.112.62");
        assert_eq!(f.strings.get(first.dns), "12.ip-34-56-789.ab");
        assert_eq!(first.qid, 38173);
        assert_eq!(first.port, Some(25));
        assert_eq!(f.strings.get(first.protocol), "tcp");
        assert_eq!(f.strings.get(first.kind), "Vuln");
        assert_eq!(f.strings.get(first.first_found), "2017-12-07T08:12:19Z");
        // Severity and title come from the glossary.
        let h = f
            .rows
            .iter()
            .find(|r| r.qid == 11827)
            .expect("qid 11827 listed");
        assert_eq!(h.severity, 2);
        assert_eq!(f.strings.get(h.title), "HTTP Security Header Not Detected");
    }

    #[test]
    fn minimal_report_without_glossary_and_cves_in_glossary() {
        let f = parse_report(
            "<ASSET_DATA_REPORT><HOST_LIST><HOST><IP>10.1.1.1</IP><VULN_INFO_LIST>\
             <VULN_INFO><QID id=\"qid_1\">1</QID><PORT>80</PORT></VULN_INFO>\
             </VULN_INFO_LIST></HOST><HOST><IP>10.1.1.2</IP></HOST></HOST_LIST>\
             <GLOSSARY><VULN_DETAILS_LIST><VULN_DETAILS><QID>1</QID><SEVERITY>5</SEVERITY>\
             <TITLE>T</TITLE><CVE_ID_LIST><CVE_ID><ID>CVE-1</ID></CVE_ID><CVE_ID><ID>CVE-2</ID>\
             </CVE_ID></CVE_ID_LIST></VULN_DETAILS></VULN_DETAILS_LIST></GLOSSARY></ASSET_DATA_REPORT>",
        )
        .expect("parses");
        assert_eq!(f.meta.listed_hosts, vec!["10.1.1.1", "10.1.1.2"]);
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.rows[0].severity, 5);
        assert_eq!(f.strings.get(f.rows[0].cve_ids), "CVE-1,CVE-2");
    }

    #[test]
    fn wrong_root_and_garbage_are_errors() {
        let e = parse_report("<SIMPLE_RETURN/>").expect_err("wrong root");
        assert!(e.contains("SIMPLE_RETURN"), "{e}");
        assert!(parse_report("not xml at all").is_err());
        assert!(parse_report("<ASSET_DATA_REPORT>").is_err());
    }

    #[test]
    fn a_report_with_an_internal_subset_is_refused_and_a_huge_one_is_not_read() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE ASSET_DATA_REPORT [<!ENTITY a \"aaaa\">]>\n<ASSET_DATA_REPORT>&a;</ASSET_DATA_REPORT>";
        assert!(
            parse_report(bomb).is_err(),
            "internal subset reached the parser"
        );
        assert!(parse_report(SAMPLE).is_ok(), "the real sample still parses");
        let dir = tempfile::tempdir().expect("dir");
        let big = dir.path().join("report.xml");
        let f = std::fs::File::create(&big).expect("file");
        f.set_len(MAX_XML_REPORT + 1).expect("sparse file");
        assert!(!readable_size(&big));
        let small = dir.path().join("small.xml");
        std::fs::write(&small, SAMPLE).expect("write");
        assert!(readable_size(&small));
    }
}
