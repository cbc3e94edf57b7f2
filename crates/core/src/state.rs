//! The job state machine's vocabulary: states, outcomes, actions and the checkpoint.
//!
//! Pure data. The transition functions live in [`crate::machine`]; the driver (the
//! daemon) executes [`Action`]s and feeds back [`Outcome`]s. Nothing here performs IO.
//!
//! ```text
//!  Accepted ──► AddingIps ──► FindingGroup ──┬─ found, within scope, has all IPs ─────────┐
//!                               ▲  ▲         ├─ found, missing IPs ─► ExtendingGroup ─(intent)─► GroupExtendSent ─┐
//!                               │  │         ├─ found, addresses outside the scope ─► Failed                      │
//!                               │  │         └─ absent ─► CreatingGroup ─(intent)─► GroupCreateSent ─┐            │
//!                               │  └──────── absence proven (see below): create again ───────────────┘            │
//!                               └─────────── group gone: look up again ──────────────────────────────────────────┘
//!                                                                                     │ success / adopted
//!                                                                                     ▼
//!  LaunchingScan{group} ─(intent)─► ScanLaunchSent ─ launched, or adopted ─► ScanRunning ─ Finished+PROCESSED=1 ─┐
//!        ▲                        │ absence proven                 │ TARGET outside scope → Canceling → Failed   │
//!        └────────────────────────┘                                │ Error/Canceled/too old → Failed             │
//!  ┌─────────────────────────── report wanted (and not No_Host) ◄─────────────────────────────────────────────────┘
//!  ▼                                                         (no report wanted, or No_Host) ──► Downloading
//!  LaunchingReport ─(intent)─► ReportLaunchSent ─ launched / found ─► ReportRunning ─ Finished ─► Downloading ─► Done
//!        ▲                        │ absence proven                     │ Errors/Canceled/too old → Failed
//!        └────────────────────────┘
//!  any non-terminal state ─ cancel requested ─► Canceling ─► Canceled
//!  any state ─ permanent failure ─► Failed
//! ```
//!
//! A lookup in a `…Sent` state that finds nothing proves absence only after
//! `sent_at + request_timeout + absence_margin` ([`crate::machine::Policy::absent_after`]):
//! before that the job stays in the `…Sent` state, due at that time.
//!
//! "(intent)" marks a checkpoint that is written and flushed *before* a request that is
//! not safe to repeat. A `…Sent` state therefore means "the request may have reached
//! Qualys": its action is a lookup, never a second launch.

