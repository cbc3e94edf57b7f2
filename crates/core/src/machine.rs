//! The job state machine's transitions: pure functions of (checkpoint, outcome, now).
//!
//! No IO, no clock, no randomness: jitter comes from a seed the caller derives from the
//! job id, so the same inputs always give the same checkpoint.
//!
//! The driver loop, per job: take [`action`] of the checkpoint's state; when the action
//! [needs an intent](needs_intent), write and flush [`intent`]'s checkpoint first;
//! execute the action; write and flush [`step`]'s checkpoint for the outcome. The outcome
//! of a request sent after an intent is applied to the `…Sent` checkpoint.
//!
//! Choices made here (beyond the state diagram in [`crate::state`]):
//! - `Accepted` calls for [`Action::Preflight`] like `Checking`; the driver may feed
//!   [`Outcome::Start`] first (→ `Checking`) or go straight to `Preflighted`. `Checking`
//!   is still the public step `accepted`: nothing is sent until the pre-flight passed.
//! - In a `…Sent` state, `Transient` and `Deferred` keep the `…Sent` state. The outcome
//!   may answer the launch (then it was not applied) or the lookup (then nothing is known),
//!   and the machine cannot tell which: going back to the pre-intent state after a refused
//!   *lookup* could launch twice. Staying costs one extra lookup and is always safe.
//! - A finished but unprocessed scan is polled again after `report_every` (processing
//!   usually takes a minute or two, far less than `scan_every`).
//! - Lookups that find nothing (`ScanAbsent`, `ReportAbsent`, `GroupAbsent` after an
//!   intent) and polls that miss the object are not progress: the retry counters carry on,
//!   so a launch that keeps failing still backs off.
//! - Cancel: states with nothing running remotely (including `LaunchingReport` and
//!   `Downloading`: the scan is finished) go straight to `Canceled`; `ScanRunning` and
//!   `ReportRunning` go to `Canceling`. A `Permanent` failure while canceling ends in
//!   `Canceled` with the error kept in `last_error` (the user's wish is met locally).
//!   Once Qualys took the cancel (`CancelDone`), the scan's last state is `Canceled`, as
//!   Qualys lists it (a scan that had already ended keeps its state).

use crate::backoff::retry_delay;
use crate::ip::IpSet;
use crate::state::{
    Action, Checkpoint, HistoryEntry, JobState, Outcome, ReportState, ScanInfo, ScanState,
    ScanStatus, StepName,
};
use crate::time::{format_duration, Timestamp};

/// What the job wants, fixed at acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// A report is launched after the scan (results include `report` and a template is set).
    pub report: bool,
    /// The raw results are fetched (results include `raw`): a failed job keeps what its
    /// scan found ([`salvage`]).
    pub raw: bool,
}

/// Everything a transition needs besides the checkpoint, the outcome and `now`.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Timings.
    pub policy: &'a Policy,
    /// The job's plan.
    pub plan: Plan,
    /// Seed for retry jitter (derive it from the job id).
    pub seed: u64,
    /// `[scope].authorized`: no scan may target an address outside it.
    pub scope: &'a IpSet,
    /// The job's addresses.
    pub ips: &'a IpSet,
    /// The baseline the driver found for this job ([`baseline::choose`]), kept in
    /// `Downloading` when the job enters it; the driver need only look it up for an outcome
    /// that led there ([`baseline::entered_downloading`]) and step again with it.
    pub baseline: Option<&'a str>,
}

