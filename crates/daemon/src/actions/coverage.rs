//! Coverage: what happened to each requested address (`coverage.csv`, and the coverage
//! line that opens both summaries).
//!
//! One row per requested address, `ip,status,findings,max_severity,note`, status:
//!
//! - `excluded` — Qualys excluded it: the results' `excluded_ips`, or a trailing
//!   host-coverage object whose key names exclusion (§6.4);
//! - `scanned` — it has records (findings or information gathered), or it is in the scan's
//!   target, not listed as not alive, and the results carry host-coverage lists or count
//!   the whole target alive (`active_hosts`): 0 findings;
//! - `no_response` — listed in a trailing object whose key says `not_alive` (e.g.
//!   `hosts_not_scanned_host_not_alive_ip`), or without records when every host Qualys
//!   counted alive (`active_hosts`) has records;
//! - `not_scanned` — listed in another `hosts_not_scanned_…` object, or not in the scan's
//!   target at all (dropped by Qualys: not in the subscription, refused), or without
//!   records in the partial results of a scan that ended `Canceled`, `Paused` or `Error`;
//! - `unknown` — nothing says: no machine-readable results (a PDF-only job), or brief
//!   results without host coverage and no record for it. Never guessed.
//!
//! The target is the scan's TARGET when the job's checkpoint knows it, else the results'
//! `ips` metadata. The exact set of coverage keys is undocumented (§6.4 [U]): keys are
//! matched by the words in them, and unknown objects are ignored.

use super::csv::write_record;
use super::error::ActionError;
use super::model::Findings;
use baseliner_core::ip::IpSet;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;

/// The header of `coverage.csv`.
pub const COLUMNS: [&str; 5] = ["ip", "status", "findings", "max_severity", "note"];

/// What happened to one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Reached and assessed.
    Scanned,
    /// In the target, the host did not answer.
    NoResponse,
    /// Excluded by Qualys.
    Excluded,
    /// Requested but not scanned.
    NotScanned,
    /// Nothing says.
    Unknown,
}

impl Status {
    /// The `coverage.csv` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scanned => "scanned",
            Status::NoResponse => "no_response",
            Status::Excluded => "excluded",
            Status::NotScanned => "not_scanned",
            Status::Unknown => "unknown",
        }
    }
}

/// One requested address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The address.
    pub ip: Ipv4Addr,
    /// What happened to it.
    pub status: Status,
    /// Its findings (vulnerabilities and potential ones).
    pub findings: u64,
    /// Its worst known severity (`None`: no finding with a known severity).
    pub max_severity: Option<u8>,
    /// Why, in words.
    pub note: String,
}

/// The coverage of a job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    /// One row per requested address, in address order.
    pub rows: Vec<Row>,
}

impl Coverage {
    /// How many rows have `status`.
    pub fn count(&self, status: Status) -> u64 {
        self.rows.iter().filter(|r| r.status == status).count() as u64
    }

    /// "4 requested · 3 scanned · 1 no response · 0 excluded · 0 not scanned" (and
    /// "· N unknown" when some are).
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} requested · {} scanned · {} no response · {} excluded · {} not scanned",
            self.rows.len(),
            self.count(Status::Scanned),
            self.count(Status::NoResponse),
            self.count(Status::Excluded),
            self.count(Status::NotScanned),
        );
        let unknown = self.count(Status::Unknown);
        if unknown > 0 {
            s.push_str(&format!(" · {unknown} unknown"));
        }
        s
    }

    /// The addresses not covered (every status but `scanned`), grouped by status, as
    /// Qualys list text: `(status, addresses, note of the first)`.
    pub fn not_covered(&self) -> Vec<(Status, String, String)> {
        let mut by: Vec<(Status, Vec<Ipv4Addr>, String)> = Vec::new();
        for r in self.rows.iter().filter(|r| r.status != Status::Scanned) {
            match by.iter_mut().find(|(s, _, _)| *s == r.status) {
                Some((_, ips, _)) => ips.push(r.ip),
                None => by.push((r.status, vec![r.ip], r.note.clone())),
            }
        }
        by.sort_by_key(|(s, _, _)| *s);
        by.into_iter()
            .map(|(s, ips, note)| {
                let set = IpSet::from_ranges(
                    ips.into_iter()
                        .map(baseliner_core::ip::Ipv4Range::single)
                        .collect(),
                );
                (s, set.to_qualys(), note)
            })
            .collect()
    }
}

