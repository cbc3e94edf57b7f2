//! Format 2 of the stored job record, kept only to read records written before format 3,
//! and its migration.
//!
//! Format 3 added the baseline to `Downloading` (the job the delta compares against, until
//! then pinned in a `jobs/ID/.delta-baseline` file). A format 2 `Downloading` migrates with
//! no baseline: the core does not read spool files, so a job caught in that step by the
//! upgrade finishes without a delta. Every other state is unchanged.

use super::old::OldRecord;
use crate::state::{JobState, ReportState, ScanInfo, ScanStatus, StepName};
use crate::time::Timestamp;
use serde::Deserialize;

/// A format 2 [`JobRecord`](crate::store::JobRecord).
pub(super) type JobRecordV2 = OldRecord<JobStateV2>;

/// The format 2 states, in their stored order (bincode writes the variant index).
#[derive(Debug, Deserialize)]
pub(super) enum JobStateV2 {
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
    LaunchingScan {
        group_id: u64,
    },
    ScanLaunchSent {
        group_id: Option<u64>,
        sent_at: Timestamp,
    },
    ScanRunning {
        scan: ScanInfo,
        last: Option<ScanStatus>,
        missing_polls: u32,
    },
    LaunchingReport {
        scan: ScanInfo,
    },
    ReportLaunchSent {
        scan: ScanInfo,
        sent_at: Timestamp,
    },
    ReportRunning {
        scan: ScanInfo,
        report_id: u64,
        last: Option<ReportState>,
        missing_polls: u32,
    },
    Downloading {
        scan: ScanInfo,
        report_id: Option<u64>,
    },
    Done {
        scan: ScanInfo,
        report_id: Option<u64>,
        note: Option<String>,
    },
    Failed {
        at: StepName,
        reason: String,
        scan_ref: Option<String>,
        last_scan: Option<ScanStatus>,
    },
    Canceling {
        scan_ref: Option<String>,
        report_id: Option<u64>,
        fail_reason: Option<String>,
        last_scan: Option<ScanStatus>,
    },
    Canceled {
        scan_ref: Option<String>,
        last_scan: Option<ScanStatus>,
    },
}

impl From<JobStateV2> for JobState {
    fn from(s: JobStateV2) -> JobState {
        use JobStateV2 as V;
        match s {
            V::Accepted => JobState::Accepted,
            V::AddingIps => JobState::AddingIps,
            V::FindingGroup => JobState::FindingGroup,
            V::CreatingGroup => JobState::CreatingGroup,
            V::GroupCreateSent { sent_at } => JobState::GroupCreateSent { sent_at },
            V::ExtendingGroup { group_id } => JobState::ExtendingGroup { group_id },
            V::GroupExtendSent { group_id, sent_at } => {
                JobState::GroupExtendSent { group_id, sent_at }
            }
            V::LaunchingScan { group_id } => JobState::LaunchingScan { group_id },
            V::ScanLaunchSent { group_id, sent_at } => {
                JobState::ScanLaunchSent { group_id, sent_at }
            }
            V::ScanRunning {
                scan,
                last,
                missing_polls,
            } => JobState::ScanRunning {
                scan,
                last,
                missing_polls,
            },
            V::LaunchingReport { scan } => JobState::LaunchingReport { scan },
            V::ReportLaunchSent { scan, sent_at } => JobState::ReportLaunchSent { scan, sent_at },
            V::ReportRunning {
                scan,
                report_id,
                last,
                missing_polls,
            } => JobState::ReportRunning {
                scan,
                report_id,
                last,
                missing_polls,
            },
            V::Downloading { scan, report_id } => JobState::Downloading {
                scan,
                report_id,
                baseline: None,
            },
            V::Done {
                scan,
                report_id,
                note,
            } => JobState::Done {
                scan,
                report_id,
                note,
            },
            V::Failed {
                at,
                reason,
                scan_ref,
                last_scan,
            } => JobState::Failed {
                at,
                reason,
                scan_ref,
                last_scan,
            },
            V::Canceling {
                scan_ref,
                report_id,
                fail_reason,
                last_scan,
            } => JobState::Canceling {
                scan_ref,
                report_id,
                fail_reason,
                last_scan,
            },
            V::Canceled {
                scan_ref,
                last_scan,
            } => JobState::Canceled {
                scan_ref,
                last_scan,
            },
        }
    }
}