/// The action a state calls for. A `…Sent` state calls for a lookup, never a second request.
///
/// `policy` supplies `lookup_slack`, which widens the scan lookups' time windows (the
/// launch lookup's and the poll's), so the executor needs no policy of its own for them.
pub fn action(state: &JobState, policy: &Policy) -> Action {
    match state {
        JobState::Accepted | JobState::Checking => Action::Preflight,
        JobState::AddingIps => Action::AddIps,
        JobState::FindingGroup
        | JobState::GroupCreateSent { .. }
        | JobState::GroupExtendSent { .. } => Action::FindGroup,
        JobState::CreatingGroup => Action::CreateGroup,
        JobState::ExtendingGroup { group_id } => Action::ExtendGroup {
            group_id: *group_id,
        },
        JobState::LaunchingScan { group_id } => Action::LaunchScan {
            group_id: *group_id,
        },
        JobState::ScanLaunchSent { sent_at, .. } => Action::FindScan {
            launched_after: sent_at.minus(policy.lookup_slack),
        },
        JobState::ScanRunning { scan, .. } => Action::PollScan {
            scan_ref: scan.scan_ref.clone(),
            listed_after: scan.launched_at.minus(policy.lookup_slack),
        },
        JobState::LaunchingReport { scan } => Action::LaunchReport {
            scan_ref: scan.scan_ref.clone(),
        },
        JobState::ReportLaunchSent { .. } => Action::FindReport,
        JobState::ReportRunning { report_id, .. } => Action::PollReport {
            report_id: *report_id,
        },
        JobState::Downloading {
            scan,
            report_id,
            baseline,
        } => Action::Download {
            scan_ref: scan.scan_ref.clone(),
            report_id: *report_id,
            baseline: baseline.clone(),
        },
        JobState::Salvaging { scan, .. } => Action::Download {
            scan_ref: scan.scan_ref.clone(),
            report_id: None,
            baseline: None,
        },
        JobState::Canceling {
            scan_ref,
            report_id,
            ..
        } => Action::Cancel {
            scan_ref: scan_ref.clone(),
            report_id: *report_id,
        },
        JobState::Done { .. } | JobState::Failed { .. } | JobState::Canceled { .. } => {
            Action::Nothing
        }
    }
}

/// The checkpoint to write and flush *before* executing `action(cp.state)` when that action
/// [needs an intent](needs_intent); `None` otherwise.
///
/// The intent moves to the `…Sent` state ([`JobState::sent`]) with `sent_at = now` and
/// `due = now`; retry counters and history are kept (same public step).
pub fn intent(cp: &Checkpoint, now: Timestamp) -> Option<Checkpoint> {
    Some(Checkpoint {
        state: cp.state.sent(now)?,
        due: now,
        ..cp.clone()
    })
}

/// True when the action `state` calls for sends a request that is not safe to repeat:
/// the driver must first commit [`intent`]'s checkpoint (see [`JobState::sent`]).
pub fn needs_intent(state: &JobState) -> bool {
    state.sent(Timestamp(0)).is_some()
}

/// True for the `…Sent` states: a request that is not safe to repeat may have reached Qualys.
pub(crate) fn is_sent(state: &JobState) -> bool {
    matches!(
        state,
        JobState::GroupCreateSent { .. }
            | JobState::GroupExtendSent { .. }
            | JobState::ScanLaunchSent { .. }
            | JobState::ReportLaunchSent { .. }
    )
}

