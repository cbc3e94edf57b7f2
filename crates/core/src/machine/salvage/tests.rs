//! Keeping what was made: every path into and out of `Salvaging`, with plain values.

use super::super::{action, step, Ctx, Plan, Policy};
use crate::ip::test_ips::set;
use crate::state::{
    Action, Checkpoint, HistoryEntry, JobState, Outcome, ReportState, ScanInfo, ScanState,
    ScanStatus, StepName,
};
use crate::time::Timestamp;
use std::time::Duration;

const T0: Timestamp = Timestamp(1_700_000_000_000);

fn scan() -> ScanInfo {
    ScanInfo {
        scan_ref: "scan/1700000000.1".into(),
        launched_at: T0,
        target: None,
    }
}

fn at(state: JobState) -> Checkpoint {
    let step = state.step_name();
    Checkpoint {
        state,
        due: T0,
        attempts: 0,
        failing_since: None,
        last_error: None,
        cancel_requested: false,
        history: vec![HistoryEntry { step, at: T0 }],
    }
}

fn status(state: ScanState) -> ScanStatus {
    ScanStatus {
        state,
        sub_state: None,
        processed: false,
    }
}

fn run(cp: &Checkpoint, outcome: Outcome, raw: bool) -> Checkpoint {
    let policy = Policy::default();
    let (scope, ips) = (set(&["64.39.106.0/24"]), set(&["64.39.106.1"]));
    let ctx = Ctx {
        policy: &policy,
        plan: Plan { report: true, raw },
        seed: 1,
        scope: &scope,
        ips: &ips,
        baseline: None,
    };
    step(cp, &outcome, T0.plus(Duration::from_secs(60)), &ctx)
}

fn scanning() -> Checkpoint {
    at(JobState::ScanRunning {
        scan: scan(),
        last: None,
        missing_polls: 0,
    })
}

fn polled(state: ScanState) -> Outcome {
    Outcome::ScanPolled {
        status: status(state),
        target: None,
    }
}

#[test]
fn a_scan_ending_in_error_or_canceled_keeps_its_results_then_fails() {
    for state in [ScanState::Error, ScanState::Canceled] {
        let salvaging = run(&scanning(), polled(state.clone()), true);
        let JobState::Salvaging {
            failed_at,
            reason,
            last_scan,
            ..
        } = &salvaging.state
        else {
            panic!("{state:?}: {:?}", salvaging.state)
        };
        assert_eq!(*failed_at, StepName::ScanRunning);
        assert!(
            reason.contains(&format!("ended in state {}", state.as_str())),
            "{reason}"
        );
        assert_eq!(last_scan.as_ref().map(|s| &s.state), Some(&state));
        assert_eq!(
            salvaging.history.last().map(|h| h.step),
            Some(StepName::Downloading)
        );
        assert_eq!(
            action(&salvaging.state, &Policy::default()),
            Action::Download {
                scan_ref: scan().scan_ref,
                report_id: None,
                baseline: None,
            }
        );
        let failed = run(&salvaging, Outcome::Downloaded, true);
        let JobState::Failed {
            at,
            reason,
            scan_ref,
            ..
        } = &failed.state
        else {
            panic!("{:?}", failed.state)
        };
        assert_eq!(
            *at,
            StepName::ScanRunning,
            "where it failed, not where it salvaged"
        );
        assert!(reason.contains("were fetched"), "{reason}");
        assert_eq!(scan_ref.as_deref(), Some(scan().scan_ref.as_str()));
    }
}

#[test]
fn without_raw_results_or_without_results_a_job_fails_as_before() {
    let failed = run(&scanning(), polled(ScanState::Error), false);
    assert!(
        matches!(failed.state, JobState::Failed { .. }),
        "{:?}",
        failed.state
    );
    // Still running after give_up_after: Qualys has no results to hand out.
    let old = T0.plus(Duration::from_secs(4 * 24 * 3600));
    let policy = Policy::default();
    let (scope, ips) = (set(&["64.39.106.0/24"]), set(&["64.39.106.1"]));
    let ctx = Ctx {
        policy: &policy,
        plan: Plan {
            report: true,
            raw: true,
        },
        seed: 1,
        scope: &scope,
        ips: &ips,
        baseline: None,
    };
    let failed = step(&scanning(), &polled(ScanState::Running), old, &ctx);
    assert!(
        matches!(failed.state, JobState::Failed { .. }),
        "{:?}",
        failed.state
    );
    // Paused that long: Qualys hands out the partial results.
    let salvaging = step(&scanning(), &polled(ScanState::Paused), old, &ctx);
    assert!(
        matches!(salvaging.state, JobState::Salvaging { .. }),
        "{:?}",
        salvaging.state
    );
}

#[test]
fn a_failed_report_keeps_the_scans_results() {
    let report = at(JobState::ReportRunning {
        scan: scan(),
        report_id: 7,
        last: None,
        missing_polls: 0,
    });
    let salvaging = run(
        &report,
        Outcome::ReportPolled(Some(ReportState::Errors)),
        true,
    );
    assert!(
        matches!(
            &salvaging.state,
            JobState::Salvaging { failed_at: StepName::ReportRunning, reason, .. }
                if reason.contains("report 7 ended in state Errors")
        ),
        "{:?}",
        salvaging.state
    );
    let launching = at(JobState::LaunchingReport { scan: scan() });
    let refused = Outcome::Permanent {
        reason: "CODE 1905 bad template".into(),
    };
    let salvaging = run(&launching, refused, true);
    assert!(
        matches!(
            &salvaging.state,
            JobState::Salvaging { failed_at: StepName::LaunchingReport, reason, .. }
                if reason == "CODE 1905 bad template"
        ),
        "{:?}",
        salvaging.state
    );
}

#[test]
fn a_fetch_that_cannot_succeed_fails_saying_so_and_a_cancel_ends_it() {
    let salvaging = run(&scanning(), polled(ScanState::Error), true);
    let failed = run(
        &salvaging,
        Outcome::Permanent {
            reason: "CODE 1905 no results".into(),
        },
        true,
    );
    assert!(
        matches!(&failed.state, JobState::Failed { reason, .. }
            if reason.contains("ended in state Error")
                && reason.contains("could not be fetched: CODE 1905 no results")),
        "{:?}",
        failed.state
    );
    let transient = run(
        &salvaging,
        Outcome::Transient {
            reason: "HTTP 503".into(),
        },
        true,
    );
    assert!(matches!(transient.state, JobState::Salvaging { .. }));
    assert_eq!(transient.attempts, 1);
    let canceled = run(&salvaging, Outcome::CancelRequested, true);
    assert!(
        matches!(canceled.state, JobState::Canceled { .. }),
        "{:?}",
        canceled.state
    );
}
