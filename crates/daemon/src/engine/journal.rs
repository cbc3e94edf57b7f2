//! The journal lines of a committed transition: a scan being canceled for leaving the
//! scope (error), a failure (warning), a step change (info), a retry (warning) — and the
//! one warning for a batched call (a poll round) that failed for every job it served.

use baseliner_core::schedule::RoundKind;
use baseliner_core::state::{JobState, Outcome, StepName};
use baseliner_core::store::{JobId, JobRecord};

/// When every job of a poll round got the same failure (the round's one list call failed),
/// that failure: the call is logged once, naming its jobs ([`round_failed`]), and not once
/// per job. `None` when the call answered (or the round served one job).
pub fn shared_failure(outcomes: &[(JobId, Outcome)]) -> Option<&str> {
    let [(_, first), rest @ ..] = outcomes else {
        return None;
    };
    let reason = match first {
        Outcome::Transient { reason }
        | Outcome::Ambiguous { reason }
        | Outcome::Deferred { reason, .. } => reason.as_str(),
        _ => return None,
    };
    (!rest.is_empty() && rest.iter().all(|(_, o)| o == first)).then_some(reason)
}

/// The one warning for a poll round whose call failed for `jobs`.
pub fn round_failed(kind: RoundKind, jobs: &[&JobId], reason: &str) {
    let ids: Vec<&str> = jobs.iter().map(|j| j.as_str()).collect();
    let what = match kind {
        RoundKind::Scans => "scan list",
        RoundKind::Reports => "report list",
    };
    tracing::warn!(
        jobs = ids.join(",").as_str(),
        "{what} failed for {} job(s) ({}), retrying: {reason}",
        ids.len(),
        ids.join(", ")
    );
}

/// Logs the transition of `rec` (already holding its new checkpoint) from step `before`;
/// `retry_logged`: its retry was already logged (with the other jobs of its round).
pub fn transition(before: StepName, rec: &JobRecord, retry_logged: bool) {
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
    } else if let Some(err) = rec.checkpoint.last_error.as_ref().filter(|_| !retry_logged) {
        tracing::warn!(job_id = id, step = after.as_str(), "retrying: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_every_job_of_a_round_shares_is_one_call_failing() {
        let id = |n: u32| JobId::parse(&format!("20261201-000000-{n:06}")).expect("id");
        let down = || Outcome::Transient {
            reason: "HTTP 500".into(),
        };
        let three = [(id(1), down()), (id(2), down()), (id(3), down())];
        assert_eq!(shared_failure(&three), Some("HTTP 500"));
        assert_eq!(shared_failure(&three[..1]), None, "one job: its own line");
        let mixed = [(id(1), down()), (id(2), Outcome::ScanNotListed)];
        assert_eq!(shared_failure(&mixed), None, "the call answered");
        let listed = [
            (id(1), Outcome::ScanNotListed),
            (id(2), Outcome::ScanNotListed),
        ];
        assert_eq!(shared_failure(&listed), None, "not a failure");
        assert_eq!(shared_failure(&[]), None);
    }
}
