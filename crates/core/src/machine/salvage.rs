//! Keeping what was made: a job that fails after its scan produced results (the scan ended
//! `Canceled`, `Paused` or `Error` — Qualys lets those be fetched, qualys-api.md §6.4 — or
//! it finished and the report failed) fetches the raw results and makes the action items
//! from them (`Salvaging`, the public step `downloading`) before it ends `Failed` with its
//! reason. Only for a job that asked for raw results; a cancel the user asked for keeps
//! nothing (the scan is canceled, not salvaged).

use super::{enter, settled, Ctx};
use crate::state::{Checkpoint, JobState, Outcome, ScanState, ScanStatus};
use crate::time::Timestamp;

/// The scan states whose results Qualys still hands out (besides `Finished`).
fn fetchable(status: &ScanStatus) -> bool {
    matches!(
        status.state,
        ScanState::Canceled | ScanState::Paused | ScanState::Error
    )
}

/// Instead of failing with `reason` on `outcome`: `Salvaging`, when the job asked for raw
/// results and its scan has some; `None` to fail as usual.
pub(super) fn salvage(
    cp: &Checkpoint,
    outcome: &Outcome,
    reason: &str,
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> Option<Checkpoint> {
    if !ctx.plan.raw {
        return None;
    }
    let (scan, last_scan) = match (&cp.state, outcome) {
        (JobState::ScanRunning { scan, .. }, Outcome::ScanPolled { status, .. }) => {
            (scan, Some(status.clone()))
        }
        (JobState::ScanRunning { scan, last, .. }, _) => (scan, last.clone()),
        (
            JobState::LaunchingReport { scan }
            | JobState::ReportLaunchSent { scan, .. }
            | JobState::ReportRunning { scan, .. },
            _,
        ) => (scan, cp.state.last_scan_status()),
        _ => return None,
    };
    // Past the scan, it finished; while scanning, only some states have results.
    let has_results = match cp.state {
        JobState::ScanRunning { .. } => last_scan.as_ref().is_some_and(fetchable),
        _ => true,
    };
    if !has_results {
        return None;
    }
    let state = JobState::Salvaging {
        scan: scan.clone(),
        last_scan,
        failed_at: cp.state.step_name(),
        reason: reason.to_string(),
    };
    Some(enter(cp, state, now, now))
}

/// The end of `Salvaging`: `Failed` with its reason, saying what came of the partial
/// results (`fetch_error`: why they could not be fetched). Any other state is returned as
/// it is.
pub(super) fn finished(cp: &Checkpoint, fetch_error: Option<&str>, now: Timestamp) -> Checkpoint {
    let JobState::Salvaging {
        scan,
        last_scan,
        failed_at,
        reason,
    } = &cp.state
    else {
        return cp.clone();
    };
    let kept = match fetch_error {
        None => {
            "the results the scan has were fetched and the action items made from them".to_string()
        }
        Some(e) => format!("its results could not be fetched: {e}"),
    };
    let state = JobState::Failed {
        at: *failed_at,
        reason: format!("{reason}; {kept}"),
        scan_ref: Some(scan.scan_ref.clone()),
        last_scan: last_scan.clone(),
    };
    settled(cp, state, now, now)
}

#[cfg(test)]
mod tests;