/// The next checkpoint after `outcome`, observed at `now`.
///
/// Never panics. Terminal checkpoints are returned unchanged; an outcome that does not fit
/// the state leaves the checkpoint unchanged except for `last_error`, which names both.
pub fn step(cp: &Checkpoint, outcome: &Outcome, now: Timestamp, ctx: &Ctx<'_>) -> Checkpoint {
    if cp.state.is_terminal() {
        return cp.clone();
    }
    match outcome {
        Outcome::Deferred { until, reason, .. } => Checkpoint {
            due: (*until).max(now),
            last_error: Some(reason.clone()),
            ..cp.clone()
        },
        // Only the live executor says this, of the send it just refrained from or saw
        // refused: back to the step before the intent. Elsewhere it is a plain wait.
        Outcome::NotSent { until, reason } => {
            let mut next = Checkpoint {
                state: unsent(&cp.state).unwrap_or_else(|| cp.state.clone()),
                due: (*until).max(now),
                last_error: Some(reason.clone()),
                ..cp.clone()
            };
            record_step(&mut next, cp, now);
            apply_pending_cancel(next, now)
        }
        Outcome::Transient { reason } => retry(cp, cp.state.clone(), reason, now, ctx),
        Outcome::Ambiguous { reason } => {
            // The request may have been applied: make sure the next action is the lookup.
            let state = intent(cp, now).map_or_else(|| cp.state.clone(), |i| i.state);
            retry(cp, state, reason, now, ctx)
        }
        Outcome::Permanent { reason } => match &cp.state {
            JobState::Canceling {
                fail_reason: Some(why),
                ..
            } => fail(cp, format!("{why}; cancel failed: {reason}"), now),
            JobState::Canceling {
                scan_ref,
                last_scan,
                ..
            } => {
                let mut next = enter(
                    cp,
                    JobState::Canceled {
                        scan_ref: scan_ref.clone(),
                        last_scan: last_scan.clone(),
                    },
                    now,
                    now,
                );
                next.last_error = Some(format!("cancel failed: {reason}"));
                next
            }
            JobState::Salvaging { .. } => salvage::finished(cp, Some(reason), now),
            _ => salvage::salvage(cp, outcome, reason, now, ctx)
                .unwrap_or_else(|| fail(cp, reason.clone(), now)),
        },
        Outcome::CancelRequested => cancel(cp, now),
        Outcome::Downloaded if matches!(cp.state, JobState::Salvaging { .. }) => {
            salvage::finished(cp, None, now)
        }
        // Straight from `Accepted` (a record of a build before the pre-flight): through
        // `AddingIps`, so the history skips no step.
        Outcome::IpsAdded if cp.state == JobState::Accepted => step(
            &step(cp, &Outcome::Preflighted, now, ctx),
            outcome,
            now,
            ctx,
        ),
        _ => match next(cp, outcome, now, ctx) {
            Next::Advance(state, due) => enter(cp, state, due, now),
            Next::Unresolved { state, due, note } => {
                let mut next = Checkpoint {
                    state,
                    due,
                    ..cp.clone()
                };
                if let Some(note) = note {
                    next.last_error = Some(note);
                }
                record_step(&mut next, cp, now);
                apply_pending_cancel(next, now)
            }
            Next::Fail(reason) => salvage::salvage(cp, outcome, &reason, now, ctx)
                .unwrap_or_else(|| fail(cp, reason, now)),
            Next::FailWithScan(reason, scan) => {
                let mut failed = fail(cp, reason, now);
                if let JobState::Failed { last_scan, .. } = &mut failed.state {
                    *last_scan = scan;
                }
                failed
            }
            Next::Mismatch => Checkpoint {
                last_error: Some(format!(
                    "ignored outcome {} in state {}",
                    outcome_name(outcome),
                    state_name(&cp.state)
                )),
                ..cp.clone()
            },
        },
    }
}

/// Where a success-type outcome leads.
enum Next {
    /// Progress: counters reset.
    Advance(JobState, Timestamp),
    /// A change that is not progress (a lookup found nothing, a poll missed the object):
    /// counters carry on; `note` replaces `last_error` when given.
    Unresolved {
        state: JobState,
        due: Timestamp,
        note: Option<String>,
    },
    /// The job fails with this reason.
    Fail(String),
    /// The job fails with this reason, its scan last seen in this state (a scan the
    /// machine had canceled).
    FailWithScan(String, Option<ScanStatus>),
    /// The outcome does not fit the state.
    Mismatch,
}

