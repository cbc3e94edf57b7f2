//! Job management like a mail queue (SPEC.md "Managing jobs"): which job may be retried,
//! whether a hold stops a job, when a finished job is old enough to be removed. Pure: the
//! daemon's run loop and the CLI ask, and do what the answer says.

use crate::state::{HistoryEntry, JobState};
use crate::store::JobId;
use crate::time::Timestamp;
use std::time::Duration;

/// Why a job cannot be retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryRefusal {
    /// Only a failed or canceled job is retried; this one is not (still running, being
    /// canceled, or done).
    #[error("job {id} is {shown}: only a failed or canceled job can be retried")]
    NotRetryable {
        /// The job.
        id: JobId,
        /// Its state as the user sees it.
        shown: String,
    },
    /// A job is retried once: its retry carries on (and is retried itself if it fails).
    #[error(
        "job {id} was already retried as {retried_as}: retry that job if it failed, or submit \
         jobs/{id}/job.toml again to run the job once more"
    )]
    AlreadyRetried {
        /// The job.
        id: JobId,
        /// Its retry.
        retried_as: JobId,
    },
}

/// Whether the job `id` in `state`, already retried as `retried_as` (if so), may be retried
/// now: it failed or was canceled (its cancel confirmed), and it has no retry yet.
pub fn retryable(
    id: &JobId,
    state: &JobState,
    retried_as: Option<&JobId>,
) -> Result<(), RetryRefusal> {
    if !matches!(state, JobState::Failed { .. } | JobState::Canceled { .. }) {
        let shown = match state {
            JobState::Canceling { .. } => "canceling".to_string(),
            other => other.step_name().as_str().to_string(),
        };
        return Err(RetryRefusal::NotRetryable {
            id: id.clone(),
            shown,
        });
    }
    match retried_as {
        Some(new) => Err(RetryRefusal::AlreadyRetried {
            id: id.clone(),
            retried_as: new.clone(),
        }),
        None => Ok(()),
    }
}

/// True when a hold keeps a job in `state` from acting: a held job takes no new action,
/// except the cancel of its Qualys objects once a cancel was asked for (a cancel is the
/// user's later and stronger wish).
pub fn hold_stops(held: bool, state: &JobState) -> bool {
    held && !matches!(state, JobState::Canceling { .. })
}

/// True when a held job takes no slot of `[limits].max_active_jobs`: it has not begun (no
/// object of it exists in Qualys). A held job that has begun keeps its slot.
pub fn hold_frees_slot(held: bool, state: &JobState) -> bool {
    held && *state == JobState::Accepted
}

/// When a job finished: the time of its last step, for a finished (`terminal`) job;
/// `None` for one that is not finished (or has no history).
pub fn finished_at(terminal: bool, history: &[HistoryEntry]) -> Option<Timestamp> {
    terminal.then(|| history.last().map(|h| h.at)).flatten()
}

/// True when a job that finished at `finished` is older than `older_than` at `now`, so
/// `[retention]` or `purge --older-than` removes it.
pub fn expired(finished: Timestamp, now: Timestamp, older_than: Duration) -> bool {
    finished.plus(older_than) <= now
}

/// How often the daemon looks for finished jobs to remove under `[retention]`: as often
/// as the retention period itself, but at most once a second and at least once a minute.
pub fn retention_every(remove_after: Duration) -> Duration {
    remove_after.clamp(Duration::from_secs(1), Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StepName;

    fn id(s: &str) -> JobId {
        JobId::parse(s).expect("id")
    }

    #[test]
    fn only_failed_or_canceled_jobs_without_a_retry_are_retried() {
        let a = id("20260101-000000-000001");
        let failed = JobState::Failed {
            at: StepName::ScanRunning,
            reason: "x".into(),
            scan_ref: None,
            last_scan: None,
        };
        let canceled = JobState::Canceled {
            scan_ref: None,
            last_scan: None,
        };
        assert_eq!(retryable(&a, &failed, None), Ok(()));
        assert_eq!(retryable(&a, &canceled, None), Ok(()));
        let e = retryable(&a, &JobState::Accepted, None).expect_err("running");
        assert_eq!(
            e.to_string(),
            "job 20260101-000000-000001 is accepted: only a failed or canceled job can be retried"
        );
        let canceling = JobState::Canceling {
            scan_ref: None,
            report_id: None,
            fail_reason: None,
            last_scan: None,
        };
        assert!(matches!(
            retryable(&a, &canceling, None),
            Err(RetryRefusal::NotRetryable { shown, .. }) if shown == "canceling"
        ));
        let b = id("20260101-000000-000002");
        assert_eq!(
            retryable(&a, &failed, Some(&b)),
            Err(RetryRefusal::AlreadyRetried {
                id: a.clone(),
                retried_as: b
            })
        );
    }

    #[test]
    fn a_hold_stops_everything_but_a_cancel_and_frees_a_slot_only_before_the_start() {
        let canceling = JobState::Canceling {
            scan_ref: Some("scan/1".into()),
            report_id: None,
            fail_reason: None,
            last_scan: None,
        };
        assert!(hold_stops(true, &JobState::Accepted));
        assert!(!hold_stops(false, &JobState::Accepted));
        assert!(!hold_stops(true, &canceling));
        assert!(hold_frees_slot(true, &JobState::Accepted));
        assert!(!hold_frees_slot(false, &JobState::Accepted));
        assert!(!hold_frees_slot(true, &canceling));
    }

    #[test]
    fn finished_jobs_expire_after_their_last_step() {
        let at = Timestamp(1_000_000);
        let history = [
            HistoryEntry {
                step: StepName::Accepted,
                at: Timestamp(0),
            },
            HistoryEntry {
                step: StepName::Done,
                at,
            },
        ];
        assert_eq!(finished_at(true, &history), Some(at));
        assert_eq!(finished_at(false, &history), None);
        assert_eq!(finished_at(true, &[]), None);
        let day = Duration::from_secs(86_400);
        assert!(!expired(at, at.plus(day - Duration::from_millis(1)), day));
        assert!(expired(at, at.plus(day), day));
        assert_eq!(retention_every(day), Duration::from_secs(60));
        assert_eq!(
            retention_every(Duration::from_millis(1)),
            Duration::from_secs(1)
        );
    }
}
