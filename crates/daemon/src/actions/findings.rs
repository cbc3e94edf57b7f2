//! Streaming reader of Qualys raw scan results (`scan/?action=fetch`), in the shapes of
//! §6.4 of `shared/qualys-api.md`: `json` (brief: no severity, title or port) and
//! `json_extended` with `mode=extended`.
//!
//! The body is one JSON array: scan metadata objects first (`launch_date`, `active_hosts`,
//! `total_hosts`, `type`, `status`, `reference`, `scanner_appliance`, `duration`,
//! `scan_title`, `asset_groups`, `ips`, `excluded_ips`, `option_profile`), then one object
//! per record (it has a `qid`), then host-coverage objects (e.g.
//! `hosts_not_scanned_host_not_alive_ip`; the set is not documented, so every unknown field
//! of a non-record object is kept in [`ScanMeta::extra`]) and last
//! `target_distribution_across_scanner_appliances`. The array is read one element at a time
//! from a buffered file, so memory holds only the current element and the compact rows of
//! [`crate::actions::model`]: long texts (threat, impact, solution, results) are skipped
//! and each row keeps the byte offset of its element instead, from which [`DetailReader`]
//! reads them back while `findings.csv` is written. Fields may be absent, null, lists, or
//! numbers given as strings. Records without a severity are counted as unknown, never 0.

use super::error::ActionError;
use super::flex::Flex;
use super::model::{
    parse_number, parse_port, parse_severity, Detail, Details, Finding, Findings, ScanMeta,
    MAX_EXTRA, NO_DETAIL,
};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::Ipv4Addr;
use std::path::Path;
use std::rc::Rc;

/// Longest kept value of an unknown metadata field (a host list), in characters.
const MAX_EXTRA_CHARS: usize = 1 << 20;

/// Documented fields baseliner does not use: skipped unread (not kept as extra).
const UNUSED: &[&str] = &[
    "username",
    "company",
    "add1",
    "add2",
    "city",
    "state",
    "zip",
    "country",
    "name",
    "scan_report_template_title",
    "result_date",
    "scanner_appliance",
    "asset_groups",
    "option_profile",
    "ip_status",
    "fqdn",
    "ssl",
    "vendor_reference",
    "bugtraq_id",
    "exploitability",
    "associated_malware",
    "instance",
    "category",
    "threat",
    "impact",
    "solution",
    "results",
    "cvss_temporal",
    "cvss3_temporal",
    "target_distribution_across_scanner_appliances",
];

/// One element of the array, record or metadata: the fields baseliner uses, and the
/// unknown ones (kept only when the element is not a record).
#[derive(Debug, Default)]
struct Element {
    ip: Flex,
    dns: Flex,
    netbios: Flex,
    os: Flex,
    qid: Flex,
    title: Flex,
    kind: Flex,
    severity: Flex,
    port: Flex,
    protocol: Flex,
    cve_id: Flex,
    first_found: Flex,
    cvss_base: Flex,
    cvss3_base: Flex,
    pci_vuln: Flex,
    reference: Flex,
    scan_title: Flex,
    launch_date: Flex,
    duration: Flex,
    status: Flex,
    ips: Flex,
    excluded_ips: Flex,
    active_hosts: Flex,
    total_hosts: Flex,
    extra: Vec<(String, String)>,
}

