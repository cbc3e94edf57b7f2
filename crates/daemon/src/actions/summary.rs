//! The facts both summaries (Markdown and HTML) present, computed once from the job, its
//! findings and the baseline delta: target accounting, counts, worst findings, guidance.

use super::delta::Delta;
use super::model::{Findings, Sym};
use baseliner_core::ip::IpSet;
use baseliner_core::store::JobRecord;
use std::collections::{BTreeSet, HashMap};

/// How many of the worst findings the summaries list.
pub const WORST_MAX: usize = 20;

/// Findings of one host, by severity (index 0: unknown severity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCount {
    /// Address.
    pub ip: String,
    /// Count per severity 0–5.
    pub counts: [u64; 6],
}

/// One of the worst findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worst {
    /// Address.
    pub ip: String,
    /// DNS name.
    pub dns: String,
    /// Qualys ID.
    pub qid: u32,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: u8,
    /// `port/protocol`, or the protocol alone.
    pub port: String,
}

/// Everything a summary says.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Organization.
    pub organization: String,
    /// Job id.
    pub job_id: String,
    /// Scan reference.
    pub scan_ref: Option<String>,
    /// Scan title.
    pub scan_title: Option<String>,
    /// When the scan was launched (as Qualys gives it).
    pub launch_date: Option<String>,
    /// Scan duration (as Qualys gives it).
    pub duration: Option<String>,
    /// Which file the findings come from; `None` when none could be read.
    pub source: Option<String>,
    /// The job's addresses.
    pub requested: IpSet,
    /// The scanned target, when the results say it.
    pub scanned: Option<IpSet>,
    /// The target as Qualys wrote it, when it did not parse.
    pub scanned_text: Option<String>,
    /// Requested addresses missing from the scanned target.
    pub dropped: Option<IpSet>,
    /// Addresses Qualys excluded, as it wrote them.
    pub excluded: Option<String>,
    /// Hosts found alive.
    pub alive: u64,
    /// All findings.
    pub total: u64,
    /// Findings per severity 0–5.
    pub per_severity: [u64; 6],
    /// Per host, most severe first.
    pub hosts: Vec<HostCount>,
    /// The [`WORST_MAX`] worst findings.
    pub worst: Vec<Worst>,
    /// The `[alerts].min_severity` threshold.
    pub min_severity: u8,
    /// Findings that reach the threshold (only new ones when there is a baseline).
    pub alerting: u64,
    /// The comparison with the baseline, when there is one.
    pub delta: Option<Delta>,
    /// What to do next, one sentence each.
    pub guidance: Vec<String>,
}