use crate::ip::IpSet;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One step of a job's life. Each variant carries only the data of that step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Recorded from a spool file; nothing sent yet.
    Accepted,
    /// Adding the job's IPs to the subscription. Safe to repeat: adding an IP twice is harmless.
    AddingIps,
    /// Looking the organization's asset group up by title (a read).
    FindingGroup,
    /// The group does not exist: about to create it (nothing sent yet).
    CreatingGroup,
    /// A create request may have reached Qualys. Recovery looks the title up first.
    GroupCreateSent {
        /// When the intent was recorded.
        sent_at: Timestamp,
    },
    /// The group exists but lacks some of the job's IPs: about to add them (nothing sent yet).
    ExtendingGroup {
        /// The existing group's id.
        group_id: u64,
    },
    /// An edit (add_ips) may have reached Qualys. Recovery looks the group up first.
    GroupExtendSent {
        /// The group's id.
        group_id: u64,
        /// When the intent was recorded.
        sent_at: Timestamp,
    },
    /// About to launch the scan of the group (nothing sent yet). The group's whole IP set
    /// was checked against `[scope].authorized` on the way here.
    LaunchingScan {
        /// The asset group the scan targets (by id: `asset_group_ids`, never a title).
        group_id: u64,
    },
    /// A launch request may have reached Qualys. Recovery lists scans launched since
    /// `sent_at` and adopts the one whose title is exactly the title this job sent and
    /// whose group matches; absence counts only after [`crate::machine::Policy::absent_after`].
    ScanLaunchSent {
        /// The group the launch targets; `None` in a checkpoint migrated from format 1
        /// (then a proven absence goes back to the group lookup).
        group_id: Option<u64>,
        /// When the intent was recorded.
        sent_at: Timestamp,
    },
    /// The scan exists; polling it.
    ScanRunning {
        /// The scan.
        scan: ScanInfo,
        /// The last state Qualys reported (None before the first poll).
        last: Option<ScanStatus>,
        /// Consecutive polls in which the scan was not listed.
        missing_polls: u32,
    },
    /// The scan is finished and processed; about to launch the report (nothing sent yet).
    LaunchingReport {
        /// The finished scan.
        scan: ScanInfo,
    },
    /// A report launch may have reached Qualys. Recovery lists reports and adopts the one
    /// whose title carries the job id.
    ReportLaunchSent {
        /// The finished scan.
        scan: ScanInfo,
        /// When the intent was recorded.
        sent_at: Timestamp,
    },
    /// The report exists; polling it.
    ReportRunning {
        /// The finished scan.
        scan: ScanInfo,
        /// The report's id.
        report_id: u64,
        /// The last state Qualys reported.
        last: Option<ReportState>,
        /// Consecutive polls in which the report was not listed.
        missing_polls: u32,
    },
    /// Producing the outputs: report download, raw results, findings, summary. Every part
    /// writes through a temporary file and a rename, so repeating this step is safe.
    Downloading {
        /// The finished scan.
        scan: ScanInfo,
        /// The finished report, when one was wanted.
        report_id: Option<u64>,
        /// The job the delta compares against (the organization's previous finished job,
        /// [`crate::machine::baseline`]), chosen when the job entered this step and kept,
        /// so a repeat after a crash compares against the same job; `None`: no baseline.
        baseline: Option<String>,
    },
    /// Everything is done.
    Done {
        /// The finished scan.
        scan: ScanInfo,
        /// The report, when one was made.
        report_id: Option<u64>,
        /// Why a wanted step was skipped (a scan that reached no host: no report), if any.
        note: Option<String>,
    },
    /// Stopped for good, with Qualys's text or our reason.
    Failed {
        /// The public step name at which the job failed.
        at: StepName,
        /// Why, in one line.
        reason: String,
        /// The scan, if one was launched.
        scan_ref: Option<String>,
        /// The scan's last known state, if one was launched.
        last_scan: Option<ScanStatus>,
    },
    /// Cancel requested (or a scan out of scope): cancelling whatever is running remotely.
    Canceling {
        /// The scan to cancel, if one exists.
        scan_ref: Option<String>,
        /// The report to cancel, if one exists.
        report_id: Option<u64>,
        /// Set when the machine cancels on its own (a scan targeting addresses outside the
        /// scope): the job then ends `Failed` with this reason instead of `Canceled`.
        fail_reason: Option<String>,
        /// The scan's last known state.
        last_scan: Option<ScanStatus>,
    },
    /// Canceled on request.
    Canceled {
        /// The scan, if one was launched.
        scan_ref: Option<String>,
        /// The scan's last known state.
        last_scan: Option<ScanStatus>,
    },
    /// The pre-flight: checking, before anything is spent, what Qualys can tell about the
    /// job's report template and scanner appliance ([`Action::Preflight`]). Nothing sent
    /// yet. (Last in the enum: the stored records' variant indices stay as they were.)
    Checking,
    /// A later step failed, but the scan has results worth keeping (it ended `Canceled`,
    /// `Paused` or `Error`, or it finished and the report failed): fetching the raw results
    /// and making the action items from them, then `Failed` with `reason`. Repeating it is
    /// safe, as for `Downloading`. (After `Checking`: stored indices never move.)
    Salvaging {
        /// The scan whose results are fetched.
        scan: ScanInfo,
        /// The scan's last known state.
        last_scan: Option<ScanStatus>,
        /// The public step at which the job failed.
        failed_at: StepName,
        /// Why the job fails.
        reason: String,
    },
}

/// What the driver knows of a launched scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanInfo {
    /// Qualys's scan reference, `scan/<epoch>.<n>`.
    pub scan_ref: String,
    /// When the scan was launched (Qualys's LAUNCH_DATETIME when known, else our clock).
    pub launched_at: Timestamp,
    /// The scan's TARGET as the scan list reported it at the first poll that carried one
    /// (checked against the scope then); `None` before.
    pub target: Option<String>,
}

/// A scan's state as reported by the scan list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStatus {
    /// STATUS/STATE.
    pub state: ScanState,
    /// STATUS/SUB_STATE, such as `No_Host` or `No_Vuln`.
    pub sub_state: Option<String>,
    /// PROCESSED = 1.
    pub processed: bool,
}