impl Element {
    /// The slot of a known field.
    fn slot(&mut self, key: &str) -> Option<&mut Flex> {
        Some(match key {
            "ip" => &mut self.ip,
            "dns" => &mut self.dns,
            "netbios" => &mut self.netbios,
            "os" => &mut self.os,
            "qid" => &mut self.qid,
            "title" => &mut self.title,
            "type" => &mut self.kind,
            "severity" => &mut self.severity,
            "port" => &mut self.port,
            "protocol" => &mut self.protocol,
            "cve_id" => &mut self.cve_id,
            "first_found" => &mut self.first_found,
            "cvss_base" => &mut self.cvss_base,
            "cvss3_base" => &mut self.cvss3_base,
            "pci_vuln" => &mut self.pci_vuln,
            "reference" => &mut self.reference,
            "scan_title" => &mut self.scan_title,
            "launch_date" => &mut self.launch_date,
            "duration" => &mut self.duration,
            "status" => &mut self.status,
            "ips" => &mut self.ips,
            "excluded_ips" => &mut self.excluded_ips,
            "active_hosts" => &mut self.active_hosts,
            "total_hosts" => &mut self.total_hosts,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        d.deserialize_map(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object (scan metadata or a finding)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut el = Element::default();
        while let Some(key) = map.next_key::<KeyName>()? {
            match key {
                KeyName::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
                KeyName::Other(name) => {
                    if let Some(slot) = el.slot(&name) {
                        *slot = map.next_value::<Flex>()?;
                    } else {
                        let v = map.next_value::<Flex>()?;
                        if el.extra.len() < MAX_EXTRA {
                            if let Some(v) = v.0 {
                                let v = super::model::truncate_chars(&v, MAX_EXTRA_CHARS);
                                el.extra.push((name, v.to_owned()));
                            }
                        }
                    }
                }
            }
        }
        Ok(el)
    }
}

/// A field name: documented and unused ([`UNUSED`]) or anything else.
enum KeyName {
    Skip,
    Other(String),
}

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyName, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(if UNUSED.contains(&v) {
                    KeyName::Skip
                } else {
                    KeyName::Other(v.to_owned())
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Reads `path` (raw results JSON) into compact findings whose long texts stay in the
/// file ([`Details::Results`]).
pub fn read_results(path: &Path) -> Result<Findings, ActionError> {
    let file = File::open(path).map_err(|e| ActionError::io(path, e))?;
    let mut f =
        read_results_from(BufReader::with_capacity(256 * 1024, file)).map_err(|message| {
            ActionError::Json {
                path: path.to_path_buf(),
                message,
            }
        })?;
    f.details = Details::Results(path.to_path_buf());
    Ok(f)
}

/// Reads raw results JSON from `reader`; the error is the parser's message. Each row's
/// [`Finding::detail`] is the byte offset, in `reader`, where its element's text starts
/// (after the preceding `,`/whitespace, see [`DetailReader`]).
pub fn read_results_from<R: Read>(reader: R) -> Result<Findings, String> {
    let mut out = Findings::default();
    let pos = Rc::new(Cell::new(0u64));
    let counted = Counting {
        inner: reader,
        pos: Rc::clone(&pos),
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    de.deserialize_seq(ArrayVisitor { out: &mut out, pos })
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    pos: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

/// Visits the top-level array, handing each element to [`absorb`] as it is read.
struct ArrayVisitor<'a> {
    out: &'a mut Findings,
    pos: Rc<Cell<u64>>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of scan metadata and findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        loop {
            // serde_json reads byte by byte and has nothing peeked between elements.
            let at = self.pos.get();
            let el = seq
                .next_element::<Element>()
                .map_err(|e| de::Error::custom(format!("element {index}: {e}")))?;
            match el {
                Some(el) => absorb(self.out, el, at),
                None => return Ok(()),
            }
            index += 1;
        }
    }
}

/// Adds one element: a record when it has a QID, else metadata.
fn absorb(out: &mut Findings, el: Element, at: u64) {
    if el.qid.0.as_deref().is_some_and(|q| !q.trim().is_empty()) {
        let s = &mut out.strings;
        let ip = el.ip.as_str().trim();
        let row = Finding {
            ip: s.intern(ip),
            ipv4: ip.parse::<Ipv4Addr>().ok(),
            dns: s.intern(el.dns.as_str()),
            netbios: s.intern(el.netbios.as_str()),
            os: s.intern(el.os.as_str()),
            qid: parse_number(el.qid.as_str())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            title: s.intern(&super::kb_text::plain_text(el.title.as_str())),
            kind: s.intern(el.kind.as_str()),
            severity: parse_severity(el.severity.as_str()),
            port: parse_port(el.port.as_str()),
            protocol: s.intern(el.protocol.as_str()),
            cve_ids: s.intern(el.cve_id.as_str()),
            first_found: s.intern(el.first_found.as_str()),
            cvss_base: s.intern(el.cvss_base.as_str()),
            cvss3_base: s.intern(el.cvss3_base.as_str()),
            pci_vuln: s.intern(el.pci_vuln.as_str()),
            detail: at,
        };
        out.push(row);
    } else {
        merge_meta(&mut out.meta, el);
    }
}

/// Keeps the first non-empty value of each metadata field, and the unknown fields.
fn merge_meta(m: &mut ScanMeta, el: Element) {
    fn set(slot: &mut Option<String>, v: Flex) {
        if slot.is_none() {
            *slot = v.0.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        }
    }
    if el.reference.0.is_some() || el.ips.0.is_some() || el.launch_date.0.is_some() {
        m.extended = true;
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
    for kv in el.extra {
        if m.extra.len() < MAX_EXTRA {
            m.extra.push(kv);
        }
    }
}

/// The long texts of one element, read back by [`DetailReader`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DetailElement {
    threat: Flex,
    impact: Flex,
    solution: Flex,
    results: Flex,
}

/// Reads rows' long texts back from the results file, one element at a time.
pub struct DetailReader {
    input: BufReader<File>,
}

impl DetailReader {
    /// A reader of `path`.
    pub fn open(path: &Path) -> std::io::Result<DetailReader> {
        Ok(DetailReader {
            input: BufReader::with_capacity(4 * 1024, File::open(path)?),
        })
    }

    /// The texts of the element whose text starts at `offset` (after optional
    /// whitespace and one comma).
    pub fn read(&mut self, offset: u64) -> Result<Detail, String> {
        self.input
            .seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let mut comma = false;
        loop {
            let buf = self.input.fill_buf().map_err(|e| e.to_string())?;
            let Some(&b) = buf.first() else {
                return Err(format!("offset {offset}: end of file"));
            };
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.input.consume(1),
                b',' if !comma => {
                    comma = true;
                    self.input.consume(1);
                }
                _ => break,
            }
        }
        let mut de = serde_json::Deserializer::from_reader(&mut self.input);
        let d = DetailElement::deserialize(&mut de).map_err(|e| format!("offset {offset}: {e}"))?;
        Ok(Detail {
            threat: d.threat.0.unwrap_or_default(),
            impact: d.impact.0.unwrap_or_default(),
            solution: d.solution.0.unwrap_or_default(),
            result: d.results.0.unwrap_or_default(),
        })
    }
}

/// The long texts of row `f` of `all`, from wherever they are; empty when nowhere.
pub fn detail_of(
    all: &Findings,
    reader: &mut Option<DetailReader>,
    f: &Finding,
) -> Result<Detail, ActionError> {
    if f.detail == NO_DETAIL {
        return Ok(Detail::default());
    }
    match &all.details {
        Details::None => Ok(Detail::default()),
        Details::Inline(v) => Ok(usize::try_from(f.detail)
            .ok()
            .and_then(|i| v.get(i))
            .cloned()
            .unwrap_or_default()),
        Details::Results(path) => {
            if reader.is_none() {
                *reader = Some(DetailReader::open(path).map_err(|e| ActionError::io(path, e))?);
            }
            match reader.as_mut() {
                Some(r) => r.read(f.detail).map_err(|message| ActionError::Json {
                    path: path.clone(),
                    message,
                }),
                None => Ok(Detail::default()),
            }
        }
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
    fn long_texts_are_read_back_from_their_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("results.json");
        let json = "[ {\"ips\":\"10.0.0.1\"} ,\n{\"qid\":\"1\",\"severity\":\"5\",\"type\":\"Vuln\",\"threat\":\"T1\",\"impact\":\"I1\",\"solution\":\"S1\",\"results\":\"line one\\nline two\",\"cvss_base\":\"7.5\",\"pci_vuln\":\"yes\"},{\"qid\":\"2\",\"solution\":\"S, \\\"2\\\"\",\"type\":\"Ig\"}\t,  {\"qid\":3,\"threat\":{\"nested\":1}}]";
        std::fs::write(&p, json).expect("write");
        let f = read_results(&p).expect("parses");
        assert_eq!(f.rows.len(), 2);
        assert_eq!(
            f.info.len(),
            1,
            "the Ig record is information, not a finding"
        );
        assert_eq!(f.unknown_severity, 1, "qid 3 has no severity");
        assert!(f.meta.extended);
        let mut reader = None;
        let d = detail_of(&f, &mut reader, &f.rows[0]).expect("detail");
        assert_eq!(
            (d.threat.as_str(), d.impact.as_str(), d.solution.as_str()),
            ("T1", "I1", "S1")
        );
        assert_eq!(d.result, "line one\nline two");
        assert_eq!(f.strings.get(f.rows[0].cvss_base), "7.5");
        assert_eq!(f.strings.get(f.rows[0].pci_vuln), "yes");
        let d = detail_of(&f, &mut reader, &f.info[0]).expect("detail");
        assert_eq!(d.solution, "S, \"2\"");
        let d = detail_of(&f, &mut reader, &f.rows[1]).expect("detail");
        assert_eq!(d, Detail::default());
        // An offset that points nowhere useful is an error, not a panic.
        let mut bad = f.rows[0];
        bad.detail = json.len() as u64 + 10;
        assert!(detail_of(&f, &mut reader, &bad).is_err());
    }

    #[test]
    fn unknown_trailing_objects_are_kept_for_coverage() {
        let f = parse(
            r#"[{"reference":"scan/1.1","mystery":"x"},{"qid":"1","unknown_finding_field":"dropped"},
            {"hosts_not_scanned_host_not_alive_ip":"10.0.0.3, 10.0.0.4"},
            {"target_distribution_across_scanner_appliances":"External : 10.0.0.1"}]"#,
        )
        .expect("parses");
        assert_eq!(
            f.meta.extra,
            vec![
                ("mystery".to_string(), "x".to_string()),
                (
                    "hosts_not_scanned_host_not_alive_ip".to_string(),
                    "10.0.0.3, 10.0.0.4".to_string()
                )
            ]
        );
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
