//! Streaming reader of Qualys raw scan results (`scan/?action=fetch`, `output_format=json`).
//!
//! The body is one JSON array: scan metadata objects first, then one object per finding
//! (it has a `qid`), then a `target_distribution_across_scanner_appliances` object. The
//! array is read one element at a time from a buffered file, so memory holds only the
//! current element and the compact rows of [`crate::actions::model`]: long texts (threat,
//! impact, solution, results) are skipped by the parser without being stored. Fields may
//! be absent, null, or numbers given as strings.

use super::error::ActionError;
use super::flex::Flex;
use super::model::{parse_number, parse_port, parse_severity, Finding, Findings, ScanMeta};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::Ipv4Addr;
use std::path::Path;

/// One element of the array, finding or metadata: only the fields baseliner uses; all
/// others are skipped unread.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Element {
    ip: Flex,
    dns: Flex,
    netbios: Flex,
    os: Flex,
    qid: Flex,
    title: Flex,
    #[serde(rename = "type")]
    kind: Flex,
    severity: Flex,
    port: Flex,
    protocol: Flex,
    cve_id: Flex,
    first_found: Flex,
    reference: Flex,
    scan_title: Flex,
    launch_date: Flex,
    duration: Flex,
    status: Flex,
    ips: Flex,
    excluded_ips: Flex,
    active_hosts: Flex,
    total_hosts: Flex,
}

/// Reads `path` (raw results JSON) into compact findings.
pub fn read_results(path: &Path) -> Result<Findings, ActionError> {
    let file = File::open(path).map_err(|e| ActionError::io(path, e))?;
    read_results_from(BufReader::with_capacity(256 * 1024, file)).map_err(|message| {
        ActionError::Json {
            path: path.to_path_buf(),
            message,
        }
    })
}

/// Reads raw results JSON from `reader`; the error is the parser's message.
pub fn read_results_from<R: Read>(reader: R) -> Result<Findings, String> {
    let mut out = Findings::default();
    let mut de = serde_json::Deserializer::from_reader(reader);
    de.deserialize_seq(ArrayVisitor { out: &mut out })
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Visits the top-level array, handing each element to [`absorb`] as it is read.
struct ArrayVisitor<'a> {
    out: &'a mut Findings,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of scan metadata and findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        loop {
            let el = seq
                .next_element::<Element>()
                .map_err(|e| de::Error::custom(format!("element {index}: {e}")))?;
            match el {
                Some(el) => absorb(self.out, el),
                None => return Ok(()),
            }
            index += 1;
        }
    }
}

/// Adds one element: a finding when it has a QID, else metadata.
fn absorb(out: &mut Findings, el: Element) {
    if el.qid.0.as_deref().is_some_and(|q| !q.trim().is_empty()) {
        let s = &mut out.strings;
        let ip = el.ip.as_str().trim();
        out.rows.push(Finding {
            ip: s.intern(ip),
            ipv4: ip.parse::<Ipv4Addr>().ok(),
            dns: s.intern(el.dns.as_str()),
            netbios: s.intern(el.netbios.as_str()),
            os: s.intern(el.os.as_str()),
            qid: parse_number(el.qid.as_str())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            title: s.intern(el.title.as_str()),
            kind: s.intern(el.kind.as_str()),
            severity: parse_severity(el.severity.as_str()),
            port: parse_port(el.port.as_str()),
            protocol: s.intern(el.protocol.as_str()),
            cve_ids: s.intern(el.cve_id.as_str()),
            first_found: s.intern(el.first_found.as_str()),
        });
    } else {
        merge_meta(&mut out.meta, el);
    }
}

