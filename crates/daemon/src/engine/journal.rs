//! The journal lines of a committed transition: a scan being canceled for leaving the
//! scope (error), a failure (warning), a step change (info), a retry (warning).

use baseliner_core::state::{JobState, StepName};
use baseliner_core::store::JobRecord;

/// Logs the transition of `rec` (already holding its new checkpoint) from step `before`.
pub fn transition(before: StepName, rec: &JobRecord) {
    let id = rec.id.as_str();
    let after = rec.checkpoint.state.step_name();
    let scan_ref = rec.checkpoint.state.scan_ref().unwrap_or("");
    if let JobState::Canceling {
        fail_reason: Some(why),
        ..
    } = &rec.checkpoint.state
    {
        tracing::error!(job_id = id, "canceling the scan: {why}");
    } else if let JobState::Failed { reason, .. } = &rec.checkpoint.state {
        tracing::warn!(
            job_id = id,
            step = after.as_str(),
            scan_ref,
            "{} -> failed: {reason}",
            before.as_str(),
        );
    } else if before != after {
        tracing::info!(
            job_id = id,
            step = after.as_str(),
            scan_ref,
            "{} -> {}",
            before.as_str(),
            after.as_str(),
        );
    } else if let Some(err) = &rec.checkpoint.last_error {
        tracing::warn!(job_id = id, step = after.as_str(), "retrying: {err}");
    }
}