impl Summary {
    /// The summary of job `rec` given its findings (sorted worst first; `None` when no
    /// machine-readable results exist) and baseline delta.
    pub fn build(
        rec: &JobRecord,
        findings: Option<(&Findings, &str)>,
        delta: Option<Delta>,
        min_severity: u8,
    ) -> Summary {
        let empty = Findings::default();
        let (f, source) = match findings {
            Some((f, name)) => (f, Some(name.to_owned())),
            None => (&empty, None),
        };
        let meta = &f.meta;
        let scanned = meta.target.as_deref().and_then(parse_target);
        let dropped = scanned.as_ref().map(|s| rec.job.ips.difference(s));
        let mut per_severity = [0u64; 6];
        let mut by_host: HashMap<Sym, [u64; 6]> = HashMap::new();
        for r in &f.rows {
            let sev = usize::from(r.severity.min(5));
            per_severity[sev] += 1;
            by_host.entry(r.ip).or_default()[sev] += 1;
        }
        let mut alive_set: BTreeSet<&str> = by_host.keys().map(|&ip| f.strings.get(ip)).collect();
        alive_set.extend(meta.listed_hosts.iter().map(String::as_str));
        let alive = (alive_set.len() as u64).max(meta.active_hosts.unwrap_or(0));
        let mut hosts: Vec<HostCount> = by_host
            .into_iter()
            .map(|(ip, counts)| HostCount {
                ip: f.strings.get(ip).to_owned(),
                counts,
            })
            .collect();
        hosts.sort_by(|a, b| {
            let rank = |h: &HostCount| {
                std::cmp::Reverse([
                    h.counts[5],
                    h.counts[4],
                    h.counts[3],
                    h.counts[2],
                    h.counts[1],
                    h.counts[0],
                ])
            };
            rank(a)
                .cmp(&rank(b))
                .then_with(|| ip_sort_key(&a.ip).cmp(&ip_sort_key(&b.ip)))
        });
        let worst = f
            .rows
            .iter()
            .take(WORST_MAX)
            .map(|r| {
                let s = &f.strings;
                Worst {
                    ip: s.get(r.ip).to_owned(),
                    dns: s.get(r.dns).to_owned(),
                    qid: r.qid,
                    title: s.get(r.title).to_owned(),
                    severity: r.severity,
                    port: match r.port {
                        Some(p) if !s.get(r.protocol).is_empty() => {
                            format!("{p}/{}", s.get(r.protocol))
                        }
                        Some(p) => p.to_string(),
                        None => s.get(r.protocol).to_owned(),
                    },
                }
            })
            .collect();
        let alerting = match &delta {
            Some(d) => d.new_alerting_count,
            None => per_severity
                .iter()
                .enumerate()
                .filter(|(sev, _)| *sev >= usize::from(min_severity.max(1)))
                .map(|(_, n)| n)
                .sum(),
        };
        let mut s = Summary {
            organization: rec.job.organization.clone(),
            job_id: rec.id.as_str().to_owned(),
            scan_ref: rec
                .checkpoint
                .state
                .scan_ref()
                .map(str::to_owned)
                .or_else(|| meta.reference.clone()),
            scan_title: meta.title.clone(),
            launch_date: meta.launch_date.clone(),
            duration: meta.duration.clone(),
            source,
            requested: rec.job.ips.clone(),
            scanned_text: meta.target.clone().filter(|_| scanned.is_none()),
            scanned,
            dropped,
            excluded: meta.excluded.clone(),
            alive,
            total: f.rows.len() as u64,
            per_severity,
            hosts,
            worst,
            min_severity,
            alerting,
            delta,
            guidance: Vec::new(),
        };
        s.guidance = guidance(&s);
        s
    }

    /// The plain-words sentences about the target: dropped addresses, no host alive.
    pub fn target_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(d) = self.dropped.as_ref().filter(|d| !d.is_empty()) {
            notes.push(format!(
                "Qualys did not scan {} of the {} requested addresses: {}. They were dropped from the scan target (not in the subscription, excluded, or refused by Qualys).",
                d.len(),
                self.requested.len(),
                d.to_qualys()
            ));
        }
        if let Some(ex) = &self.excluded {
            notes.push(format!(
                "Qualys excluded these addresses from the scan: {ex}."
            ));
        }
        if self.source.is_some() && self.alive == 0 {
            notes.push(
                "No host answered the scan (Qualys calls this No_Host): every scanned address looked down or unreachable, so no vulnerability could be checked.".to_owned(),
            );
        }
        notes
    }
}

/// Parses Qualys's target list (`a, b-c, d/24`); `None` when any part does not parse.
fn parse_target(text: &str) -> Option<IpSet> {
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    IpSet::parse_entries(&parts).ok()
}

/// Sorts IPv4 addresses numerically, anything else after them.
fn ip_sort_key(ip: &str) -> (bool, u32, &str) {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(a) => (false, u32::from(a), ""),
        Err(_) => (true, 0, ip),
    }
}