fn next(cp: &Checkpoint, outcome: &Outcome, now: Timestamp, ctx: &Ctx<'_>) -> Next {
    use JobState as S;
    use Outcome as O;
    let p = ctx.policy;
    let state = &cp.state;
    let unresolved = |state: JobState| Next::Unresolved {
        state,
        due: now,
        note: None,
    };
    match (state, outcome) {
        (S::Accepted, O::Start) => Next::Advance(S::Checking, now),
        (S::Accepted | S::Checking, O::Preflighted) => Next::Advance(S::AddingIps, now),
        (S::Accepted | S::AddingIps, O::IpsAdded) => Next::Advance(S::FindingGroup, now),
        (
            S::FindingGroup | S::GroupCreateSent { .. } | S::GroupExtendSent { .. },
            O::GroupFound {
                group_id,
                ips,
                unreadable,
            },
        ) => group_found(state, *group_id, ips, unreadable, now, ctx),
        (S::FindingGroup, O::GroupAbsent) => Next::Advance(S::CreatingGroup, now),
        (S::GroupCreateSent { sent_at }, O::GroupAbsent) => {
            not_yet_absent(state, *sent_at, "the asset group", now, p)
                .unwrap_or_else(|| unresolved(S::CreatingGroup))
        }
        // An edit cannot create a group: the group was deleted meanwhile.
        (S::GroupExtendSent { .. }, O::GroupAbsent) => unresolved(S::CreatingGroup),
        (S::CreatingGroup | S::GroupCreateSent { .. }, O::GroupCreated { group_id }) => {
            match group_id {
                Some(g) => match outside_scope(ctx.ips, &[], ctx.scope) {
                    Some(outside) => Next::Fail(group_outside_reason(*g, &outside)),
                    None => Next::Advance(S::LaunchingScan { group_id: *g }, now),
                },
                // No `ID` in the answer: the lookup finds the group (and its id) by title.
                None => Next::Unresolved {
                    state: S::GroupCreateSent {
                        sent_at: sent_at_of(state).unwrap_or(now),
                    },
                    due: now,
                    note: Some("asset group created; looking its id up".to_string()),
                },
            }
        }
        (
            S::ExtendingGroup { group_id } | S::GroupExtendSent { group_id, .. },
            O::GroupExtended,
        ) => Next::Advance(
            S::LaunchingScan {
                group_id: *group_id,
            },
            now,
        ),
        (S::LaunchingScan { .. } | S::ScanLaunchSent { .. }, O::ScanLaunched(scan))
        | (S::ScanLaunchSent { .. }, O::ScanFound(scan)) => {
            let first = crate::schedule::first_check_at(scan, p).max(now);
            Next::Advance(scan_running(scan.clone(), None, 0), first)
        }
        (S::ScanLaunchSent { group_id, sent_at }, O::ScanAbsent) => {
            not_yet_absent(state, *sent_at, "the scan", now, p).unwrap_or_else(|| {
                unresolved(match group_id {
                    Some(g) => S::LaunchingScan { group_id: *g },
                    // Migrated from format 1 without the group: find it again first.
                    None => S::FindingGroup,
                })
            })
        }
        (S::ScanRunning { scan, .. }, O::ScanPolled { status, target }) => {
            scan_polled(scan, status, target.as_deref(), now, ctx)
        }
        (
            S::ScanRunning {
                scan,
                last,
                missing_polls,
            },
            O::ScanNotListed,
        ) => {
            let missing = missing_polls.saturating_add(1);
            if missing >= p.max_missing_polls {
                Next::Fail(format!(
                    "scan {} not listed in {missing} polls in a row",
                    scan.scan_ref
                ))
            } else if too_old(scan, now, p) {
                Next::Fail(give_up_reason(scan, last.as_ref(), p))
            } else {
                Next::Unresolved {
                    state: scan_running(scan.clone(), last.clone(), missing),
                    due: now.plus(p.scan_every),
                    note: Some(format!(
                        "scan {} not listed ({missing} of {} polls)",
                        scan.scan_ref, p.max_missing_polls
                    )),
                }
            }
        }
        (
            S::LaunchingReport { scan } | S::ReportLaunchSent { scan, .. },
            O::ReportLaunched { report_id },
        )
        | (S::ReportLaunchSent { scan, .. }, O::ReportFound { report_id }) => Next::Advance(
            report_running(scan.clone(), *report_id, None, 0),
            now.plus(p.report_every),
        ),
        (S::ReportLaunchSent { scan, sent_at }, O::ReportAbsent) => {
            not_yet_absent(state, *sent_at, "the report", now, p)
                .unwrap_or_else(|| unresolved(S::LaunchingReport { scan: scan.clone() }))
        }
        (
            S::ReportRunning {
                scan,
                report_id,
                missing_polls,
                ..
            },
            O::ReportPolled(polled),
        ) => {
            let running = ReportRun {
                scan,
                report_id: *report_id,
                missing_polls: *missing_polls,
                since: report_running_since(cp),
            };
            report_polled(&running, polled.as_ref(), now, p, ctx.baseline)
        }
        // Back to polling: the report is fetched before any action item runs, so no delta
        // was made yet and the baseline is chosen again when the job re-enters.
        (
            S::Downloading {
                scan,
                report_id: Some(report_id),
                ..
            },
            O::ReportNotReady,
        ) => Next::Unresolved {
            state: report_running(scan.clone(), *report_id, None, 0),
            due: now.plus(p.report_every),
            note: Some(format!("report {report_id} not ready to fetch yet")),
        },
        (
            S::Downloading {
                scan, report_id, ..
            },
            O::Downloaded,
        ) => Next::Advance(
            S::Done {
                scan: scan.clone(),
                report_id: *report_id,
                // A wanted report is skipped only for a scan that reached no host.
                note: (ctx.plan.report && report_id.is_none()).then(|| no_host_note(scan)),
            },
            now,
        ),
        (
            S::Canceling {
                fail_reason: Some(why),
                scan_ref,
                last_scan,
                ..
            },
            O::CancelDone,
        ) => Next::FailWithScan(why.clone(), canceled_scan(scan_ref, last_scan)),
        (
            S::Canceling {
                scan_ref,
                last_scan,
                ..
            },
            O::CancelDone,
        ) => Next::Advance(
            S::Canceled {
                scan_ref: scan_ref.clone(),
                last_scan: canceled_scan(scan_ref, last_scan),
            },
            now,
        ),
        _ => Next::Mismatch,
    }
}

