//! Format 1 of the stored job record, kept only to read records written before format 2,
//! and its migration.
//!
//! Format 2 added: the asset group's id to `LaunchingScan` and `ScanLaunchSent` (scans are
//! launched by `asset_group_ids`), the scan's TARGET to `ScanInfo`, the last scan state
//! to `Failed`, `Canceling` and `Canceled`, the out-of-scope reason to `Canceling` and a
//! note to `Done`. A format 1 `LaunchingScan` (nothing sent yet) becomes `FindingGroup`
//! (the lookup yields the group id and checks its addresses against the scope again); a
//! format 1 `ScanLaunchSent` keeps looking for its scan, and goes back to the group lookup
//! if the scan proves absent.

use super::old::OldRecord;
use crate::state::{JobState, ReportState, ScanInfo, ScanStatus, StepName};
use crate::time::Timestamp;
use serde::Deserialize;

/// A format 1 [`JobRecord`].
pub(super) type JobRecordV1 = OldRecord<JobStateV1>;

#[derive(Debug, Deserialize)]
pub(super) struct ScanInfoV1 {
    scan_ref: String,
    launched_at: Timestamp,
}

/// The format 1 states, in their stored order (bincode writes the variant index).
#[derive(Debug, Deserialize)]
pub(super) enum JobStateV1 {
    Accepted,
    AddingIps,
    FindingGroup,
    CreatingGroup,
    GroupCreateSent {
        sent_at: Timestamp,
    },
    ExtendingGroup {
        group_id: u64,
    },
    GroupExtendSent {
        group_id: u64,
        sent_at: Timestamp,
    },
    LaunchingScan,
    ScanLaunchSent {
        sent_at: Timestamp,
    },
    ScanRunning {
        scan: ScanInfoV1,
        last: Option<ScanStatus>,
        missing_polls: u32,
    },
    LaunchingReport {
        scan: ScanInfoV1,
    },
    ReportLaunchSent {
        scan: ScanInfoV1,
        sent_at: Timestamp,
    },
    ReportRunning {
        scan: ScanInfoV1,
        report_id: u64,
        last: Option<ReportState>,
        missing_polls: u32,
    },
    Downloading {
        scan: ScanInfoV1,
        report_id: Option<u64>,
    },
    Done {
        scan: ScanInfoV1,
        report_id: Option<u64>,
    },
    Failed {
        at: StepName,
        reason: String,
        scan_ref: Option<String>,
    },
    Canceling {
        scan_ref: Option<String>,
        report_id: Option<u64>,
    },
    Canceled {
        scan_ref: Option<String>,
    },
}

impl From<ScanInfoV1> for ScanInfo {
    fn from(s: ScanInfoV1) -> ScanInfo {
        ScanInfo {
            scan_ref: s.scan_ref,
            launched_at: s.launched_at,
            target: None,
        }
    }
}

impl From<JobStateV1> for JobState {
    fn from(s: JobStateV1) -> JobState {
        use JobStateV1 as V;
        match s {
            V::Accepted => JobState::Accepted,
            V::AddingIps => JobState::AddingIps,
            V::FindingGroup | V::LaunchingScan => JobState::FindingGroup,
            V::CreatingGroup => JobState::CreatingGroup,
            V::GroupCreateSent { sent_at } => JobState::GroupCreateSent { sent_at },
            V::ExtendingGroup { group_id } => JobState::ExtendingGroup { group_id },
            V::GroupExtendSent { group_id, sent_at } => {
                JobState::GroupExtendSent { group_id, sent_at }
            }
            V::ScanLaunchSent { sent_at } => JobState::ScanLaunchSent {
                group_id: None,
                sent_at,
            },
            V::ScanRunning {
                scan,
                last,
                missing_polls,
            } => JobState::ScanRunning {
                scan: scan.into(),
                last,
                missing_polls,
            },
            V::LaunchingReport { scan } => JobState::LaunchingReport { scan: scan.into() },
            V::ReportLaunchSent { scan, sent_at } => JobState::ReportLaunchSent {
                scan: scan.into(),
                sent_at,
            },
            V::ReportRunning {
                scan,
                report_id,
                last,
                missing_polls,
            } => JobState::ReportRunning {
                scan: scan.into(),
                report_id,
                last,
                missing_polls,
            },
            V::Downloading { scan, report_id } => JobState::Downloading {
                scan: scan.into(),
                report_id,
                baseline: None,
            },
            V::Done { scan, report_id } => JobState::Done {
                scan: scan.into(),
                report_id,
                note: None,
            },
            V::Failed {
                at,
                reason,
                scan_ref,
            } => JobState::Failed {
                at,
                reason,
                scan_ref,
                last_scan: None,
            },
            V::Canceling {
                scan_ref,
                report_id,
            } => JobState::Canceling {
                scan_ref,
                report_id,
                fail_reason: None,
                last_scan: None,
            },
            V::Canceled { scan_ref } => JobState::Canceled {
                scan_ref,
                last_scan: None,
            },
        }
    }
}