/// The coverage of the `requested` addresses given the scan's `target` from the checkpoint
/// (when known) and the findings (`None`: no machine-readable results).
pub fn build(requested: &IpSet, target: Option<&IpSet>, findings: Option<&Findings>) -> Coverage {
    let Some(f) = findings else {
        return Coverage {
            rows: addresses(requested)
                .map(|ip| match target {
                    Some(t) if !t.contains(ip) => not_in_target(ip),
                    _ => row(
                        ip,
                        Status::Unknown,
                        "no machine-readable results were downloaded",
                    ),
                })
                .collect(),
        };
    };
    let meta = &f.meta;
    let from_results = meta.target.as_deref().and_then(parse_list);
    let target = target.cloned().or(from_results);
    let mut excluded = meta
        .excluded
        .as_deref()
        .and_then(parse_list)
        .unwrap_or_default();
    let mut not_alive = IpSet::default();
    let mut not_scanned: Vec<(IpSet, String)> = Vec::new();
    for (key, value) in &meta.extra {
        let k = key.to_ascii_lowercase();
        let Some(set) = parse_list(value) else {
            continue;
        };
        if k.contains("exclu") {
            excluded = union(&excluded, &set);
        } else if k.contains("not_alive") || k.contains("dead") || k.contains("no_response") {
            not_alive = union(&not_alive, &set);
        } else if k.contains("not_scanned") {
            not_scanned.push((set, format!("Qualys listed it under {key}")));
        }
    }
    let coverage_listed = !meta.extra.is_empty();
    let mut per_ip: HashMap<Ipv4Addr, (u64, u8)> = HashMap::new();
    for r in &f.rows {
        if let Some(ip) = r.ipv4 {
            let e = per_ip.entry(ip).or_default();
            e.0 += 1;
            e.1 = e.1.max(r.severity);
        }
    }
    for r in &f.info {
        if let Some(ip) = r.ipv4 {
            per_ip.entry(ip).or_default();
        }
    }
    // Qualys's count of alive hosts: when every one of them has records, a host without
    // records did not answer.
    let all_alive_have_records = meta.active_hosts.is_some_and(|n| n <= per_ip.len() as u64);
    // …and when it counts the whole target alive, a host without records answered.
    let all_alive = meta
        .active_hosts
        .zip(target.as_ref())
        .is_some_and(|(n, t)| n > 0 && n >= t.len());
    // A scan that stopped short (Canceled, Paused, Error: partial results, §6.4) says
    // nothing of the addresses it did not reach.
    let stopped_short = meta.status.as_deref().map(str::trim).filter(|s| {
        ["canceled", "cancelled", "paused", "error"]
            .iter()
            .any(|p| s.eq_ignore_ascii_case(p))
    });
    let rows = addresses(requested)
        .map(|ip| {
            if excluded.contains(ip) {
                return row(ip, Status::Excluded, "excluded by Qualys (excluded_ips)");
            }
            if let Some(&(n, max)) = per_ip.get(&ip) {
                let mut r = row(
                    ip,
                    Status::Scanned,
                    if n == 0 {
                        "assessed, no vulnerability found"
                    } else {
                        ""
                    },
                );
                r.findings = n;
                r.max_severity = (max > 0).then_some(max);
                if n > 0 && max == 0 {
                    r.note = "severity unknown (brief results)".to_owned();
                }
                return r;
            }
            if not_alive.contains(ip) {
                return row(
                    ip,
                    Status::NoResponse,
                    "host not alive: it did not answer the scan",
                );
            }
            if let Some((_, note)) = not_scanned.iter().find(|(s, _)| s.contains(ip)) {
                return row(ip, Status::NotScanned, note);
            }
            match &target {
                Some(t) if !t.contains(ip) => not_in_target(ip),
                _ if stopped_short.is_some() => row(
                    ip,
                    Status::NotScanned,
                    &format!(
                        "the scan ended {} without a result for it: probably not reached",
                        stopped_short.unwrap_or_default()
                    ),
                ),
                _ if all_alive_have_records => row(
                    ip,
                    Status::NoResponse,
                    "not among the hosts Qualys found alive (active_hosts)",
                ),
                Some(_) if coverage_listed || all_alive => {
                    row(ip, Status::Scanned, "assessed, no vulnerability found")
                }
                _ => row(
                    ip,
                    Status::Unknown,
                    "no record for it, and the results do not say whether it answered",
                ),
            }
        })
        .collect();
    Coverage { rows }
}