/// The VM scan states. Unknown spellings are kept and treated as non-terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScanState {
    /// Submitted (not documented for VM scans, seen elsewhere).
    Submitted,
    /// Queued.
    Queued,
    /// Loading.
    Loading,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Finished (check `processed`).
    Finished,
    /// Error.
    Error,
    /// Canceled.
    Canceled,
    /// Anything else, kept verbatim.
    Other(String),
}

impl ScanState {
    /// Qualys's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ScanState::Submitted => "Submitted",
            ScanState::Queued => "Queued",
            ScanState::Loading => "Loading",
            ScanState::Running => "Running",
            ScanState::Paused => "Paused",
            ScanState::Finished => "Finished",
            ScanState::Error => "Error",
            ScanState::Canceled => "Canceled",
            ScanState::Other(s) => s,
        }
    }

    /// Reads Qualys's spelling (trimmed, case-insensitive); unknown text becomes `Other`.
    pub fn parse(s: &str) -> ScanState {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "submitted" => ScanState::Submitted,
            "queued" => ScanState::Queued,
            "loading" => ScanState::Loading,
            "running" => ScanState::Running,
            "paused" => ScanState::Paused,
            "finished" => ScanState::Finished,
            "error" => ScanState::Error,
            "canceled" | "cancelled" => ScanState::Canceled,
            _ => ScanState::Other(t.to_string()),
        }
    }
}

/// The report states of the report list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportState {
    /// Submitted.
    Submitted,
    /// Running.
    Running,
    /// Finished: ready to fetch.
    Finished,
    /// Canceled.
    Canceled,
    /// Errors.
    Errors,
    /// Anything else, kept verbatim.
    Other(String),
}

impl ReportState {
    /// Qualys's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ReportState::Submitted => "Submitted",
            ReportState::Running => "Running",
            ReportState::Finished => "Finished",
            ReportState::Canceled => "Canceled",
            ReportState::Errors => "Errors",
            ReportState::Other(s) => s,
        }
    }

    /// Reads Qualys's spelling (trimmed, case-insensitive); unknown text becomes `Other`.
    pub fn parse(s: &str) -> ReportState {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "submitted" => ReportState::Submitted,
            "running" => ReportState::Running,
            "finished" => ReportState::Finished,
            "canceled" | "cancelled" => ReportState::Canceled,
            "errors" | "error" => ReportState::Errors,
            _ => ReportState::Other(t.to_string()),
        }
    }
}

/// The public step names of SPEC.md (`status.json`'s `state`). Several internal states
/// share one public name (for example every group state is `creating_group`).
///
/// As JSON a step is its SPEC spelling ([`StepName::as_str`], `snake_case`); the stored
/// records (bincode) keep the variant's index, so the spelling does not touch the codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    /// `accepted`
    Accepted,
    /// `adding_ips`
    AddingIps,
    /// `creating_group`
    CreatingGroup,
    /// `launching_scan`
    LaunchingScan,
    /// `scan_running`
    ScanRunning,
    /// `launching_report`
    LaunchingReport,
    /// `report_running`
    ReportRunning,
    /// `downloading`
    Downloading,
    /// `done`
    Done,
    /// `failed`
    Failed,
    /// `canceled`
    Canceled,
}

impl StepName {
    /// Every public step, in workflow order (metrics show each, with 0 when no job is there).
    pub const ALL: [StepName; 11] = [
        StepName::Accepted,
        StepName::AddingIps,
        StepName::CreatingGroup,
        StepName::LaunchingScan,
        StepName::ScanRunning,
        StepName::LaunchingReport,
        StepName::ReportRunning,
        StepName::Downloading,
        StepName::Done,
        StepName::Failed,
        StepName::Canceled,
    ];