fn sent_at_of(state: &JobState) -> Option<Timestamp> {
    match state {
        JobState::GroupCreateSent { sent_at }
        | JobState::GroupExtendSent { sent_at, .. }
        | JobState::ScanLaunchSent { sent_at, .. }
        | JobState::ReportLaunchSent { sent_at, .. } => Some(*sent_at),
        _ => None,
    }
}

fn no_host_note(scan: &ScanInfo) -> String {
    format!(
        "no report: scan {} finished with sub-state No_Host (no host alive or reached)",
        scan.scan_ref
    )
}

fn scan_running(scan: ScanInfo, last: Option<ScanStatus>, missing_polls: u32) -> JobState {
    JobState::ScanRunning {
        scan,
        last,
        missing_polls,
    }
}

fn report_running(
    scan: ScanInfo,
    report_id: u64,
    last: Option<ReportState>,
    missing_polls: u32,
) -> JobState {
    JobState::ReportRunning {
        scan,
        report_id,
        last,
        missing_polls,
    }
}

fn too_old(scan: &ScanInfo, now: Timestamp, p: &Policy) -> bool {
    now > scan.launched_at.plus(p.give_up_after)
}

fn give_up_reason(scan: &ScanInfo, last: Option<&ScanStatus>, p: &Policy) -> String {
    let state = last.map_or("Submitted", |s| s.state.as_str());
    format!(
        "scan {} still {state} after {}",
        scan.scan_ref,
        format_duration(p.give_up_after)
    )
}

/// A poll answered. Defense in depth: a TARGET naming anything outside the scope has the
/// scan canceled at once and the job failed; the TARGET is kept in the scan's info.
fn scan_polled(
    scan: &ScanInfo,
    status: &ScanStatus,
    target: Option<&str>,
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> Next {
    let p = ctx.policy;
    let mut scan = scan.clone();
    if let Some(t) = target {
        let (ips, unreadable) = parse_target(t);
        scan.target = Some(t.to_string());
        if let Some(outside) = outside_scope(&ips, &unreadable, ctx.scope) {
            let why = format!(
                "scan {} targets addresses outside [scope].authorized: {outside}; canceled",
                scan.scan_ref
            );
            return Next::Advance(
                JobState::Canceling {
                    scan_ref: Some(scan.scan_ref.clone()),
                    report_id: None,
                    fail_reason: Some(why),
                    last_scan: Some(status.clone()),
                },
                now,
            );
        }
    }
    let scan = &scan;
    match status.state {
        ScanState::Finished
            if status.processed && status.sub_state.as_deref() == Some("No_Host") =>
        {
            Next::Advance(
                JobState::Downloading {
                    scan: scan.clone(),
                    report_id: None,
                    baseline: ctx.baseline.map(str::to_string),
                },
                now,
            )
        }
        ScanState::Finished if status.processed => {
            let next = if ctx.plan.report {
                JobState::LaunchingReport { scan: scan.clone() }
            } else {
                JobState::Downloading {
                    scan: scan.clone(),
                    report_id: None,
                    baseline: ctx.baseline.map(str::to_string),
                }
            };
            Next::Advance(next, now)
        }
        ScanState::Error | ScanState::Canceled => Next::Fail(format!(
            "scan {} ended in state {} (sub-state {})",
            scan.scan_ref,
            status.state.as_str(),
            status.sub_state.as_deref().unwrap_or("none")
        )),
        _ if too_old(scan, now, p) => Next::Fail(give_up_reason(scan, Some(status), p)),
        ScanState::Finished => Next::Advance(
            scan_running(scan.clone(), Some(status.clone()), 0),
            now.plus(p.report_every),
        ),
        _ => Next::Advance(
            scan_running(scan.clone(), Some(status.clone()), 0),
            now.plus(p.scan_every),
        ),
    }
}

/// A report in flight, as [`report_polled`] needs it.
struct ReportRun<'a> {
    scan: &'a ScanInfo,
    report_id: u64,
    missing_polls: u32,
    /// When the job first entered `report_running` (from its history).
    since: Option<Timestamp>,
}

