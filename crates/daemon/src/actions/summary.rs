//! The facts both summaries (Markdown and HTML) and the webhook messages present, computed
//! once from the job, its findings, coverage and the baseline delta: target accounting,
//! counts (confirmed and potential apart, unknown severities never counted as 0), worst
//! findings, guidance with the `[remediation]` deadlines. When no machine-readable results
//! exist the findings are unknown ([`Summary::unknown_why`]), not zero.

use super::coverage::Coverage;
use super::delta::Delta;
use super::model::{Class, Findings, Sym};
use baseliner_core::config::RemediationConfig;
use baseliner_core::ip::IpSet;
use baseliner_core::job::ReportFormat;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
use std::collections::{BTreeSet, HashMap};

/// How many of the worst findings the summaries list.
pub const WORST_MAX: usize = 20;

/// The one name of each severity level 0–5, as Qualys names them (0: not known), used by
/// every output: both summaries, the charts and the chat messages.
pub const SEVERITY_NAMES: [&str; 6] = [
    "unknown", "minimal", "medium", "serious", "critical", "urgent",
];

/// The name of severity `sev` (anything above 5 is 5).
pub fn severity_name(sev: u8) -> &'static str {
    SEVERITY_NAMES[usize::from(sev.min(5))]
}

/// "severity 5 (urgent)" …, "severity unknown" for 0: how a level is labelled everywhere.
pub fn severity_label(sev: u8) -> String {
    if sev == 0 {
        "severity unknown".to_owned()
    } else {
        format!("severity {} ({})", sev.min(5), severity_name(sev))
    }
}

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
    /// Severity (0: unknown).
    pub severity: u8,
    /// `port/protocol`, or the protocol alone.
    pub port: String,
    /// True for a potential vulnerability.
    pub potential: bool,
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
    /// Why the findings are unknown (`Some` exactly when `source` is `None`).
    pub unknown_why: Option<String>,
    /// What happened to each requested address.
    pub coverage: Coverage,
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
    /// All findings (confirmed and potential vulnerabilities).
    pub total: u64,
    /// Findings per severity 0–5 (index 0: severity unknown), both kinds.
    pub per_severity: [u64; 6],
    /// Confirmed vulnerabilities per severity 0–5.
    pub confirmed: [u64; 6],
    /// Potential vulnerabilities per severity 0–5.
    pub potential: [u64; 6],
    /// Information-gathered records (not findings; in `information.csv`).
    pub information: u64,
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
    /// When the scan ran, if known.
    pub scan_date: Option<Timestamp>,
}

/// What [`Summary::build`] reads besides the findings.
pub struct Inputs<'a> {
    /// The job.
    pub rec: &'a JobRecord,
    /// The findings (sorted worst first) and the file they come from; `None` when no
    /// machine-readable results exist.
    pub findings: Option<(&'a Findings, &'a str)>,
    /// The coverage.
    pub coverage: Coverage,
    /// The baseline delta, when there is a baseline.
    pub delta: Option<Delta>,
    /// `[alerts].min_severity`.
    pub min_severity: u8,
    /// `[remediation]`.
    pub remediation: &'a RemediationConfig,
}

impl Worst {
    /// The severity as shown: the number, or `unknown`.
    pub fn severity_text(&self) -> String {
        if self.severity == 0 {
            "unknown".to_owned()
        } else {
            self.severity.to_string()
        }
    }

    /// The title, marked when the finding is a potential vulnerability.
    pub fn title_text(&self) -> String {
        if self.potential {
            format!("{} (potential)", self.title)
        } else {
            self.title.clone()
        }
    }
}

impl Summary {
    /// The summary of the job described by `inp`.
    pub fn build(inp: Inputs<'_>) -> Summary {
        let Inputs {
            rec,
            findings,
            coverage,
            delta,
            min_severity,
            remediation,
        } = inp;
        let empty = Findings::default();
        let (f, source) = match findings {
            Some((f, name)) => (f, Some(name.to_owned())),
            None => (&empty, None),
        };
        let meta = &f.meta;
        let scanned = meta.target.as_deref().and_then(parse_target);
        let dropped = scanned.as_ref().map(|s| rec.job.ips.difference(s));
        let mut per_severity = [0u64; 6];
        let mut confirmed = [0u64; 6];
        let mut potential = [0u64; 6];
        let mut by_host: HashMap<Sym, [u64; 6]> = HashMap::new();
        for r in &f.rows {
            let sev = usize::from(r.severity.min(5));
            per_severity[sev] += 1;
            match f.class(r) {
                Class::Potential => potential[sev] += 1,
                _ => confirmed[sev] += 1,
            }
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
                    potential: f.class(r) == Class::Potential,
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
            unknown_why: source.is_none().then(|| unknown_why(rec)),
            source,
            coverage,
            requested: rec.job.ips.clone(),
            scanned_text: meta.target.clone().filter(|_| scanned.is_none()),
            scanned,
            dropped,
            excluded: meta.excluded.clone(),
            alive,
            total: f.rows.len() as u64,
            per_severity,
            confirmed,
            potential,
            information: f.info.len() as u64,
            hosts,
            worst,
            min_severity,
            alerting,
            delta,
            guidance: Vec::new(),
            scan_date: meta.launched_at(),
        };
        s.guidance = guidance(&s, remediation);
        s
    }