/// Keeps the first non-empty value of each metadata field.
fn merge_meta(m: &mut ScanMeta, el: Element) {
    fn set(slot: &mut Option<String>, v: Flex) {
        if slot.is_none() {
            *slot = v.0.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        }
    }
    set(&mut m.reference, el.reference);
    set(&mut m.title, el.scan_title);
    set(&mut m.launch_date, el.launch_date);
    set(&mut m.duration, el.duration);
    set(&mut m.status, el.status);
    set(&mut m.target, el.ips);
    set(&mut m.excluded, el.excluded_ips);
    if m.active_hosts.is_none() {
        m.active_hosts = parse_number(el.active_hosts.as_str());
    }
    if m.total_hosts.is_none() {
        m.total_hosts = parse_number(el.total_hosts.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn parse(json: &str) -> Result<Findings, String> {
        read_results_from(json.as_bytes())
    }

    /// A results file as Qualys documents it: two metadata objects, findings, trailer.
    fn generated(n: usize) -> String {
        let mut s = String::from("[\n");
        s.push_str(r#"{"username":"u","company":"C","result_date":"03/01/2024 10:00:00"},"#);
        s.push_str(r#"{"launch_date":"03/01/2024 09:00:00","active_hosts":"2","total_hosts":"4","status":"Finished","reference":"scan/1709280000.12345","duration":"00:10:05","scan_title":"T","ips":"10.0.0.1-10.0.0.4","excluded_ips":""},"#);
        for i in 0..n {
            s.push_str(&format!(
                r#"{{"ip":"10.0.0.{}","dns":"h{i}","netbios":"","os":"Linux","qid":"{}","title":"Vuln {i}","type":"Vuln","severity":"{}","port":"443","protocol":"tcp","ssl":"yes","cve_id":"CVE-2024-{i}","cvss_base":"5.0","threat":"{}","impact":"x","solution":"y","results":"z"}},"#,
                1 + i % 2,
                1000 + i,
                1 + i % 5,
                "long text ".repeat(50)
            ));
        }
        s.push_str(
            r#"{"target_distribution_across_scanner_appliances":"External : 10.0.0.1-10.0.0.4"}]"#,
        );
        s
    }

    #[test]
    fn reads_metadata_findings_and_trailer_from_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("results.json");
        std::fs::File::create(&p)
            .and_then(|mut f| f.write_all(generated(7).as_bytes()))
            .expect("write results");
        let f = read_results(&p).expect("parses");
        assert_eq!(f.rows.len(), 7);
        assert_eq!(f.meta.reference.as_deref(), Some("scan/1709280000.12345"));
        assert_eq!(f.meta.duration.as_deref(), Some("00:10:05"));
        assert_eq!(f.meta.target.as_deref(), Some("10.0.0.1-10.0.0.4"));
        assert_eq!(f.meta.active_hosts, Some(2));
        assert_eq!(f.meta.total_hosts, Some(4));
        assert_eq!(f.meta.excluded, None);
        let r = f.rows[3];
        assert_eq!(f.strings.get(r.ip), "10.0.0.2");
        assert_eq!(r.ipv4, Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(r.qid, 1003);
        assert_eq!(r.severity, 4);
        assert_eq!(r.port, Some(443));
        assert_eq!(f.strings.get(r.title), "Vuln 3");
        assert_eq!(f.strings.get(r.cve_ids), "CVE-2024-3");
        // The long threat text is not stored anywhere.
        assert!((0..f.strings.len() as u32).all(|i| !f.strings.get(i).contains("long text")));
    }

    #[test]
    fn tolerates_missing_fields_numbers_and_nulls() {
        let f = parse(
            r#"[{"a":1},{"b":2},
            {"qid": 38173, "severity": 5, "port": 25, "ip": "1.2.3.4"},
            {"qid": "11", "severity": null, "port": null, "title": null, "cve_id": ["CVE-1","CVE-2"]},
            {"target_distribution_across_scanner_appliances": "x"}]"#,
        )
        .expect("tolerant parse");
        assert_eq!(f.rows.len(), 2);
        assert_eq!(
            (f.rows[0].qid, f.rows[0].severity, f.rows[0].port),
            (38173, 5, Some(25))
        );
        assert_eq!(
            (f.rows[1].qid, f.rows[1].severity, f.rows[1].port),
            (11, 0, None)
        );
        assert_eq!(f.strings.get(f.rows[1].ip), "");
        assert_eq!(f.strings.get(f.rows[1].cve_ids), "CVE-1,CVE-2");
    }

    #[test]
    fn no_findings_is_not_an_error() {
        let f = parse(r#"[{"x":"y"},{"active_hosts":0,"ips":"10.0.0.9"},{"target_distribution_across_scanner_appliances":""}]"#)
            .expect("parses");
        assert!(f.rows.is_empty());
        assert_eq!(f.meta.active_hosts, Some(0));
        assert!(parse("[]").expect("empty array").rows.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{\"not\":\"array\"}",
            "<?xml version=\"1.0\"?><SIMPLE_RETURN/>",
            "[{\"qid\":\"1\"},",
            "[{\"qid\":\"1\"}] trailing",
            "[1, 2]",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        let e = parse("[{\"qid\":\"1\"}, 5]").expect_err("a number is no element");
        assert!(e.contains("element 1"), "{e}");
    }
}
