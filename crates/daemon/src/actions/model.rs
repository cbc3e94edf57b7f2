//! The compact in-memory form of findings, shared by both parsers and every writer.
//!
//! Memory bound: each finding is one [`Finding`] row of fixed size (72 bytes: twelve
//! 4-byte string symbols, the address, QID, port, severity and where its long texts are)
//! plus the distinct strings it refers to, each stored once in the [`Interner`] and cut to
//! [`MAX_FIELD_CHARS`] characters. Long free text (threat, impact, solution, results) is
//! not kept: a row records where it is ([`Finding::detail`]: the byte offset of the element
//! in `results.json`), and `findings.csv` reads it back one row at a time ([`Detail`]). A
//! 1 GiB results file of ~1 KiB findings therefore needs roughly 70 MB, whatever the length
//! of the texts.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::rc::Rc;

/// Longest kept value of a short field (title, DNS name, OS, CVE list…), in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// A string stored once in an [`Interner`].
pub type Sym = u32;

/// Stores each distinct string once and hands out small [`Sym`] handles.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Rc<str>, Sym>,
    strings: Vec<Rc<str>>,
}

impl Interner {
    /// An interner holding only the empty string (symbol 0).
    pub fn new() -> Interner {
        let mut i = Interner::default();
        i.intern("");
        i
    }

    /// The symbol of `s` cut to [`MAX_FIELD_CHARS`] characters and trimmed.
    pub fn intern(&mut self, s: &str) -> Sym {
        let s = truncate_chars(s.trim(), MAX_FIELD_CHARS);
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Sym::try_from(self.strings.len()).unwrap_or(Sym::MAX);
        let rc: Rc<str> = Rc::from(s);
        self.strings.push(Rc::clone(&rc));
        self.ids.insert(rc, id);
        id
    }

    /// The text of `sym` (empty for an unknown symbol).
    pub fn get(&self, sym: Sym) -> &str {
        self.strings.get(sym as usize).map_or("", |s| s)
    }

    /// How many distinct strings are stored.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when only the empty string is stored.
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }
}

/// `s` cut to at most `max` characters (on a character boundary).
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// One finding, compact: short fields are [`Sym`]s into the owning [`Findings::strings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// The host's address as text.
    pub ip: Sym,
    /// The address, when it is IPv4 (used for numeric ordering).
    pub ipv4: Option<Ipv4Addr>,
    /// DNS name.
    pub dns: Sym,
    /// NetBIOS name.
    pub netbios: Sym,
    /// Operating system.
    pub os: Sym,
    /// Qualys ID (0 when it did not parse).
    pub qid: u32,
    /// Title.
    pub title: Sym,
    /// `Vuln`, `Potential Vuln`, `Ig`, `Practice`…
    pub kind: Sym,
    /// Severity 1–5, 0 when unknown.
    pub severity: u8,
    /// Port, when the finding has one.
    pub port: Option<u16>,
    /// `tcp`, `udp`, `icmp`…
    pub protocol: Sym,
    /// CVE ids, comma-separated.
    pub cve_ids: Sym,
    /// When Qualys first found it.
    pub first_found: Sym,
    /// CVSS v2 base score, as Qualys wrote it.
    pub cvss_base: Sym,
    /// CVSS v3 base score, as Qualys wrote it.
    pub cvss3_base: Sym,
    /// `yes`/`no`: counts against PCI compliance.
    pub pci_vuln: Sym,
    /// Where its long texts are (see [`Details`]); [`NO_DETAIL`] when nowhere.
    pub detail: u64,
}

/// [`Finding::detail`] of a finding without long texts.
pub const NO_DETAIL: u64 = u64::MAX;

/// What kind of record a finding is, from its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A confirmed vulnerability (`Vuln`).
    Vuln,
    /// A potential vulnerability (`Potential Vuln`; `Practice` in reports).
    Potential,
    /// Information gathered (`Ig`, e.g. "Host Scan Time"): not a vulnerability.
    Info,
}

impl Class {
    /// The class of a record whose type is `kind` (anything unknown counts as a
    /// vulnerability, so that nothing is hidden).
    pub fn of(kind: &str) -> Class {
        let k = kind.trim().to_ascii_lowercase();
        if k == "ig" || k.starts_with("info") {
            Class::Info
        } else if k.contains("potential") || k == "practice" {
            Class::Potential
        } else {
            Class::Vuln
        }
    }
}

/// The long texts of one finding, read only while `findings.csv` is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// What the vulnerability is.
    pub threat: String,
    /// What exploiting it does.
    pub impact: String,
    /// How to fix it.
    pub solution: String,
    /// What the scanner saw (the whole text; writers keep the first line).
    pub result: String,
}

/// Where the rows' long texts are.
#[derive(Debug, Default)]
pub enum Details {
    /// Nowhere.
    #[default]
    None,
    /// In this raw results file, at each row's byte offset.
    Results(std::path::PathBuf),
    /// In memory, at each row's index (a report is read whole anyway).
    Inline(Vec<Detail>),
}

