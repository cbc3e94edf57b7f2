//! The simulated subscription: its IPs, asset groups, scans and reports, and the
//! scan/report state machines, computed from elapsed wall-clock time when read.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::config::SimConfig;
use crate::ips::IpSet;

/// An asset group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// ID.
    pub id: u64,
    /// Title, unique in the subscription.
    pub title: String,
    /// Member addresses (may include addresses outside the subscription).
    pub ips: IpSet,
    /// Comments.
    pub comments: String,
    /// Scanner appliance IDs.
    pub appliance_ids: Vec<u64>,
}

/// A VM scan.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// Numeric ID.
    pub id: u64,
    /// `scan/<epoch>.<n>`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Launch time (wall clock, for output).
    pub launched: SystemTime,
    /// Launch time (monotonic, for the state machine).
    pub launched_at: Instant,
    /// Option profile title.
    pub option_title: String,
    /// Asset group titles targeted.
    pub group_titles: Vec<String>,
    /// Scanner appliance name, `None` for external scanners.
    pub appliance: Option<String>,
    /// TARGET: requested ∩ subscription.
    pub target: IpSet,
    /// Addresses of the target the subscription excludes: not scanned.
    pub excluded: IpSet,
    /// A state forced by `cancel` or `Sim::set_scan_state`, sticky.
    pub forced: Option<String>,
}

/// A scan's status at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanStatus {
    /// `Queued`, `Running`, `Finished`, `Error`, `Paused`, `Canceled`.
    pub state: String,
    /// Results processed (reports possible).
    pub processed: bool,
    /// Scan duration once finished.
    pub duration: Option<Duration>,
}

impl Scan {
    /// The addresses actually scanned: TARGET minus the excluded ones.
    pub fn scanned(&self) -> IpSet {
        self.target.minus(&self.excluded)
    }

    /// The status at `now` under the timings of `cfg`.
    pub fn status(&self, cfg: &SimConfig, now: Instant) -> ScanStatus {
        let run = cfg.scan_queued + cfg.scan_running;
        if let Some(state) = &self.forced {
            let finished = state == "Finished";
            return ScanStatus {
                state: state.clone(),
                processed: finished,
                duration: finished.then_some(cfg.scan_running),
            };
        }
        let e = now.saturating_duration_since(self.launched_at);
        let (state, processed) = if e < cfg.scan_queued {
            ("Queued", false)
        } else if e < run {
            ("Running", false)
        } else {
            ("Finished", e >= run + cfg.scan_processing)
        };
        ScanStatus {
            state: state.to_owned(),
            processed,
            duration: (state == "Finished").then_some(cfg.scan_running),
        }
    }
}

/// A report.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// ID.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Template title.
    pub template_title: String,
    /// Output format, lower case (`pdf`, `xml`, `csv`, `html`).
    pub format: String,
    /// Launch time (wall clock).
    pub launched: SystemTime,
    /// Launch time (monotonic).
    pub launched_at: Instant,
    /// Template ID.
    pub template_id: u64,
    /// Scan references the report covers (`Manual` templates).
    pub scan_refs: Vec<String>,
    /// The hosts the report covers: its scans' scanned addresses (`Manual`), or the
    /// requested `ips`/`asset_group_ids` ∩ the subscription (`Auto`).
    pub hosts: IpSet,
    /// The addresses of `hosts` some processed scan has scanned: only they have findings
    /// (for a `Manual` template, all of `hosts`).
    pub with_data: IpSet,
    /// Asset group titles of the report's target.
    pub group_titles: Vec<String>,
    /// Canceled by the client.
    pub canceled: bool,
    /// The file, rendered once when first needed after it finished.
    pub content: Option<Bytes>,
}

impl Report {
    /// `Running`, `Finished` or `Canceled` at `now`.
    pub fn state(&self, cfg: &SimConfig, now: Instant) -> &'static str {
        if self.canceled {
            "Canceled"
        } else if now.saturating_duration_since(self.launched_at) < cfg.report_running {
            "Running"
        } else {
            "Finished"
        }
    }
}

/// The whole subscription.
#[derive(Debug)]
pub(crate) struct Model {
    /// Addresses added to the subscription.
    pub subscription: IpSet,
    /// Asset groups, by creation.
    pub groups: Vec<Group>,
    /// Scans, by launch.
    pub scans: Vec<Scan>,
    /// Reports, by launch.
    pub reports: Vec<Report>,
    next_group: u64,
    next_scan: u64,
    next_report: u64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            subscription: IpSet::default(),
            groups: Vec::new(),
            scans: Vec::new(),
            reports: Vec::new(),
            next_group: 2_400_001,
            next_scan: 136_001,
            next_report: 4_927_001,
        }
    }
}

impl Model {
    /// A fresh asset group ID.
    pub fn group_id(&mut self) -> u64 {
        self.next_group += 1;
        self.next_group - 1
    }

    /// A fresh scan ID and its reference.
    pub fn scan_id(&mut self, now: SystemTime) -> (u64, String) {
        let id = self.next_scan;
        self.next_scan += 1;
        (
            id,
            format!("scan/{}.{}", crate::clock::epoch_secs(now), id % 100_000),
        )
    }

    /// A fresh report ID.
    pub fn report_id(&mut self) -> u64 {
        self.next_report += 1;
        self.next_report - 1
    }

    /// The group titled exactly `title`.
    pub fn group_by_title(&self, title: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.title == title)
    }

    /// The group with ID `id`.
    pub fn group_by_id(&self, id: u64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The scan with reference `r`.
    pub fn scan(&self, r: &str) -> Option<&Scan> {
        self.scans.iter().find(|s| s.reference == r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(cfg_launch: Instant) -> Scan {
        Scan {
            id: 1,
            reference: "scan/1.1".into(),
            title: "t".into(),
            launched: SystemTime::now(),
            launched_at: cfg_launch,
            option_title: "o".into(),
            group_titles: vec![],
            appliance: None,
            target: IpSet::default(),
            excluded: IpSet::default(),
            forced: None,
        }
    }

    #[test]
    fn scan_walks_queued_running_finished_processed() {
        let cfg = SimConfig::default(); // 1 s, 8 s, 1 s
        let t0 = Instant::now();
        let s = scan(t0);
        let at = |ms: u64| s.status(&cfg, t0 + Duration::from_millis(ms));
        assert_eq!(
            (at(500).state.as_str(), at(500).processed),
            ("Queued", false)
        );
        assert_eq!(at(1500).state, "Running");
        assert_eq!(
            (at(9500).state.as_str(), at(9500).processed),
            ("Finished", false)
        );
        assert_eq!(
            (at(10_500).state.as_str(), at(10_500).processed),
            ("Finished", true)
        );
        assert_eq!(at(10_500).duration, Some(Duration::from_secs(8)));
        let mut forced = s.clone();
        forced.forced = Some("Error".into());
        assert_eq!(
            forced.status(&cfg, t0 + Duration::from_secs(60)).state,
            "Error"
        );
    }

    #[test]
    fn ids_and_refs_are_unique() {
        let mut m = Model::default();
        let now = SystemTime::now();
        let (a, ra) = m.scan_id(now);
        let (b, rb) = m.scan_id(now);
        assert_ne!(a, b);
        assert_ne!(ra, rb);
        assert!(ra.starts_with("scan/"));
        assert_ne!(m.group_id(), m.group_id());
    }
}