    /// The SPEC spelling, as written in `status.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Accepted => "accepted",
            StepName::AddingIps => "adding_ips",
            StepName::CreatingGroup => "creating_group",
            StepName::LaunchingScan => "launching_scan",
            StepName::ScanRunning => "scan_running",
            StepName::LaunchingReport => "launching_report",
            StepName::ReportRunning => "report_running",
            StepName::Downloading => "downloading",
            StepName::Done => "done",
            StepName::Failed => "failed",
            StepName::Canceled => "canceled",
        }
    }

    /// True for `done`, `failed` and `canceled`.
    pub fn is_terminal(self) -> bool {
        matches!(self, StepName::Done | StepName::Failed | StepName::Canceled)
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl JobState {
    /// The public step name of this state.
    pub fn step_name(&self) -> StepName {
        match self {
            JobState::Accepted | JobState::Checking => StepName::Accepted,
            JobState::AddingIps => StepName::AddingIps,
            JobState::FindingGroup
            | JobState::CreatingGroup
            | JobState::GroupCreateSent { .. }
            | JobState::ExtendingGroup { .. }
            | JobState::GroupExtendSent { .. } => StepName::CreatingGroup,
            JobState::LaunchingScan { .. } | JobState::ScanLaunchSent { .. } => {
                StepName::LaunchingScan
            }
            JobState::ScanRunning { .. } => StepName::ScanRunning,
            JobState::LaunchingReport { .. } | JobState::ReportLaunchSent { .. } => {
                StepName::LaunchingReport
            }
            JobState::ReportRunning { .. } => StepName::ReportRunning,
            JobState::Downloading { .. } | JobState::Salvaging { .. } => StepName::Downloading,
            JobState::Done { .. } => StepName::Done,
            JobState::Failed { .. } => StepName::Failed,
            // Canceling a scan out of scope on our own: still the scan step, then failed.
            JobState::Canceling {
                fail_reason: Some(_),
                ..
            } => StepName::ScanRunning,
            // Not terminal yet, but the user asked for it: shown as canceled.
            JobState::Canceling { .. } | JobState::Canceled { .. } => StepName::Canceled,
        }
    }

    /// The one table of requests that are not safe to repeat (group create and edit, scan
    /// launch, report launch): for a state whose action sends one, the `…Sent` state to
    /// record, flushed, *before* sending it (`sent_at = now`); `None` for every other state.
    /// [`crate::machine::intent`] and [`crate::machine::needs_intent`] read it; the Qualys
    /// client keeps its own per-call list (`Call::safe_to_repeat`) only to classify a lost
    /// answer, because it does not depend on the core.
    pub fn sent(&self, now: Timestamp) -> Option<JobState> {
        Some(match self {
            JobState::CreatingGroup => JobState::GroupCreateSent { sent_at: now },
            JobState::ExtendingGroup { group_id } => JobState::GroupExtendSent {
                group_id: *group_id,
                sent_at: now,
            },
            JobState::LaunchingScan { group_id } => JobState::ScanLaunchSent {
                group_id: Some(*group_id),
                sent_at: now,
            },
            JobState::LaunchingReport { scan } => JobState::ReportLaunchSent {
                scan: scan.clone(),
                sent_at: now,
            },
            _ => return None,
        })
    }

    /// True when no further action will ever be taken.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Done { .. } | JobState::Failed { .. } | JobState::Canceled { .. }
        )
    }

    /// The scan reference, once known.
    pub fn scan_ref(&self) -> Option<&str> {
        match self {
            JobState::ScanRunning { scan, .. }
            | JobState::LaunchingReport { scan }
            | JobState::ReportLaunchSent { scan, .. }
            | JobState::ReportRunning { scan, .. }
            | JobState::Downloading { scan, .. }
            | JobState::Salvaging { scan, .. }
            | JobState::Done { scan, .. } => Some(&scan.scan_ref),
            JobState::Failed { scan_ref, .. }
            | JobState::Canceling { scan_ref, .. }
            | JobState::Canceled { scan_ref, .. } => scan_ref.as_deref(),
            _ => None,
        }
    }

    /// The scan's last known state: what the last poll said, `Submitted` before the first
    /// poll, `Finished` (processed) once past the scan, and what was kept on a failure or
    /// a cancel. `None` when no scan is known.
    pub fn last_scan_status(&self) -> Option<ScanStatus> {
        match self {
            JobState::ScanRunning { last, .. } => Some(last.clone().unwrap_or(ScanStatus {
                state: ScanState::Submitted,
                sub_state: None,
                processed: false,
            })),
            JobState::LaunchingReport { .. }
            | JobState::ReportLaunchSent { .. }
            | JobState::ReportRunning { .. }
            | JobState::Downloading { .. }
            | JobState::Done { .. } => Some(ScanStatus {
                state: ScanState::Finished,
                sub_state: None,
                processed: true,
            }),
            JobState::Failed { last_scan, .. }
            | JobState::Salvaging { last_scan, .. }
            | JobState::Canceling { last_scan, .. }
            | JobState::Canceled { last_scan, .. } => last_scan.clone(),
            _ => None,
        }
    }

    /// The report id, once known.
    pub fn report_id(&self) -> Option<u64> {
        match self {
            JobState::ReportRunning { report_id, .. } => Some(*report_id),
            JobState::Downloading { report_id, .. }
            | JobState::Done { report_id, .. }
            | JobState::Canceling { report_id, .. } => *report_id,
            _ => None,
        }
    }
}