/// When the job first entered `report_running`: a job launches one report, so the first
/// entry is that report's start even if a fetch sent it back to polling later.
fn report_running_since(cp: &Checkpoint) -> Option<Timestamp> {
    cp.history
        .iter()
        .find(|h| h.step == StepName::ReportRunning)
        .map(|h| h.at)
}

fn report_polled(
    run: &ReportRun<'_>,
    polled: Option<&ReportState>,
    now: Timestamp,
    p: &Policy,
    baseline: Option<&str>,
) -> Next {
    let ReportRun {
        scan,
        report_id,
        missing_polls,
        since,
    } = *run;
    let unfinished = !matches!(
        polled,
        Some(ReportState::Finished | ReportState::Errors | ReportState::Canceled)
    );
    if unfinished && since.is_some_and(|t| now > t.plus(p.give_up_after)) {
        let state = polled.map_or("not listed", ReportState::as_str);
        return Next::Fail(format!(
            "report {report_id} still {state} after {}",
            format_duration(p.give_up_after)
        ));
    }
    match polled {
        Some(ReportState::Finished) => Next::Advance(
            JobState::Downloading {
                scan: scan.clone(),
                report_id: Some(report_id),
                baseline: baseline.map(str::to_string),
            },
            now,
        ),
        Some(state @ (ReportState::Errors | ReportState::Canceled)) => Next::Fail(format!(
            "report {report_id} ended in state {}",
            state.as_str()
        )),
        Some(state) => Next::Advance(
            report_running(scan.clone(), report_id, Some(state.clone()), 0),
            now.plus(p.report_every),
        ),
        None => {
            let missing = missing_polls.saturating_add(1);
            if missing >= p.max_missing_polls {
                Next::Fail(format!(
                    "report {report_id} not listed in {missing} polls in a row"
                ))
            } else {
                Next::Unresolved {
                    state: report_running(scan.clone(), report_id, None, missing),
                    due: now.plus(p.report_every),
                    note: Some(format!(
                        "report {report_id} not listed ({missing} of {} polls)",
                        p.max_missing_polls
                    )),
                }
            }
        }
    }
}

/// The step before the intent of a `…Sent` state (the inverse of [`intent`]); `None` for
/// other states, and for a scan launch migrated without its group id.
fn unsent(state: &JobState) -> Option<JobState> {
    match state {
        JobState::GroupCreateSent { .. } => Some(JobState::CreatingGroup),
        JobState::GroupExtendSent { group_id, .. } => Some(JobState::ExtendingGroup {
            group_id: *group_id,
        }),
        JobState::ScanLaunchSent {
            group_id: Some(group_id),
            ..
        } => Some(JobState::LaunchingScan {
            group_id: *group_id,
        }),
        JobState::ReportLaunchSent { scan, .. } => {
            Some(JobState::LaunchingReport { scan: scan.clone() })
        }
        _ => None,
    }
}

/// Progress into `state`, due at `due`: counters and the last error reset (a `Done` with a
/// note, and a cancel of a scan out of scope, show their reason there, so that status.json
/// says why).
fn enter(cp: &Checkpoint, state: JobState, due: Timestamp, now: Timestamp) -> Checkpoint {
    let mut next = settled(cp, state, due, now);
    match &next.state {
        JobState::Done {
            note: Some(why), ..
        }
        | JobState::Canceling {
            fail_reason: Some(why),
            ..
        } => next.last_error = Some(why.clone()),
        _ => {}
    }
    next.cancel_requested = cp.cancel_requested;
    apply_pending_cancel(next, now)
}

