//! Names of outcomes and internal states, for messages.

use crate::state::{JobState, Outcome};

pub(super) fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Start => "Start",
        Outcome::Preflighted => "Preflighted",
        Outcome::IpsAdded => "IpsAdded",
        Outcome::GroupFound { .. } => "GroupFound",
        Outcome::GroupAbsent => "GroupAbsent",
        Outcome::GroupCreated { .. } => "GroupCreated",
        Outcome::GroupExtended => "GroupExtended",
        Outcome::ScanLaunched(_) => "ScanLaunched",
        Outcome::ScanFound(_) => "ScanFound",
        Outcome::ScanAbsent => "ScanAbsent",
        Outcome::ScanPolled { .. } => "ScanPolled",
        Outcome::ScanNotListed => "ScanNotListed",
        Outcome::ReportLaunched { .. } => "ReportLaunched",
        Outcome::ReportFound { .. } => "ReportFound",
        Outcome::ReportAbsent => "ReportAbsent",
        Outcome::ReportPolled(_) => "ReportPolled",
        Outcome::ReportNotReady => "ReportNotReady",
        Outcome::Downloaded => "Downloaded",
        Outcome::CancelDone => "CancelDone",
        Outcome::Deferred { .. } => "Deferred",
        Outcome::NotSent { .. } => "NotSent",
        Outcome::Transient { .. } => "Transient",
        Outcome::Ambiguous { .. } => "Ambiguous",
        Outcome::Permanent { .. } => "Permanent",
        Outcome::CancelRequested => "CancelRequested",
    }
}

/// The internal state's name, for messages.
pub(super) fn state_name(state: &JobState) -> &'static str {
    match state {
        JobState::Accepted => "Accepted",
        JobState::Checking => "Checking",
        JobState::Salvaging { .. } => "Salvaging",
        JobState::AddingIps => "AddingIps",
        JobState::FindingGroup => "FindingGroup",
        JobState::CreatingGroup => "CreatingGroup",
        JobState::GroupCreateSent { .. } => "GroupCreateSent",
        JobState::ExtendingGroup { .. } => "ExtendingGroup",
        JobState::GroupExtendSent { .. } => "GroupExtendSent",
        JobState::LaunchingScan { .. } => "LaunchingScan",
        JobState::ScanLaunchSent { .. } => "ScanLaunchSent",
        JobState::ScanRunning { .. } => "ScanRunning",
        JobState::LaunchingReport { .. } => "LaunchingReport",
        JobState::ReportLaunchSent { .. } => "ReportLaunchSent",
        JobState::ReportRunning { .. } => "ReportRunning",
        JobState::Downloading { .. } => "Downloading",
        JobState::Done { .. } => "Done",
        JobState::Failed { .. } => "Failed",
        JobState::Canceling { .. } => "Canceling",
        JobState::Canceled { .. } => "Canceled",
    }
}