/// What the driver must do next for a job. Derived from the state alone
/// ([`crate::machine::action`]); the due time lives in the [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Check what the job's scan and report depend on and Qualys can tell beforehand: the
    /// report template (exists, a Scan template, TYPE Auto or Manual) and the scanner
    /// appliance (exists). Reads only. A job that cannot succeed fails here, before its
    /// scan is launched.
    Preflight,
    /// Add the job's IPs to the subscription (idempotent).
    AddIps,
    /// List asset groups by the organization's title (a read).
    FindGroup,
    /// Create the asset group. Not safe to repeat: record the intent first
    /// ([`JobState::sent`] holds which actions need one).
    CreateGroup,
    /// Add the job's IPs to an existing group. Recorded as an intent first.
    ExtendGroup {
        /// The group.
        group_id: u64,
    },
    /// Launch the scan of the group. Not safe to repeat: record the intent first.
    LaunchScan {
        /// The asset group, by id.
        group_id: u64,
    },
    /// List scans launched after `launched_after` and adopt the one whose title is exactly
    /// this job's scan title and whose group matches ([`crate::machine::adopt`]).
    FindScan {
        /// Lower bound for `launched_after_datetime` (already widened for clock skew).
        launched_after: Timestamp,
    },
    /// Ask for the scan's state (the driver batches these into one list call per round).
    PollScan {
        /// The scan.
        scan_ref: String,
        /// Lower bound for the scan list's `launched_after_datetime`: the scan's launch time
        /// widened by [`crate::machine::Policy::lookup_slack`] for clock skew. A batched
        /// list asks from the earliest bound of its polls.
        listed_after: Timestamp,
    },
    /// Launch the report. Not safe to repeat: record the intent first.
    LaunchReport {
        /// The finished scan the report covers.
        scan_ref: String,
    },
    /// List reports and match the job id in the title.
    FindReport,
    /// Ask for the report's state (batched like scan polls).
    PollReport {
        /// The report.
        report_id: u64,
    },
    /// Produce the outputs (idempotent: temporary files and renames).
    Download {
        /// The finished scan.
        scan_ref: String,
        /// The finished report, when one was wanted.
        report_id: Option<u64>,
        /// The job the delta compares against, as kept in `Downloading`.
        baseline: Option<String>,
    },
    /// Cancel whatever runs remotely (idempotent enough: a second cancel is refused harmlessly).
    Cancel {
        /// The scan, if any.
        scan_ref: Option<String>,
        /// The report, if any.
        report_id: Option<u64>,
    },
    /// Nothing: the job is finished.
    Nothing,
}

/// What came of an action. Produced by the driver from the API's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The driver starts working on an `Accepted` job.
    Start,
    /// The pre-flight found nothing that would make the job fail later.
    Preflighted,
    /// The IPs are in the subscription.
    IpsAdded,
    /// The group lookup found the group (its title is exactly the organization).
    GroupFound {
        /// Its id.
        group_id: u64,
        /// Every IPv4 address the group holds (its whole IP_SET).
        ips: IpSet,
        /// Entries of the group the driver could not read as IPv4 addresses (IPv6, …),
        /// verbatim: they cannot be shown to lie within the scope.
        unreadable: Vec<String>,
    },
    /// The group lookup found no group of that title.
    GroupAbsent,
    /// The group was created with the job's IPs; its id when Qualys returned one (`ID`).
    GroupCreated {
        /// The new group's id, when the answer carried it.
        group_id: Option<u64>,
    },
    /// The job's IPs were added to the group.
    GroupExtended,
    /// The scan was launched.
    ScanLaunched(ScanInfo),
    /// The scan lookup found the job's scan.
    ScanFound(ScanInfo),
    /// The scan lookup proved there is no scan for this job.
    ScanAbsent,
    /// The scan list reported this state, and the scan's TARGET when it listed one.
    ScanPolled {
        /// STATE, SUB_STATE, PROCESSED.
        status: ScanStatus,
        /// TARGET, verbatim.
        target: Option<String>,
    },
    /// The scan list did not contain the scan.
    ScanNotListed,
    /// The report was launched.
    ReportLaunched {
        /// Its id.
        report_id: u64,
    },
    /// The report lookup found the job's report.
    ReportFound {
        /// Its id.
        report_id: u64,
    },
    /// The report lookup proved there is no report for this job.
    ReportAbsent,
    /// The report list reported this state (None: not listed).
    ReportPolled(Option<ReportState>),
    /// The report is not ready to fetch yet (CODE 7001).
    ReportNotReady,
    /// Every output is written.
    Downloaded,
    /// The remote objects are cancelled (or were already gone).
    CancelDone,
    /// The API said wait (409 / ToWait / Remaining = 0 / a paused account): not before `until`.
    /// The request was not applied.
    Deferred {
        /// Earliest time to try again.
        until: Timestamp,
        /// Why, for the status file.
        reason: String,
        /// Whether the wait holds this job only or every job (an account problem).
        scope: DeferScope,
    },
    /// The request behind an intent was provably not applied: Qualys refused it with a 409
    /// (a blocked call is not run, qualys-api.md §2.2), or the executor did not send it
    /// at all (no slot soon enough after the intent). Unlike an unanswered send this needs
    /// no lookup: the job goes back to the step before its intent, due at `until`.
    NotSent {
        /// Earliest time to send again.
        until: Timestamp,
        /// Why, for the status file.
        reason: String,
    },
    /// A failure that did not apply the request (refused connection, 5xx on a read, …).
    Transient {
        /// Why, for the status file.
        reason: String,
    },
    /// A failure after a request that is not safe to repeat may have been applied
    /// (timeout or reset after sending, 5xx on a launch). Resolved by a lookup.
    Ambiguous {
        /// Why, for the status file.
        reason: String,
    },
    /// A failure that retrying cannot fix (invalid parameter, …): fails the job.
    Permanent {
        /// Qualys's text or our reason.
        reason: String,
    },
    /// The user asked to cancel the job.
    CancelRequested,
}