/// `state`, due at `due`, with the retry counters, the last error and any pending cancel
/// cleared, and the step recorded in the history.
fn settled(cp: &Checkpoint, state: JobState, due: Timestamp, now: Timestamp) -> Checkpoint {
    let mut next = Checkpoint {
        state,
        due,
        attempts: 0,
        failing_since: None,
        last_error: None,
        cancel_requested: false,
        history: cp.history.clone(),
    };
    record_step(&mut next, cp, now);
    next
}

/// Appends a history entry when the public step changed.
fn record_step(next: &mut Checkpoint, prev: &Checkpoint, now: Timestamp) {
    let step = next.state.step_name();
    if step != prev.state.step_name() {
        next.history.push(HistoryEntry { step, at: now });
    }
}

/// The scan's state once Qualys took its cancel (`CancelDone`): Qualys lists a scan it
/// canceled as `Canceled`, so that is what the job keeps — unless the scan had already
/// ended (`Finished`, `Error`, `Canceled`: only a report was left to cancel, or the cancel
/// found it gone), or there was no scan.
fn canceled_scan(scan_ref: &Option<String>, last: &Option<ScanStatus>) -> Option<ScanStatus> {
    let ended = last.as_ref().is_some_and(|s| {
        matches!(
            s.state,
            ScanState::Finished | ScanState::Error | ScanState::Canceled
        )
    });
    if scan_ref.is_none() || ended {
        return last.clone();
    }
    Some(ScanStatus {
        state: ScanState::Canceled,
        sub_state: None,
        processed: false,
    })
}

/// A cancel requested during a lookup takes effect once the job leaves the `…Sent` state.
fn apply_pending_cancel(next: Checkpoint, now: Timestamp) -> Checkpoint {
    if next.cancel_requested && !is_sent(&next.state) {
        let mut canceled = cancel(&next, now);
        canceled.cancel_requested = false;
        canceled
    } else {
        next
    }
}

fn cancel(cp: &Checkpoint, now: Timestamp) -> Checkpoint {
    if cp.state.is_terminal() || matches!(cp.state, JobState::Canceling { .. }) {
        return Checkpoint {
            cancel_requested: false,
            ..cp.clone()
        };
    }
    if is_sent(&cp.state) {
        return Checkpoint {
            cancel_requested: true,
            ..cp.clone()
        };
    }
    let last_scan = cp.state.last_scan_status();
    let target = match &cp.state {
        JobState::ScanRunning { scan, .. } => JobState::Canceling {
            scan_ref: Some(scan.scan_ref.clone()),
            report_id: None,
            fail_reason: None,
            last_scan,
        },
        JobState::ReportRunning {
            scan, report_id, ..
        } => JobState::Canceling {
            scan_ref: Some(scan.scan_ref.clone()),
            report_id: Some(*report_id),
            fail_reason: None,
            last_scan,
        },
        other => JobState::Canceled {
            scan_ref: other.scan_ref().map(str::to_string),
            last_scan,
        },
    };
    settled(cp, target, now, now)
}

fn fail(cp: &Checkpoint, reason: String, now: Timestamp) -> Checkpoint {
    let state = JobState::Failed {
        at: cp.state.step_name(),
        reason,
        scan_ref: cp.state.scan_ref().map(str::to_string),
        last_scan: cp.state.last_scan_status(),
    };
    settled(cp, state, now, now)
}

/// A failed attempt: back off, count it, remember why.
fn retry(
    cp: &Checkpoint,
    state: JobState,
    reason: &str,
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> Checkpoint {
    let since = cp.failing_since.unwrap_or(now);
    let delay = retry_delay(ctx.policy, cp.attempts, since.until(now), ctx.seed);
    Checkpoint {
        state,
        due: now.plus(delay),
        attempts: cp.attempts.saturating_add(1),
        failing_since: Some(since),
        last_error: Some(reason.to_string()),
        ..cp.clone()
    }
}

pub mod adopt;
pub mod baseline;
mod names;
mod policy;
#[cfg(test)]
mod proptests;
pub mod salvage;
mod scope_rules;
pub mod template;

use names::{outcome_name, state_name};
pub use policy::Policy;
pub use scope_rules::parse_target;
use scope_rules::{group_found, group_outside_reason, not_yet_absent, outside_scope};
#[cfg(test)]
mod tests;