/// Facts about the scan itself, from the results' metadata or the report's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanMeta {
    /// Scan reference (`scan/…`).
    pub reference: Option<String>,
    /// Scan title.
    pub title: Option<String>,
    /// Launch date-time.
    pub launch_date: Option<String>,
    /// Duration as Qualys gives it (`HH:MM:SS`).
    pub duration: Option<String>,
    /// Scan status (`Finished`…).
    pub status: Option<String>,
    /// The scanned target, in Qualys's list syntax (`a.b.c.d-a.b.c.e, …`).
    pub target: Option<String>,
    /// Addresses Qualys excluded.
    pub excluded: Option<String>,
    /// Number of hosts Qualys found alive.
    pub active_hosts: Option<u64>,
    /// Number of hosts in the target.
    pub total_hosts: Option<u64>,
    /// Hosts listed by a report (alive even without findings).
    pub listed_hosts: Vec<String>,
    /// True when the results carried the extended metadata (json_extended, §6.4).
    pub extended: bool,
    /// Every other top-level object's scalar fields (the host-coverage lists such as
    /// `hosts_not_scanned_host_not_alive_ip`), at most [`MAX_EXTRA`].
    pub extra: Vec<(String, String)>,
}

impl ScanMeta {
    /// When the scan was launched, from `launch_date` (RFC 3339, or Qualys's
    /// `MM/DD/YYYY HH:MM:SS`).
    pub fn launched_at(&self) -> Option<baseliner_core::time::Timestamp> {
        parse_date(self.launch_date.as_deref()?)
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` or `MM/DD/YYYY HH:MM:SS` (also `… at HH:MM:SS`).
pub fn parse_date(text: &str) -> Option<baseliner_core::time::Timestamp> {
    use baseliner_core::time::Timestamp;
    let t = text.trim();
    if let Some(ts) = Timestamp::parse_rfc3339(t) {
        return Some(ts);
    }
    let (date, time) = t.split_once(' ')?;
    let time = time.trim().trim_start_matches("at").trim();
    let mut d = date.split('/');
    let (m, day, y) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || m.len() != 2 || day.len() != 2 || y.len() != 4 {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{y}-{m}-{day}T{time}Z"))
}

/// How many unknown metadata fields are kept.
pub const MAX_EXTRA: usize = 256;

/// Everything read from one results file or report.
#[derive(Debug)]
pub struct Findings {
    /// Scan facts.
    pub meta: ScanMeta,
    /// The findings (vulnerabilities and potential ones), in file order until
    /// [`Findings::sort`].
    pub rows: Vec<Finding>,
    /// The information-gathered records (`Ig`), kept out of the findings and counts.
    pub info: Vec<Finding>,
    /// Records without a severity (brief mode results): counted, never as severity 0.
    pub unknown_severity: u64,
    /// The strings the rows refer to.
    pub strings: Interner,
    /// Where the long texts are.
    pub details: Details,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            meta: ScanMeta::default(),
            rows: Vec::new(),
            info: Vec::new(),
            unknown_severity: 0,
            strings: Interner::new(),
            details: Details::None,
        }
    }
}

impl Findings {
    /// Adds a record: information gathered to [`Findings::info`], the rest to the rows.
    pub fn push(&mut self, f: Finding) {
        match self.class(&f) {
            Class::Info => self.info.push(f),
            _ => {
                if f.severity == 0 {
                    self.unknown_severity += 1;
                }
                self.rows.push(f)
            }
        }
    }

    /// The class of `f`.
    pub fn class(&self, f: &Finding) -> Class {
        Class::of(self.strings.get(f.kind))
    }

    /// Sorts worst first: severity descending, then address (numeric, non-IPv4 last), QID,
    /// port, protocol and title, so that the order is total and the output repeatable.
    pub fn sort(&mut self) {
        let s = &self.strings;
        let order = |a: &Finding, b: &Finding| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| ip_order(a).cmp(&ip_order(b)))
                .then_with(|| s.get(a.ip).cmp(s.get(b.ip)))
                .then_with(|| a.qid.cmp(&b.qid))
                .then_with(|| a.port.cmp(&b.port))
                .then_with(|| s.get(a.protocol).cmp(s.get(b.protocol)))
                .then_with(|| s.get(a.title).cmp(s.get(b.title)))
                .then_with(|| s.get(a.kind).cmp(s.get(b.kind)))
                .then_with(|| s.get(a.dns).cmp(s.get(b.dns)))
                .then_with(|| s.get(a.cve_ids).cmp(s.get(b.cve_ids)))
                .then_with(|| s.get(a.first_found).cmp(s.get(b.first_found)))
                .then_with(|| a.detail.cmp(&b.detail))
        };
        self.rows.sort_unstable_by(order);
        self.info.sort_unstable_by(order);
    }
}

/// IPv4 addresses first, in numeric order.
fn ip_order(f: &Finding) -> (bool, u32) {
    match f.ipv4 {
        Some(a) => (false, u32::from(a)),
        None => (true, 0),
    }
}

/// A finding's identity across scans: address, QID and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The IPv4 address, or a hash of the text with the top bit set.
    pub ip: u64,
    /// Qualys ID.
    pub qid: u32,
    /// The port, or `u32::MAX` when the finding has none.
    pub port: u32,
}

impl Key {
    /// The key of a finding given as text fields.
    pub fn from_text(ip: &str, qid: u32, port: Option<u16>) -> Key {
        let ip = ip.trim();
        let ip = match ip.parse::<Ipv4Addr>() {
            Ok(a) => u64::from(u32::from(a)),
            Err(_) => baseliner_core::hash::fnv1a(ip.as_bytes()) | (1 << 63),
        };
        Key {
            ip,
            qid,
            port: port.map_or(u32::MAX, u32::from),
        }
    }

    /// The key of a row.
    pub fn of(f: &Finding, strings: &Interner) -> Key {
        Key::from_text(strings.get(f.ip), f.qid, f.port)
    }
}

/// A set of [`Key`]s as one sorted vector: 16 bytes a key (a hash set needs about twice
/// that), so the baseline delta of a million findings stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet(Vec<Key>);

impl KeySet {
    /// The set of `keys` (in any order, duplicates allowed).
    pub fn new(mut keys: Vec<Key>) -> KeySet {
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        KeySet(keys)
    }

    /// True when `key` is in the set.
    pub fn contains(&self, key: &Key) -> bool {
        self.0.binary_search(key).is_ok()
    }

    /// The position of `key` in the set (0 to `len - 1`), when it is there.
    pub fn index_of(&self, key: &Key) -> Option<usize> {
        self.0.binary_search(key).ok()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.0.iter()
    }
}

/// Parses a severity given as text; 0 when absent or outside 1–5.
pub fn parse_severity(s: &str) -> u8 {
    match parse_number(s) {
        Some(n @ 1..=5) => n as u8,
        _ => 0,
    }
}

/// Parses a whole number given as text (`"5"`, `" 5 "`, `"5.0"`).
pub fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    s.parse::<u64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f >= 0.0 && f <= u32::MAX as f64).then_some(f as u64)
    })
}

/// Parses a port: `None` when absent, empty, 0 or not a port number.
pub fn parse_port(s: &str) -> Option<u16> {
    parse_number(s)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_stores_once_and_truncates() {
        let mut i = Interner::new();
        let a = i.intern("abc");
        let b = i.intern(" abc ");
        assert_eq!(a, b);
        assert_eq!(i.len(), 2);
        let long = "é".repeat(300);
        let s = i.intern(&long);
        assert_eq!(i.get(s).chars().count(), MAX_FIELD_CHARS);
        assert_eq!(i.get(999), "");
    }

    #[test]
    fn numbers_given_as_text_parse() {
        assert_eq!(parse_severity("5"), 5);
        assert_eq!(parse_severity(" 4.0 "), 4);
        assert_eq!(parse_severity("9"), 0);
        assert_eq!(parse_severity("high"), 0);
        assert_eq!(parse_port("443"), Some(443));
        assert_eq!(parse_port(""), None);
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("70000"), None);
    }

    #[test]
    fn scan_dates_in_both_forms() {
        let a = parse_date("2024-03-01T09:00:00Z").expect("rfc3339");
        assert_eq!(parse_date("03/01/2024 09:00:00"), Some(a));
        assert_eq!(parse_date("03/01/2024 at 09:00:00"), Some(a));
        assert_eq!(parse_date("3/1/2024 09:00:00"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("13/01/2024 09:00:00"), None);
    }

    #[test]
    fn record_types_are_classified() {
        assert_eq!(Class::of("Vuln"), Class::Vuln);
        assert_eq!(Class::of("Potential Vuln"), Class::Potential);
        assert_eq!(Class::of("Practice"), Class::Potential);
        assert_eq!(Class::of("Ig"), Class::Info);
        assert_eq!(Class::of(" IG "), Class::Info);
        assert_eq!(Class::of(""), Class::Vuln);
        assert_eq!(std::mem::size_of::<Finding>(), 72);
    }

    #[test]
    fn key_sets_sort_dedupe_and_find() {
        let k = |n: u32| Key::from_text("10.0.0.1", n, None);
        let set = KeySet::new(vec![k(3), k(1), k(3), k(2)]);
        assert_eq!(set.len(), 3);
        assert!(set.contains(&k(2)) && !set.contains(&k(4)));
        assert_eq!(set.index_of(&k(3)), Some(2));
        assert_eq!(set.index_of(&k(9)), None);
        assert!(KeySet::default().is_empty());
    }

    #[test]
    fn keys_match_between_text_and_rows() {
        let a = Key::from_text("10.0.0.1", 5, Some(80));
        assert_eq!(a, Key::from_text(" 10.0.0.1", 5, Some(80)));
        assert_ne!(a, Key::from_text("10.0.0.1", 5, None));
        let v6 = Key::from_text("::1", 5, None);
        assert!(v6.ip >= 1 << 63);
    }
}
