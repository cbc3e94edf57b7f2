//! The compact in-memory form of findings, shared by both parsers and every writer.
//!
//! Memory bound: each finding is one [`Finding`] row of fixed size (about 56 bytes: nine
//! 4-byte string symbols, the address, QID, port and severity) plus the distinct strings it
//! refers to, each stored once in the [`Interner`] and cut to [`MAX_FIELD_CHARS`] characters.
//! Long free text (threat, impact, solution, results) is never kept. A 1 GiB results file of
//! ~1 KiB findings therefore needs roughly 60 MB, whatever the length of the dropped texts.

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
    /// When Qualys first found it (report only).
    pub first_found: Sym,
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
}

/// Everything read from one results file or report.
#[derive(Debug)]
pub struct Findings {
    /// Scan facts.
    pub meta: ScanMeta,
    /// The findings, in file order until [`Findings::sort`].
    pub rows: Vec<Finding>,
    /// The strings the rows refer to.
    pub strings: Interner,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            meta: ScanMeta::default(),
            rows: Vec::new(),
            strings: Interner::new(),
        }
    }
}

impl Findings {
    /// Sorts worst first: severity descending, then address (numeric, non-IPv4 last), QID,
    /// port, protocol and title, so that the order is total and the output repeatable.
    pub fn sort(&mut self) {
        let s = &self.strings;
        self.rows.sort_unstable_by(|a, b| {
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
        });
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
            Err(_) => fnv1a(ip.as_bytes()) | (1 << 63),
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

/// A stable 64-bit hash (FNV-1a), so keys do not depend on a random seed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
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
    fn keys_match_between_text_and_rows() {
        let a = Key::from_text("10.0.0.1", 5, Some(80));
        assert_eq!(a, Key::from_text(" 10.0.0.1", 5, Some(80)));
        assert_ne!(a, Key::from_text("10.0.0.1", 5, None));
        let v6 = Key::from_text("::1", 5, None);
        assert!(v6.ip >= 1 << 63);
    }
}