/// Who a [`Outcome::Deferred`] holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferScope {
    /// This job only (a rate limit, a 409 of this API).
    Job,
    /// Every job: the account cannot work (bad credentials, expired, EULA). The driver
    /// pauses until `until`.
    Daemon,
}

/// One entry of the job's history: a public step entered at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The step entered.
    pub step: StepName,
    /// When.
    pub at: Timestamp,
}

/// Everything the machine persists about a job's progress. Written to the store at every
/// transition; the store's record adds the job's identity and spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The current step.
    pub state: JobState,
    /// The wall-clock time the next action is due (never earlier).
    pub due: Timestamp,
    /// Consecutive failed attempts of the current step (0 after any progress).
    pub attempts: u32,
    /// When the current run of failures began.
    pub failing_since: Option<Timestamp>,
    /// The last error seen (cleared on progress); `failed` jobs keep their reason in the state.
    pub last_error: Option<String>,
    /// A cancel was requested while a lookup was pending; applied once it resolves.
    pub cancel_requested: bool,
    /// Each public step entered, with its time.
    pub history: Vec<HistoryEntry>,
}

impl Checkpoint {
    /// The checkpoint of a freshly accepted job, due at once.
    pub fn accepted(now: Timestamp) -> Checkpoint {
        Checkpoint {
            state: JobState::Accepted,
            due: now,
            attempts: 0,
            failing_since: None,
            last_error: None,
            cancel_requested: false,
            history: vec![HistoryEntry {
                step: StepName::Accepted,
                at: now,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StepName;

    #[test]
    fn step_names_are_spelled_in_json_as_the_spec_does() {
        // An exhaustive match: a new step fails to compile here until ALL lists it.
        let index = |s: StepName| match s {
            StepName::Accepted => 0,
            StepName::AddingIps => 1,
            StepName::CreatingGroup => 2,
            StepName::LaunchingScan => 3,
            StepName::ScanRunning => 4,
            StepName::LaunchingReport => 5,
            StepName::ReportRunning => 6,
            StepName::Downloading => 7,
            StepName::Done => 8,
            StepName::Failed => 9,
            StepName::Canceled => 10,
        };
        let all = StepName::ALL;
        for (n, step) in all.iter().enumerate() {
            assert_eq!(index(*step), n, "ALL lists {step:?} once, in order");
        }
        for step in all {
            let json = serde_json::to_value(step).expect("serializes");
            assert_eq!(json, step.as_str(), "{step:?}");
            let back: StepName = serde_json::from_value(json).expect("reads back");
            assert_eq!(back, step);
            assert_eq!(step.to_string(), step.as_str());
        }
        assert!(serde_json::from_str::<StepName>("\"Done\"").is_err());
    }
}