/// What to do next, from the counts.
fn guidance(s: &Summary) -> Vec<String> {
    let mut g = Vec::new();
    let c = &s.per_severity;
    if s.source.is_none() {
        g.push("No machine-readable results were downloaded (ask for `raw` results or an XML report): read the report itself.".to_owned());
        return g;
    }
    if s.dropped.as_ref().is_some_and(|d| !d.is_empty()) {
        g.push(
            "Find out why Qualys dropped addresses from the target and scan them in a new job."
                .to_owned(),
        );
    }
    if s.alive == 0 {
        g.push("Check that the addresses are in use and that firewalls let the Qualys scanners in, then submit the job again.".to_owned());
        return g;
    }
    let plural = |n: u64| if n == 1 { "finding" } else { "findings" };
    if c[5] > 0 {
        g.push(format!(
            "Patch or isolate the {} urgent (severity 5) {} within 7 days.",
            c[5],
            plural(c[5])
        ));
    }
    if c[4] > 0 {
        g.push(format!(
            "Fix the {} critical (severity 4) {} within 30 days.",
            c[4],
            plural(c[4])
        ));
    }
    if c[3] > 0 {
        g.push(format!(
            "Plan fixes for the {} serious (severity 3) {} within 90 days.",
            c[3],
            plural(c[3])
        ));
    }
    if c[1] + c[2] > 0 {
        g.push(format!(
            "Review the {} minor (severity 1–2) {} at the next maintenance.",
            c[1] + c[2],
            plural(c[1] + c[2])
        ));
    }
    if c[3] + c[4] + c[5] == 0 {
        g.push("Baseline clean: nothing of severity 3 or more was found.".to_owned());
    }
    if let Some(d) = &s.delta {
        if d.new_count == 0 {
            g.push(format!(
                "Nothing new since the baseline job {}.",
                d.baseline_id
            ));
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::{findings, record};

    #[test]
    fn counts_hosts_dropped_addresses_and_guidance() {
        let rec = record("20240301-000000-000007", "Acme", &["10.0.0.0/29"]);
        let f = findings(
            "10.0.0.0-10.0.0.3",
            &[
                ("10.0.0.2", 1, 5),
                ("10.0.0.1", 2, 3),
                ("10.0.0.2", 3, 3),
                ("10.0.0.1", 4, 1),
            ],
        );
        let s = Summary::build(&rec, Some((&f, "results.json")), None, 4);
        assert_eq!(s.per_severity, [0, 1, 0, 2, 0, 1]);
        assert_eq!(s.total, 4);
        assert_eq!(s.alive, 2);
        assert_eq!(s.alerting, 1);
        assert_eq!(
            s.dropped.as_ref().map(|d| d.to_qualys()),
            Some("10.0.0.4-10.0.0.7".to_string())
        );
        assert_eq!(s.hosts[0].ip, "10.0.0.2");
        assert_eq!(s.hosts[0].counts, [0, 0, 0, 1, 0, 1]);
        assert_eq!(s.worst[0].qid, 1);
        let notes = s.target_notes();
        assert!(
            notes[0].starts_with(
                "Qualys did not scan 4 of the 8 requested addresses: 10.0.0.4-10.0.0.7."
            ),
            "{notes:?}"
        );
        assert!(
            s.guidance
                .iter()
                .any(|g| g.contains("1 urgent (severity 5) finding within 7 days")),
            "{:?}",
            s.guidance
        );
        assert!(!s.guidance.iter().any(|g| g.contains("Baseline clean")));
    }

    #[test]
    fn no_host_alive_is_said_in_plain_words() {
        let rec = record("20240301-000000-000008", "Acme", &["10.0.0.1"]);
        let f = findings("10.0.0.1", &[]);
        let s = Summary::build(&rec, Some((&f, "results.json")), None, 4);
        assert_eq!(s.alive, 0);
        assert!(s
            .target_notes()
            .iter()
            .any(|n| n.contains("No host answered the scan")));
        assert!(s.dropped.as_ref().is_some_and(IpSet::is_empty));
    }
}