    /// Findings whose severity is unknown (brief results).
    pub fn unknown_severity(&self) -> u64 {
        self.per_severity[0]
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
        if self.source.is_some()
            && self.alive == 0
            && self.coverage.count(super::coverage::Status::Scanned) == 0
        {
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

/// Why a job has no machine-readable findings, from what it asked for.
fn unknown_why(rec: &JobRecord) -> String {
    let j = &rec.job;
    if j.results.raw {
        "the raw results (results.json) were not downloaded".to_owned()
    } else if j.results.report && j.report_format != ReportFormat::Xml {
        format!(
            "the job asked only for a {} report, which baseliner cannot read; ask for raw results (results = [\"report\", \"raw\"]) or an XML report",
            j.report_format.as_str()
        )
    } else if j.results.report && j.report_format == ReportFormat::Xml {
        format!(
            "the XML report is larger than baseliner reads ({} MiB); ask for raw results (results = [\"report\", \"raw\"]), which are read as a stream",
            super::report_xml::MAX_XML_REPORT / (1024 * 1024)
        )
    } else {
        "no raw results or XML report was downloaded".to_owned()
    }
}

/// " (by YYYY-MM-DD)" when the scan date is known.
fn by_date(s: &Summary, r: &RemediationConfig, severity: u8) -> String {
    match s.scan_date.and_then(|t| r.due(severity, t)) {
        Some(d) => format!(" (by {d})"),
        None => String::new(),
    }
}

/// "within N days (by …)", or the words for no deadline.
fn deadline(s: &Summary, r: &RemediationConfig, severity: u8, none: &str) -> String {
    match r.days_for(severity) {
        Some(days) => format!(
            "within {days} {}{}",
            if days == 1 { "day" } else { "days" },
            by_date(s, r, severity)
        ),
        None => none.to_owned(),
    }
}

/// What to do next, from the counts and the `[remediation]` deadlines.
fn guidance(s: &Summary, r: &RemediationConfig) -> Vec<String> {
    let mut g = Vec::new();
    let c = &s.per_severity;
    if let Some(why) = &s.unknown_why {
        g.push(format!(
            "The findings are unknown: {why}. Read the report itself; this job cannot alert."
        ));
        return g;
    }
    if c[0] > 0 {
        g.push(format!(
            "{} {} no severity (the raw results are in brief mode): their severity is unknown, so they were not checked against the alert threshold. Fetch the results with mode=extended.",
            c[0],
            if c[0] == 1 { "finding has" } else { "findings have" }
        ));
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
    let no_deadline = "(no deadline set in [remediation])";
    for (sev, verb) in [
        (5u8, "Patch or isolate"),
        (4, "Fix"),
        (3, "Plan fixes for"),
        (2, "Review"),
        (1, "Review"),
    ] {
        let n = c[usize::from(sev)];
        if n > 0 {
            let none = if sev >= 3 {
                no_deadline
            } else {
                "at the next maintenance"
            };
            g.push(format!(
                "{verb} the {n} {} (severity {sev}) {} {}.",
                severity_name(sev),
                plural(n),
                deadline(s, r, sev, none)
            ));
        }
    }
    let potential: u64 = s.potential.iter().sum();
    if potential > 0 {
        g.push(format!(
            "Verify the {potential} potential {}: Qualys could not confirm them.",
            if potential == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            }
        ));
    }
    if c[0] == 0 && c[3] + c[4] + c[5] == 0 {
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
    use crate::actions::testutil::{findings, record, summary};

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
        let s = summary(&rec, Some(&f));
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
        let s = summary(&rec, Some(&f));
        assert_eq!(s.alive, 0);
        assert!(s
            .target_notes()
            .iter()
            .any(|n| n.contains("No host answered the scan")));
        assert!(s.dropped.as_ref().is_some_and(IpSet::is_empty));
    }
}
