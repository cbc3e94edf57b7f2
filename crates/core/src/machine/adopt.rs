//! Which remote object a job in a `…Sent` state may adopt after a lost answer.
//!
//! Recovery lists scans (or reports) and adopts the one this job launched. Containing the
//! job's ` [ID]` is not enough: a submitter could put another job's tag into its own
//! title and hijack that job's recovery. The title is deterministic from the job
//! (`Job::scan_title_with_id`, `Job::report_title_with_id`), so only an object whose title
//! is *exactly* that title, and whose target matches the job, is adopted.

use crate::ip::IpSet;
use crate::machine::parse_target;

/// What the scan list shows of a scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanSeen<'a> {
    /// TITLE.
    pub title: &'a str,
    /// ASSET_GROUP_TITLE_LIST (empty when not shown).
    pub asset_groups: &'a [String],
    /// TARGET, when shown.
    pub target: Option<&'a str>,
}

/// What this job sent, to recognize its scan by.
#[derive(Debug, Clone, Copy)]
pub struct ScanSent<'a> {
    /// The exact title sent (`scan_title_with_id`).
    pub title: &'a str,
    /// The title of the job's asset group (the organization).
    pub group_title: &'a str,
    /// The job's addresses.
    pub ips: &'a IpSet,
    /// `[scope].authorized`.
    pub scope: &'a IpSet,
}

/// True when `seen` is the scan `sent` launched: the exact title, and either exactly the
/// job's group as its only asset group, or (when no group is shown) a TARGET of addresses
/// only that holds the job's addresses and lies within the scope.
pub fn is_our_scan(seen: &ScanSeen<'_>, sent: &ScanSent<'_>) -> bool {
    if seen.title.trim() != sent.title.trim() {
        return false;
    }
    match seen.asset_groups {
        [only] => only.trim() == sent.group_title.trim(),
        [] => seen.target.is_some_and(|t| {
            let (ips, unreadable) = parse_target(t);
            unreadable.is_empty() && ips.contains_set(sent.ips) && sent.scope.contains_set(&ips)
        }),
        _ => false,
    }
}

/// True when a listed asset group is the organization's: its title is exactly the
/// organization (blanks around either ignored).
pub fn is_our_group(title: &str, organization: &str) -> bool {
    title.trim() == organization.trim()
}

/// True when a listed report (its TITLE and TYPE) is the report this job launched: the
/// exact title, and a scan report (`Scan`) when the list shows a type.
pub fn is_our_report(title: &str, report_type: Option<&str>, sent_title: &str) -> bool {
    title.trim() == sent_title.trim()
        && report_type.is_none_or(|t| t.trim().eq_ignore_ascii_case("scan"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::test_ips::set;

    const VICTIM: &str = "Acquisition scan of Acme [20251128-011500-000042]";

    fn sent<'a>(ips: &'a IpSet, scope: &'a IpSet) -> ScanSent<'a> {
        ScanSent {
            title: VICTIM,
            group_title: "Acme",
            ips,
            scope,
        }
    }

    #[test]
    fn only_the_exact_title_and_group_are_adopted() {
        let (ips, scope) = (set(&["64.39.106.1"]), set(&["64.39.106.0/24"]));
        let acme = vec!["Acme".to_string()];
        let ours = ScanSeen {
            title: VICTIM,
            asset_groups: &acme,
            target: None,
        };
        assert!(is_our_scan(&ours, &sent(&ips, &scope)));
        // An attacker's title that carries the victim's title (and tag) as a prefix or a
        // suffix is not the victim's scan.
        for hostile in [
            format!("{VICTIM} (mine)"),
            format!("evil {VICTIM}"),
            format!("x{VICTIM}"),
        ] {
            let seen = ScanSeen {
                title: &hostile,
                ..ours
            };
            assert!(!is_our_scan(&seen, &sent(&ips, &scope)), "{hostile}");
        }
        // The exact title on another group (or on several) is not ours either.
        let other = vec!["Victim".to_string()];
        let both = vec!["Acme".to_string(), "Victim".to_string()];
        for groups in [&other, &both] {
            let seen = ScanSeen {
                asset_groups: groups,
                ..ours
            };
            assert!(!is_our_scan(&seen, &sent(&ips, &scope)), "{groups:?}");
        }
    }

    #[test]
    fn without_groups_the_target_must_hold_the_job_within_the_scope() {
        let (ips, scope) = (set(&["64.39.106.1"]), set(&["64.39.106.0/24"]));
        let seen = |target| ScanSeen {
            title: VICTIM,
            asset_groups: &[],
            target,
        };
        assert!(is_our_scan(
            &seen(Some("64.39.106.1-64.39.106.3")),
            &sent(&ips, &scope)
        ));
        assert!(!is_our_scan(
            &seen(Some("64.39.106.2")),
            &sent(&ips, &scope)
        ));
        assert!(!is_our_scan(
            &seen(Some("64.39.106.1, 8.8.8.8")),
            &sent(&ips, &scope)
        ));
        assert!(!is_our_scan(
            &seen(Some("64.39.106.1, host.example")),
            &sent(&ips, &scope)
        ));
        assert!(!is_our_scan(&seen(None), &sent(&ips, &scope)));
    }

    #[test]
    fn reports_need_the_exact_title_and_a_scan_type() {
        let t = "Report of Acme [20251128-011500-000042]";
        assert!(is_our_report(t, Some("Scan"), t));
        assert!(is_our_report(t, None, t));
        assert!(!is_our_report(t, Some("Map"), t));
        assert!(!is_our_report(&format!("{t} copy"), Some("Scan"), t));
        assert!(!is_our_report(&format!("A {t}"), Some("Scan"), t));
    }
}