/// The row of an address the scan's target does not hold.
fn not_in_target(ip: Ipv4Addr) -> Row {
    row(
        ip,
        Status::NotScanned,
        "not in the scan's target (not in the subscription, or refused by Qualys)",
    )
}

fn row(ip: Ipv4Addr, status: Status, note: &str) -> Row {
    Row {
        ip,
        status,
        findings: 0,
        max_severity: None,
        note: note.to_owned(),
    }
}

/// The addresses in `a` or `b`.
fn union(a: &IpSet, b: &IpSet) -> IpSet {
    IpSet::from_ranges(a.ranges().iter().chain(b.ranges()).copied().collect())
}

/// Every address of `set`, in order.
fn addresses(set: &IpSet) -> impl Iterator<Item = Ipv4Addr> + '_ {
    set.ranges()
        .iter()
        .flat_map(|r| (u32::from(r.first)..=u32::from(r.last)).map(Ipv4Addr::from))
}

/// Parses Qualys's list text (`a, b-c, d/24`); `None` when empty or any part does not
/// parse.
pub fn parse_list(text: &str) -> Option<IpSet> {
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return None;
    }
    IpSet::parse_entries(&parts).ok()
}

/// Writes `coverage.csv` durably.
pub fn write(path: &Path, c: &Coverage) -> Result<(), ActionError> {
    let mut out: Vec<u8> = Vec::with_capacity(64 * (c.rows.len() + 1));
    let written = (|| -> io::Result<()> {
        write_record(&mut out, COLUMNS)?;
        for r in &c.rows {
            let ip = r.ip.to_string();
            let n = r.findings.to_string();
            let max = r.max_severity.map(|m| m.to_string()).unwrap_or_default();
            write_record(
                &mut out,
                [ip.as_str(), r.status.as_str(), &n, &max, &r.note],
            )?;
        }
        out.flush()
    })();
    written.map_err(|e| ActionError::io(path, e))?;
    crate::fsutil::write_atomic(path, &out).map_err(|e| ActionError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::findings::read_results_from;

    fn set(s: &str) -> IpSet {
        parse_list(s).expect("test list parses")
    }

    #[test]
    fn each_status_from_extended_results() {
        let json = r#"[{"launch_date":"2026-01-01T00:00:00Z","ips":"10.0.0.1-10.0.0.5","excluded_ips":"10.0.0.5"},
            {"ip":"10.0.0.1","qid":"1","type":"Vuln","severity":"4"},
            {"ip":"10.0.0.1","qid":"2","type":"Potential Vuln","severity":"2"},
            {"ip":"10.0.0.2","qid":"45038","type":"Ig","severity":"1"},
            {"hosts_not_scanned_host_not_alive_ip":"10.0.0.3"},
            {"target_distribution_across_scanner_appliances":"External : 10.0.0.1-10.0.0.4"}]"#;
        let f = read_results_from(json.as_bytes()).expect("parses");
        let c = build(&set("10.0.0.1-10.0.0.6"), None, Some(&f));
        let got: Vec<(String, &str, u64, Option<u8>)> = c
            .rows
            .iter()
            .map(|r| {
                (
                    r.ip.to_string(),
                    r.status.as_str(),
                    r.findings,
                    r.max_severity,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("10.0.0.1".into(), "scanned", 2, Some(4)),
                ("10.0.0.2".into(), "scanned", 0, None),
                ("10.0.0.3".into(), "no_response", 0, None),
                ("10.0.0.4".into(), "scanned", 0, None),
                ("10.0.0.5".into(), "excluded", 0, None),
                ("10.0.0.6".into(), "not_scanned", 0, None),
            ]
        );
        assert_eq!(
            c.line(),
            "6 requested · 3 scanned · 1 no response · 1 excluded · 1 not scanned"
        );
        let missing = c.not_covered();
        assert_eq!(missing.len(), 3);
        assert_eq!(missing[0].0, Status::NoResponse);
        assert_eq!(missing[0].1, "10.0.0.3");
        assert_eq!(missing[2].1, "10.0.0.6");
    }

    #[test]
    fn the_checkpoint_target_wins_and_nothing_is_guessed_without_results() {
        let c = build(&set("10.0.0.1-10.0.0.2"), Some(&set("10.0.0.1")), None);
        assert_eq!(c.rows[0].status, Status::Unknown);
        assert_eq!(c.rows[1].status, Status::NotScanned);
        assert_eq!(
            c.line(),
            "2 requested · 0 scanned · 0 no response · 0 excluded · 1 not scanned · 1 unknown"
        );
        // Brief results: no metadata, no coverage objects; a host without records is unknown.
        let f = read_results_from(br#"[{"ip":"10.0.0.1","qid":"1"}]"#.as_slice()).expect("ok");
        let c = build(&set("10.0.0.1-10.0.0.2"), None, Some(&f));
        assert_eq!(c.rows[0].status, Status::Scanned);
        assert_eq!(c.rows[0].max_severity, None);
        assert!(c.rows[0].note.contains("severity unknown"));
        assert_eq!(c.rows[1].status, Status::Unknown);
    }

    #[test]
    fn no_host_alive_makes_every_target_address_no_response() {
        // A No_Host scan: the metadata counts no host alive and there is no record.
        let json = r#"[{"ips":"10.0.0.1-10.0.0.3","active_hosts":"0","total_hosts":"3"},
            {"target_distribution_across_scanner_appliances":"External : 10.0.0.1-10.0.0.3"}]"#;
        let f = read_results_from(json.as_bytes()).expect("parses");
        let c = build(&set("10.0.0.1-10.0.0.4"), None, Some(&f));
        let statuses: Vec<Status> = c.rows.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                Status::NoResponse,
                Status::NoResponse,
                Status::NoResponse,
                Status::NotScanned
            ]
        );
        // The whole target alive: a host without records was assessed and had nothing.
        let json =
            r#"[{"ips":"10.0.0.1-10.0.0.2","active_hosts":"2"},{"ip":"10.0.0.1","qid":"1"}]"#;
        let f = read_results_from(json.as_bytes()).expect("parses");
        let c = build(&set("10.0.0.1-10.0.0.2"), None, Some(&f));
        assert_eq!(c.rows[1].status, Status::Scanned);
        // Two of three alive, one with records, none listed: which other one answered is
        // unknown, so nothing is guessed.
        let json =
            r#"[{"ips":"10.0.0.1-10.0.0.3","active_hosts":"2"},{"ip":"10.0.0.1","qid":"1"}]"#;
        let f = read_results_from(json.as_bytes()).expect("parses");
        let c = build(&set("10.0.0.1-10.0.0.3"), None, Some(&f));
        assert_eq!(c.rows[1].status, Status::Unknown);
        assert_eq!(c.rows[2].status, Status::Unknown);
    }

    #[test]
    fn hostile_coverage_values_are_ignored_or_escaped() {
        let json = r#"[{"ips":"10.0.0.1-10.0.0.2"},
            {"hosts_not_scanned_host_not_alive_ip":"<script>, 999.1.1.1"},
            {"hosts_not_scanned_excluded_host_ip":["10.0.0.2"]},
            {"weird,\"key\"":"10.0.0.1"}]"#;
        let f = read_results_from(json.as_bytes()).expect("parses");
        let c = build(&set("10.0.0.1-10.0.0.2"), None, Some(&f));
        assert_eq!(c.rows[0].status, Status::Scanned);
        assert_eq!(c.rows[1].status, Status::Excluded);
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("coverage.csv");
        write(&p, &c).expect("writes");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(
            text.starts_with("ip,status,findings,max_severity,note\r\n"),
            "{text}"
        );
        assert!(text.contains("10.0.0.2,excluded,0,,excluded by Qualys (excluded_ips)\r\n"));
    }
}
