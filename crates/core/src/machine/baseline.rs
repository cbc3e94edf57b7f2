//! Which earlier job a finished job's findings are compared against (the delta, the
//! `change` column of `findings.csv`).
//!
//! The baseline is the organization's latest finished (`done`) job accepted before this one
//! (a smaller id) that produced findings. It is chosen when the job enters `Downloading`
//! ([`crate::machine::Ctx::baseline`]) and kept in that state, so every repeat of the action
//! items compares against the same job even when another one finishes meanwhile.

use crate::state::JobState;

/// A finished job the driver knows of, as the choice needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The job's id.
    pub id: &'a str,
    /// Its organization.
    pub organization: &'a str,
    /// It ended `done` (not failed or canceled).
    pub done: bool,
}

/// The baseline of job `id` of `organization` among `candidates`: the largest id smaller
/// than `id`, of the same organization, done, for which `has_findings` holds (the driver's
/// look at its `findings.csv`, asked only of those that fit otherwise, latest first);
/// `None` when there is none.
pub fn choose<'a>(
    id: &str,
    organization: &str,
    candidates: impl IntoIterator<Item = Candidate<'a>>,
    has_findings: impl Fn(&str) -> bool,
) -> Option<String> {
    let mut fitting: Vec<&str> = candidates
        .into_iter()
        .filter(|c| c.organization == organization && c.id < id && c.done)
        .map(|c| c.id)
        .collect();
    fitting.sort_unstable_by(|a, b| b.cmp(a));
    fitting
        .into_iter()
        .find(|c| has_findings(c))
        .map(str::to_string)
}

/// True when a step from `before` to `after` entered `Downloading`: only then does the
/// driver look the baseline up (and step again with it in [`crate::machine::Ctx`]).
pub fn entered_downloading(before: &JobState, after: &JobState) -> bool {
    matches!(after, JobState::Downloading { .. }) && !matches!(before, JobState::Downloading { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(id: &'a str, org: &'a str, done: bool) -> Candidate<'a> {
        Candidate {
            id,
            organization: org,
            done,
        }
    }

    #[test]
    fn the_latest_earlier_done_job_of_the_organization_with_findings() {
        let me = "20240303-000000-000003";
        let all = [
            c("20240301-000000-000001", "Acme", true),
            c("20240302-000000-000002", "Acme", true),
            c("20240302-000000-000009", "Acme", false), // failed
            c("20240302-500000-000004", "Acme", true),  // no findings
            c("20240302-600000-000005", "Other", true), // another organization
            c("20240304-000000-000006", "Acme", true),  // later than this job
        ];
        let asked = std::cell::RefCell::new(Vec::new());
        let findings = |id: &str| {
            asked.borrow_mut().push(id.to_string());
            id != "20240302-500000-000004"
        };
        assert_eq!(
            choose(me, "Acme", all, findings).as_deref(),
            Some("20240302-000000-000002")
        );
        assert_eq!(
            *asked.borrow(),
            ["20240302-500000-000004", "20240302-000000-000002"],
            "only fitting jobs are looked at, latest first"
        );
        assert_eq!(choose(me, "Nobody", all, |_| true), None);
        assert_eq!(
            choose("20240301-000000-000001", "Acme", all, |_| true),
            None
        );
    }

    #[test]
    fn entering_downloading_is_seen_once() {
        let scan = crate::state::ScanInfo {
            scan_ref: "scan/1.1".into(),
            launched_at: crate::time::Timestamp(0),
            target: None,
        };
        let down = JobState::Downloading {
            scan: scan.clone(),
            report_id: None,
            baseline: None,
        };
        let running = JobState::ScanRunning {
            scan,
            last: None,
            missing_polls: 0,
        };
        assert!(entered_downloading(&running, &down));
        assert!(!entered_downloading(&down, &down));
        assert!(!entered_downloading(&running, &running));
    }
}
