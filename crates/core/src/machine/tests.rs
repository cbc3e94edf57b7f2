//! Unit tests of every transition of [`crate::machine`].

use super::*;
use crate::ip::test_ips::set;
use crate::state::{DeferScope, HistoryEntry, StepName};
use std::time::Duration;

const T0: Timestamp = Timestamp(1_700_000_000_000);
const MIN: Duration = Duration::from_secs(60);

/// The scope of these tests: 64.39.106.0/24.
static SCOPE: std::sync::LazyLock<IpSet> = std::sync::LazyLock::new(|| set(&["64.39.106.0/24"]));
/// The job's addresses: 64.39.106.1-64.39.106.2.
static JOB_IPS: std::sync::LazyLock<IpSet> =
    std::sync::LazyLock::new(|| set(&["64.39.106.1-64.39.106.2"]));

fn ctx(policy: &Policy, report: bool) -> Ctx<'_> {
    Ctx {
        policy,
        plan: Plan { report, raw: false },
        seed: 99,
        scope: &SCOPE,
        ips: &JOB_IPS,
        baseline: None,
    }
}

/// A poll answer without a TARGET.
fn polled(status: ScanStatus) -> Outcome {
    Outcome::ScanPolled {
        status,
        target: None,
    }
}

fn scan() -> ScanInfo {
    ScanInfo {
        scan_ref: "scan/1700000000.12345".to_string(),
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

fn status(state: ScanState, processed: bool) -> ScanStatus {
    ScanStatus {
        state,
        sub_state: None,
        processed,
    }
}

fn running(last: Option<ScanStatus>, missing_polls: u32) -> JobState {
    JobState::ScanRunning {
        scan: scan(),
        last,
        missing_polls,
    }
}

fn report_running(missing_polls: u32) -> JobState {
    JobState::ReportRunning {
        scan: scan(),
        report_id: 77,
        last: None,
        missing_polls,
    }
}

fn steps(cp: &Checkpoint) -> Vec<StepName> {
    cp.history.iter().map(|h| h.step).collect()
}

/// Runs one step with the default policy and no report.
fn run(cp: &Checkpoint, outcome: Outcome, now: Timestamp) -> Checkpoint {
    let p = Policy::default();
    step(cp, &outcome, now, &ctx(&p, false))
}

fn failed_reason(cp: &Checkpoint) -> (&StepName, &str) {
    match &cp.state {
        JobState::Failed { at, reason, .. } => (at, reason),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn every_state_calls_for_its_action() {
    let p = Policy::default();
    let sent_at = T0.plus(MIN * 30);
    let cases = [
        (JobState::Accepted, Action::Preflight),
        (JobState::Checking, Action::Preflight),
        (JobState::AddingIps, Action::AddIps),
        (JobState::FindingGroup, Action::FindGroup),
        (JobState::CreatingGroup, Action::CreateGroup),
        (JobState::GroupCreateSent { sent_at }, Action::FindGroup),
        (
            JobState::ExtendingGroup { group_id: 5 },
            Action::ExtendGroup { group_id: 5 },
        ),
        (
            JobState::GroupExtendSent {
                group_id: 5,
                sent_at,
            },
            Action::FindGroup,
        ),
        (
            JobState::LaunchingScan { group_id: 5 },
            Action::LaunchScan { group_id: 5 },
        ),
        (
            JobState::ScanLaunchSent {
                group_id: Some(5),
                sent_at,
            },
            Action::FindScan {
                launched_after: T0.plus(MIN * 15),
            },
        ),
        (
            running(None, 0),
            Action::PollScan {
                scan_ref: scan().scan_ref,
                listed_after: T0.minus(p.lookup_slack),
            },
        ),
        (
            JobState::LaunchingReport { scan: scan() },
            Action::LaunchReport {
                scan_ref: scan().scan_ref,
            },
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at,
            },
            Action::FindReport,
        ),
        (report_running(0), Action::PollReport { report_id: 77 }),
        (
            JobState::Downloading {
                scan: scan(),
                report_id: Some(77),
                baseline: None,
            },
            Action::Download {
                scan_ref: scan().scan_ref,
                report_id: Some(77),
                baseline: None,
            },
        ),
        (
            JobState::Canceling {
                fail_reason: None,
                last_scan: None,
                scan_ref: Some("s".into()),
                report_id: None,
            },
            Action::Cancel {
                scan_ref: Some("s".into()),
                report_id: None,
            },
        ),
        (
            JobState::Done {
                note: None,
                scan: scan(),
                report_id: None,
            },
            Action::Nothing,
        ),
        (
            JobState::Failed {
                last_scan: None,
                at: StepName::ScanRunning,
                reason: "x".into(),
                scan_ref: None,
            },
            Action::Nothing,
        ),
        (
            JobState::Canceled {
                scan_ref: None,
                last_scan: None,
            },
            Action::Nothing,
        ),
    ];
    for (state, want) in cases {
        let got = action(&state, &p);
        assert_eq!(got, want, "action of {state:?}");
        // A `…Sent` state's action is never one that needs an intent (a second launch).
        if is_sent(&state) {
            assert!(!needs_intent(&state), "{state:?} must call for a lookup");
        }
    }
}

#[test]
fn intents_move_to_the_sent_states_only_for_unsafe_actions() {
    let now = T0.plus(MIN);
    let cases = [
        (
            JobState::CreatingGroup,
            Some(JobState::GroupCreateSent { sent_at: now }),
        ),
        (
            JobState::ExtendingGroup { group_id: 3 },
            Some(JobState::GroupExtendSent {
                group_id: 3,
                sent_at: now,
            }),
        ),
        (
            JobState::LaunchingScan { group_id: 5 },
            Some(JobState::ScanLaunchSent {
                group_id: Some(5),
                sent_at: now,
            }),
        ),
        (
            JobState::LaunchingReport { scan: scan() },
            Some(JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: now,
            }),
        ),
        (JobState::AddingIps, None),
        (JobState::FindingGroup, None),
        (running(None, 0), None),
        (
            JobState::ScanLaunchSent {
                group_id: Some(5),
                sent_at: T0,
            },
            None,
        ),
    ];
    for (state, want) in cases {
        let mut before = at(state.clone());
        before.attempts = 2;
        let got = intent(&before, now);
        assert_eq!(
            got.as_ref().map(|c| c.state.clone()),
            want,
            "intent of {state:?}"
        );
        assert_eq!(got.is_some(), needs_intent(&state), "{state:?}");
        if let Some(i) = got {
            assert_eq!(i.due, now);
            assert_eq!(i.attempts, 2, "an intent is not progress");
            assert_eq!(i.history, before.history, "same public step");
        }
    }
}

#[test]
fn start_and_ips_added_advance_with_history() {
    let now = T0.plus(MIN);
    let checking = run(&at(JobState::Accepted), Outcome::Start, now);
    assert_eq!(checking.state, JobState::Checking);
    assert_eq!(
        steps(&checking),
        [StepName::Accepted],
        "still the public step accepted"
    );
    assert_eq!(
        action(&checking.state, &Policy::default()),
        Action::Preflight
    );
    let started = run(&checking, Outcome::Preflighted, now);
    assert_eq!(started.state, JobState::AddingIps);
    assert_eq!(steps(&started), [StepName::Accepted, StepName::AddingIps]);
    assert_eq!(started.history[1].at, now);
    let added = run(&started, Outcome::IpsAdded, now.plus(MIN));
    assert_eq!(added.state, JobState::FindingGroup);
    assert_eq!(added.due, now.plus(MIN));
    assert_eq!(
        steps(&added),
        [
            StepName::Accepted,
            StepName::AddingIps,
            StepName::CreatingGroup
        ]
    );
    // Straight from Accepted, the history still records adding_ips.
    let direct = run(&at(JobState::Accepted), Outcome::IpsAdded, now);
    assert_eq!(direct.state, JobState::FindingGroup);
    assert_eq!(
        steps(&direct),
        [
            StepName::Accepted,
            StepName::AddingIps,
            StepName::CreatingGroup
        ]
    );
}

/// A time at which a lookup proves the absence of what was sent at T0.
fn proven() -> Timestamp {
    Policy::default().absent_after(T0)
}

#[test]
fn group_lookup_outcomes() {
    let now = proven();
    let found = |has_all_ips: bool| Outcome::GroupFound {
        group_id: 9,
        ips: if has_all_ips {
            set(&["64.39.106.0-64.39.106.9"])
        } else {
            set(&["64.39.106.1"])
        },
        unreadable: Vec::new(),
    };
    let launching = JobState::LaunchingScan { group_id: 9 };
    let sent_create = JobState::GroupCreateSent { sent_at: T0 };
    let sent_extend = JobState::GroupExtendSent {
        group_id: 9,
        sent_at: T0,
    };
    let cases = [
        (JobState::FindingGroup, found(true), launching.clone()),
        (
            JobState::FindingGroup,
            found(false),
            JobState::ExtendingGroup { group_id: 9 },
        ),
        (
            JobState::FindingGroup,
            Outcome::GroupAbsent,
            JobState::CreatingGroup,
        ),
        (sent_create.clone(), found(true), launching.clone()),
        (
            sent_create.clone(),
            found(false),
            JobState::ExtendingGroup { group_id: 9 },
        ),
        (
            sent_create.clone(),
            Outcome::GroupAbsent,
            JobState::CreatingGroup,
        ),
        (
            sent_create,
            Outcome::GroupCreated { group_id: Some(9) },
            launching.clone(),
        ),
        (
            JobState::CreatingGroup,
            Outcome::GroupCreated { group_id: Some(9) },
            launching.clone(),
        ),
        (sent_extend.clone(), found(true), launching.clone()),
        (
            sent_extend.clone(),
            found(false),
            JobState::ExtendingGroup { group_id: 9 },
        ),
        (
            sent_extend.clone(),
            Outcome::GroupAbsent,
            JobState::CreatingGroup,
        ),
        (sent_extend, Outcome::GroupExtended, launching.clone()),
        (
            JobState::ExtendingGroup { group_id: 9 },
            Outcome::GroupExtended,
            launching,
        ),
    ];
    for (state, outcome, want) in cases {
        let next = run(&at(state.clone()), outcome.clone(), now);
        assert_eq!(next.state, want, "{state:?} + {outcome:?}");
        assert_eq!(next.due, now, "{state:?} + {outcome:?}");
        assert_eq!(next.last_error, None);
    }
}

#[test]
fn a_lookup_finds_nothing_proves_absence_only_after_the_request_can_no_longer_run() {
    // Every `…Sent` state, with the outcome of a lookup that finds nothing (for an extend:
    // the group without the new addresses).
    let p = Policy::default();
    let cases = [
        (
            JobState::GroupCreateSent { sent_at: T0 },
            Outcome::GroupAbsent,
        ),
        (
            JobState::GroupExtendSent {
                group_id: 9,
                sent_at: T0,
            },
            Outcome::GroupFound {
                group_id: 9,
                ips: set(&["64.39.106.1"]),
                unreadable: Vec::new(),
            },
        ),
        (
            JobState::ScanLaunchSent {
                group_id: Some(9),
                sent_at: T0,
            },
            Outcome::ScanAbsent,
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: T0,
            },
            Outcome::ReportAbsent,
        ),
    ];
    let proof = T0.plus(p.request_timeout + p.absence_margin);
    assert_eq!(p.absent_after(T0), proof);
    for (state, outcome) in cases {
        // Right after the send, and a moment before the proof: still looking, due at it.
        for now in [
            T0.plus(Duration::from_secs(1)),
            proof.minus(Duration::from_millis(1)),
        ] {
            let mut cp = at(state.clone());
            cp.attempts = 2;
            let next = run(&cp, outcome.clone(), now);
            assert_eq!(next.state, state, "{state:?} + {outcome:?} at {now}");
            assert_eq!(next.due, proof, "{state:?}: looks again at the proof time");
            assert_eq!(next.attempts, 2, "not progress");
            let note = next.last_error.expect("says why it waits");
            assert!(note.contains("not visible yet"), "{note}");
        }
        // At the proof time the lookup proves absence: back to the pre-intent state.
        let next = run(&at(state.clone()), outcome.clone(), proof);
        assert!(
            !is_sent(&next.state),
            "{state:?} at proof: {:?}",
            next.state
        );
        assert_eq!(next.due, proof);
    }
}

#[test]
fn an_ambiguous_send_without_a_crash_waits_for_the_proof_too() {
    // A launch times out after sending: the lookup that follows soon finds nothing, and
    // the job keeps looking instead of launching a second scan.
    let p = Policy::default();
    let sent = intent(&at(JobState::LaunchingScan { group_id: 9 }), T0).expect("intent");
    let after = run(
        &sent,
        Outcome::Ambiguous {
            reason: "timeout after send".into(),
        },
        T0.plus(p.request_timeout),
    );
    assert_eq!(
        action(&after.state, &p),
        Action::FindScan {
            launched_after: T0.minus(p.lookup_slack)
        }
    );
    let looked = run(&after, Outcome::ScanAbsent, after.due);
    assert!(matches!(looked.state, JobState::ScanLaunchSent { .. }));
    assert_eq!(looked.due, p.absent_after(T0));
    // The slow launch shows up before the proof time: adopted, never launched again.
    let found = run(&looked, Outcome::ScanFound(scan()), looked.due);
    assert!(matches!(found.state, JobState::ScanRunning { .. }));
    // A format-1 `ScanLaunchSent` (no group) goes back to the group lookup on absence.
    let migrated = at(JobState::ScanLaunchSent {
        group_id: None,
        sent_at: T0,
    });
    assert_eq!(
        run(&migrated, Outcome::ScanAbsent, proven()).state,
        JobState::FindingGroup
    );
}

#[test]
fn a_created_group_without_an_id_is_looked_up() {
    let sent = at(JobState::GroupCreateSent { sent_at: T0 });
    let next = run(&sent, Outcome::GroupCreated { group_id: None }, T0);
    assert_eq!(next.state, JobState::GroupCreateSent { sent_at: T0 });
    assert_eq!(action(&next.state, &Policy::default()), Action::FindGroup);
}

#[test]
fn a_group_with_addresses_outside_the_scope_is_never_scanned() {
    let now = T0.plus(MIN);
    // The group of the organization's title holds 203.0.113.5 (outside 64.39.106.0/24).
    let found = Outcome::GroupFound {
        group_id: 9,
        ips: set(&["64.39.106.1-64.39.106.2", "203.0.113.5"]),
        unreadable: Vec::new(),
    };
    for state in [
        JobState::FindingGroup,
        JobState::GroupCreateSent { sent_at: T0 },
        JobState::GroupExtendSent {
            group_id: 9,
            sent_at: T0,
        },
    ] {
        let next = run(&at(state.clone()), found.clone(), now);
        let (_, reason) = failed_reason(&next);
        assert!(reason.contains("203.0.113.5"), "{state:?}: {reason}");
        assert!(reason.contains("outside [scope].authorized"), "{reason}");
    }
    // Entries that are not IPv4 addresses cannot be shown to lie within the scope.
    let v6 = Outcome::GroupFound {
        group_id: 9,
        ips: set(&["64.39.106.1-64.39.106.2"]),
        unreadable: vec!["2001:db8::1".to_string()],
    };
    let refused = run(&at(JobState::FindingGroup), v6, now);
    let (_, reason) = failed_reason(&refused);
    assert!(reason.contains("2001:db8::1"), "{reason}");
    // Within the scope, but missing the job's addresses: extended (the union lies within).
    let partial = Outcome::GroupFound {
        group_id: 9,
        ips: set(&["64.39.106.200"]),
        unreadable: Vec::new(),
    };
    assert_eq!(
        run(&at(JobState::FindingGroup), partial, now).state,
        JobState::ExtendingGroup { group_id: 9 }
    );
}

#[test]
fn a_scan_targeting_addresses_outside_the_scope_is_canceled_and_fails_the_job() {
    let now = T0.plus(MIN * 8);
    let rogue = Outcome::ScanPolled {
        status: status(ScanState::Running, false),
        target: Some("64.39.106.1-64.39.106.2, 198.51.100.7".to_string()),
    };
    let canceling = run(&at(running(None, 0)), rogue, now);
    match &canceling.state {
        JobState::Canceling {
            scan_ref,
            fail_reason: Some(why),
            last_scan,
            ..
        } => {
            assert_eq!(scan_ref.as_deref(), Some(scan().scan_ref.as_str()));
            assert!(why.contains("198.51.100.7"), "{why}");
            assert_eq!(
                last_scan.as_ref().map(|s| &s.state),
                Some(&ScanState::Running)
            );
        }
        other => panic!("expected Canceling, got {other:?}"),
    }
    assert_eq!(canceling.due, now, "canceled at once");
    assert!(
        canceling
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("198.51.100.7")),
        "status.json says why: {:?}",
        canceling.last_error
    );
    assert_eq!(
        action(&canceling.state, &Policy::default()),
        Action::Cancel {
            scan_ref: Some(scan().scan_ref),
            report_id: None
        }
    );
    let failed = run(&canceling, Outcome::CancelDone, now);
    let (at_step, reason) = failed_reason(&failed);
    assert_eq!(*at_step, StepName::ScanRunning);
    assert!(reason.contains("198.51.100.7"), "{reason}");
    assert_eq!(
        failed.state.last_scan_status().map(|s| s.state),
        Some(ScanState::Canceled),
        "the canceled scan reads as Qualys lists it"
    );
    // A TARGET within the scope is kept in the scan's info.
    let fine = run(
        &at(running(None, 0)),
        Outcome::ScanPolled {
            status: status(ScanState::Running, false),
            target: Some("64.39.106.1-64.39.106.2".to_string()),
        },
        now,
    );
    match &fine.state {
        JobState::ScanRunning { scan, .. } => {
            assert_eq!(scan.target.as_deref(), Some("64.39.106.1-64.39.106.2"));
        }
        other => panic!("expected ScanRunning, got {other:?}"),
    }
    // A TARGET entry that is not an address is outside too (the stricter reading).
    let odd = run(
        &at(running(None, 0)),
        Outcome::ScanPolled {
            status: status(ScanState::Running, false),
            target: Some("64.39.106.1, victim.example".to_string()),
        },
        now,
    );
    assert!(matches!(
        odd.state,
        JobState::Canceling {
            fail_reason: Some(_),
            ..
        }
    ));
}

#[test]
fn a_scan_that_reached_no_host_skips_the_report_and_ends_done_with_the_reason() {
    let p = Policy::default();
    let now = T0.plus(MIN * 8);
    let no_host = polled(ScanStatus {
        state: ScanState::Finished,
        sub_state: Some("No_Host".to_string()),
        processed: true,
    });
    let next = step(&at(running(None, 0)), &no_host, now, &ctx(&p, true));
    assert_eq!(
        next.state,
        JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: None,
        }
    );
    let done = step(&next, &Outcome::Downloaded, now, &ctx(&p, true));
    match &done.state {
        JobState::Done {
            report_id: None,
            note: Some(note),
            ..
        } => assert!(note.contains("No_Host"), "{note}"),
        other => panic!("expected Done with a note, got {other:?}"),
    }
    assert!(
        done.last_error
            .as_deref()
            .is_some_and(|e| e.contains("No_Host")),
        "status.json shows why: {:?}",
        done.last_error
    );
}

#[test]
fn lookups_that_find_nothing_return_to_the_pre_intent_state_without_resetting_counters() {
    let now = proven();
    let cases = [
        (
            JobState::ScanLaunchSent {
                group_id: Some(5),
                sent_at: T0,
            },
            Outcome::ScanAbsent,
            JobState::LaunchingScan { group_id: 5 },
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: T0,
            },
            Outcome::ReportAbsent,
            JobState::LaunchingReport { scan: scan() },
        ),
        (
            JobState::GroupCreateSent { sent_at: T0 },
            Outcome::GroupAbsent,
            JobState::CreatingGroup,
        ),
    ];
    for (state, outcome, want) in cases {
        let mut before = at(state);
        before.attempts = 3;
        before.failing_since = Some(T0);
        before.last_error = Some("connection refused".into());
        let next = run(&before, outcome, now);
        assert_eq!(next.state, want);
        assert_eq!(next.due, now);
        assert_eq!(next.attempts, 3, "a failed launch keeps backing off");
        assert_eq!(next.failing_since, Some(T0));
        assert_eq!(next.history, before.history, "same public step");
    }
}

#[test]
fn scan_launch_and_adoption_schedule_the_first_poll() {
    let p = Policy::default();
    let now = T0.plus(MIN);
    let launched = ScanInfo {
        launched_at: now,
        ..scan()
    };
    for state in [
        JobState::LaunchingScan { group_id: 5 },
        JobState::ScanLaunchSent {
            group_id: Some(5),
            sent_at: T0,
        },
    ] {
        let next = run(&at(state), Outcome::ScanLaunched(launched.clone()), now);
        assert_eq!(
            next.state,
            JobState::ScanRunning {
                scan: launched.clone(),
                last: None,
                missing_polls: 0
            }
        );
        assert_eq!(next.due, now.plus(p.scan_first_check));
        assert_eq!(
            steps(&next),
            [StepName::LaunchingScan, StepName::ScanRunning]
        );
    }
    // Adopted long after its launch: the first poll is due now, never in the past.
    let late = T0.plus(MIN * 60);
    let found = run(
        &at(JobState::ScanLaunchSent {
            group_id: Some(5),
            sent_at: T0,
        }),
        Outcome::ScanFound(scan()),
        late,
    );
    assert_eq!(found.due, late);
    assert_eq!(found.state.scan_ref(), Some(scan().scan_ref.as_str()));
    // ScanFound only makes sense after an intent.
    let odd = run(
        &at(JobState::LaunchingScan { group_id: 5 }),
        Outcome::ScanFound(scan()),
        late,
    );
    assert_eq!(odd.state, JobState::LaunchingScan { group_id: 5 });
    assert!(odd.last_error.is_some());
}

#[test]
fn scan_polls_keep_polling_or_advance() {
    let p = Policy::default();
    let now = T0.plus(MIN * 10);
    let poll = |st: ScanStatus, report: bool| {
        step(&at(running(None, 2)), &polled(st), now, &ctx(&p, report))
    };

    for state in [
        ScanState::Queued,
        ScanState::Loading,
        ScanState::Running,
        ScanState::Paused,
        ScanState::Submitted,
        ScanState::Other("Odd".into()),
    ] {
        let st = status(state.clone(), false);
        let next = poll(st.clone(), false);
        assert_eq!(next.state, running(Some(st), 0), "{state:?}");
        assert_eq!(next.due, now.plus(p.scan_every), "{state:?}");
    }
    let unprocessed = status(ScanState::Finished, false);
    let next = poll(unprocessed.clone(), true);
    assert_eq!(next.state, running(Some(unprocessed), 0));
    assert_eq!(next.due, now.plus(p.report_every));

    let done = status(ScanState::Finished, true);
    let with_report = poll(done.clone(), true);
    assert_eq!(
        with_report.state,
        JobState::LaunchingReport { scan: scan() }
    );
    assert_eq!(with_report.due, now);
    assert_eq!(
        steps(&with_report),
        [StepName::ScanRunning, StepName::LaunchingReport]
    );
    let without = poll(done, false);
    assert_eq!(
        without.state,
        JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: None,
        }
    );
    assert_eq!(
        steps(&without),
        [StepName::ScanRunning, StepName::Downloading]
    );
}

#[test]
fn scan_errors_and_old_scans_fail_with_the_reason() {
    let p = Policy::default();
    let now = T0.plus(MIN * 10);
    let mut err = status(ScanState::Error, false);
    err.sub_state = Some("No_Host".into());
    let failed = run(&at(running(None, 0)), polled(err), now);
    let (step_at, reason) = failed_reason(&failed);
    assert_eq!(*step_at, StepName::ScanRunning);
    assert!(
        reason.contains("Error")
            && reason.contains("No_Host")
            && reason.contains("scan/1700000000.12345"),
        "{reason}"
    );
    assert_eq!(failed.state.scan_ref(), Some("scan/1700000000.12345"));
    assert_eq!(steps(&failed), [StepName::ScanRunning, StepName::Failed]);

    let canceled = run(
        &at(running(None, 0)),
        polled(status(ScanState::Canceled, false)),
        now,
    );
    assert!(failed_reason(&canceled).1.contains("Canceled"));

    let too_late = T0.plus(p.give_up_after).plus(Duration::from_millis(1));
    let old = run(
        &at(running(None, 0)),
        polled(status(ScanState::Queued, false)),
        too_late,
    );
    assert_eq!(
        failed_reason(&old).1,
        "scan scan/1700000000.12345 still Queued after 3d"
    );
    // Exactly at the limit it keeps polling.
    let edge = run(
        &at(running(None, 0)),
        polled(status(ScanState::Queued, false)),
        T0.plus(p.give_up_after),
    );
    assert!(matches!(edge.state, JobState::ScanRunning { .. }));
}

#[test]
fn a_report_unfinished_after_give_up_after_fails_the_job() {
    let p = Policy::default();
    let limit = T0.plus(p.give_up_after);
    let later = limit.plus(Duration::from_millis(1));
    // `at` records entering report_running at T0.
    let queued = run(
        &at(report_running(0)),
        Outcome::ReportPolled(Some(ReportState::Submitted)),
        later,
    );
    let (step_at, reason) = failed_reason(&queued);
    assert_eq!(*step_at, StepName::ReportRunning);
    assert_eq!(reason, "report 77 still Submitted after 3d");
    let missing = run(&at(report_running(0)), Outcome::ReportPolled(None), later);
    assert_eq!(
        failed_reason(&missing).1,
        "report 77 still not listed after 3d"
    );
    // Exactly at the limit it keeps polling; a finished report is fetched however late.
    let edge = run(
        &at(report_running(0)),
        Outcome::ReportPolled(Some(ReportState::Running)),
        limit,
    );
    assert!(matches!(edge.state, JobState::ReportRunning { .. }));
    let finished = run(
        &at(report_running(0)),
        Outcome::ReportPolled(Some(ReportState::Finished)),
        later,
    );
    assert!(matches!(finished.state, JobState::Downloading { .. }));
    // The clock starts at the first report_running entry: a fetch that found the report
    // not ready (back to report_running later) does not restart it.
    let mut cp = at(report_running(0));
    cp.history.push(HistoryEntry {
        step: StepName::Downloading,
        at: limit,
    });
    cp.history.push(HistoryEntry {
        step: StepName::ReportRunning,
        at: limit,
    });
    let refetched = run(
        &cp,
        Outcome::ReportPolled(Some(ReportState::Running)),
        later,
    );
    assert!(matches!(refetched.state, JobState::Failed { .. }));
}

#[test]
fn a_scan_missing_from_max_polls_in_a_row_fails() {
    let p = Policy::default();
    let mut cp = at(running(None, 0));
    let mut now = T0.plus(MIN * 7);
    for n in 1..p.max_missing_polls {
        cp = run(&cp, Outcome::ScanNotListed, now);
        assert_eq!(cp.state, running(None, n), "after {n} misses");
        assert_eq!(cp.due, now.plus(p.scan_every));
        assert!(cp
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not listed")));
        now = cp.due;
    }
    // A successful poll resets the count.
    let reset = run(&cp, polled(status(ScanState::Running, false)), now);
    assert!(matches!(
        reset.state,
        JobState::ScanRunning {
            missing_polls: 0,
            ..
        }
    ));
    assert_eq!(reset.last_error, None);
    let failed = run(&cp, Outcome::ScanNotListed, now);
    assert!(
        failed_reason(&failed).1.contains("not listed in 3 polls"),
        "{failed:?}"
    );
}

#[test]
fn report_launch_poll_and_download() {
    let p = Policy::default();
    let now = T0.plus(MIN * 20);
    for (state, outcome) in [
        (
            JobState::LaunchingReport { scan: scan() },
            Outcome::ReportLaunched { report_id: 77 },
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: T0,
            },
            Outcome::ReportLaunched { report_id: 77 },
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: T0,
            },
            Outcome::ReportFound { report_id: 77 },
        ),
    ] {
        let next = run(&at(state), outcome, now);
        assert_eq!(next.state, report_running(0));
        assert_eq!(next.due, now.plus(p.report_every));
        assert_eq!(
            steps(&next),
            [StepName::LaunchingReport, StepName::ReportRunning]
        );
    }
    let still = run(
        &at(report_running(1)),
        Outcome::ReportPolled(Some(ReportState::Running)),
        now,
    );
    assert_eq!(
        still.state,
        JobState::ReportRunning {
            scan: scan(),
            report_id: 77,
            last: Some(ReportState::Running),
            missing_polls: 0
        }
    );
    assert_eq!(still.due, now.plus(p.report_every));

    let finished = run(
        &at(report_running(0)),
        Outcome::ReportPolled(Some(ReportState::Finished)),
        now,
    );
    assert_eq!(
        finished.state,
        JobState::Downloading {
            scan: scan(),
            report_id: Some(77),
            baseline: None,
        }
    );
    assert_eq!(finished.due, now);

    for bad in [ReportState::Errors, ReportState::Canceled] {
        let failed = run(
            &at(report_running(0)),
            Outcome::ReportPolled(Some(bad.clone())),
            now,
        );
        let (step_at, reason) = failed_reason(&failed);
        assert_eq!(*step_at, StepName::ReportRunning);
        assert!(
            reason.contains(bad.as_str()) && reason.contains("77"),
            "{reason}"
        );
    }

    let missing = run(&at(report_running(0)), Outcome::ReportPolled(None), now);
    assert_eq!(missing.state, report_running(1));
    let gone = run(
        &at(report_running(p.max_missing_polls - 1)),
        Outcome::ReportPolled(None),
        now,
    );
    assert!(failed_reason(&gone).1.contains("not listed"));

    let not_ready = run(
        &at(JobState::Downloading {
            scan: scan(),
            report_id: Some(77),
            baseline: None,
        }),
        Outcome::ReportNotReady,
        now,
    );
    assert_eq!(not_ready.state, report_running(0));
    assert_eq!(not_ready.due, now.plus(p.report_every));
    assert_eq!(
        steps(&not_ready),
        [StepName::Downloading, StepName::ReportRunning]
    );

    let done = run(
        &at(JobState::Downloading {
            scan: scan(),
            report_id: Some(77),
            baseline: None,
        }),
        Outcome::Downloaded,
        now,
    );
    assert_eq!(
        done.state,
        JobState::Done {
            note: None,
            scan: scan(),
            report_id: Some(77)
        }
    );
    assert_eq!(steps(&done), [StepName::Downloading, StepName::Done]);

    // Without a report, "not ready" makes no sense: ignored.
    let odd = run(
        &at(JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: None,
        }),
        Outcome::ReportNotReady,
        now,
    );
    assert_eq!(
        odd.state,
        JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: None,
        }
    );
    assert!(odd.last_error.is_some());
}

#[test]
fn deferred_waits_without_counting_an_attempt() {
    let now = T0.plus(MIN);
    let later = now.plus(MIN * 3);
    let mut before = at(JobState::AddingIps);
    before.attempts = 2;
    let next = run(
        &before,
        Outcome::Deferred {
            until: later,
            reason: "409 rate".into(),
            scope: DeferScope::Job,
        },
        now,
    );
    assert_eq!(next.state, JobState::AddingIps);
    assert_eq!(next.due, later);
    assert_eq!(next.attempts, 2);
    assert_eq!(next.last_error.as_deref(), Some("409 rate"));
    let past = run(
        &before,
        Outcome::Deferred {
            until: T0,
            reason: "x".into(),
            scope: DeferScope::Job,
        },
        now,
    );
    assert_eq!(past.due, now, "never due in the past");
    // A Sent state stays Sent: the next action is the (safe) lookup.
    let sent = at(JobState::ScanLaunchSent {
        group_id: Some(5),
        sent_at: T0,
    });
    let next = run(
        &sent,
        Outcome::Deferred {
            until: later,
            reason: "409".into(),
            scope: DeferScope::Job,
        },
        now,
    );
    assert_eq!(next.state, sent.state);
}

#[test]
fn transient_failures_back_off_and_never_fail_the_job() {
    let p = Policy::default();
    let mut cp = at(JobState::AddingIps);
    let mut now = T0;
    let mut last_delay = Duration::ZERO;
    for n in 1..=200u32 {
        cp = run(
            &cp,
            Outcome::Transient {
                reason: format!("refused {n}"),
            },
            now,
        );
        assert_eq!(cp.state, JobState::AddingIps);
        assert_eq!(cp.attempts, n);
        assert_eq!(cp.failing_since, Some(T0));
        assert_eq!(cp.last_error, Some(format!("refused {n}")));
        let delay = now.until(cp.due);
        let cap = if T0.until(now) >= p.retry_patience {
            p.patient_cap
        } else {
            p.retry_cap
        };
        assert!(delay <= cap, "attempt {n}: {delay:?} over {cap:?}");
        if n == 1 {
            assert!(
                delay <= p.retry_base && delay >= p.retry_base * 3 / 4,
                "{delay:?}"
            );
        }
        last_delay = delay;
        now = cp.due;
    }
    assert!(
        last_delay > p.retry_cap,
        "after patience the waits lengthen: {last_delay:?}"
    );
    // Progress clears the failure run.
    let ok = run(&cp, Outcome::IpsAdded, now);
    assert_eq!(
        (ok.attempts, ok.failing_since, ok.last_error),
        (0, None, None)
    );
    // In a Sent state a transient failure keeps the lookup as the next action.
    let sent = run(
        &at(JobState::GroupCreateSent { sent_at: T0 }),
        Outcome::Transient { reason: "x".into() },
        now,
    );
    assert_eq!(sent.state, JobState::GroupCreateSent { sent_at: T0 });
    assert_eq!(sent.attempts, 1);
}

#[test]
fn ambiguous_moves_to_the_sent_state() {
    let now = T0.plus(MIN);
    let p = Policy::default();
    let next = run(
        &at(JobState::LaunchingScan { group_id: 5 }),
        Outcome::Ambiguous {
            reason: "timeout".into(),
        },
        now,
    );
    assert_eq!(
        next.state,
        JobState::ScanLaunchSent {
            group_id: Some(5),
            sent_at: now
        }
    );
    assert_eq!(next.attempts, 1);
    assert!(next.due > now);
    assert!(matches!(action(&next.state, &p), Action::FindScan { .. }));
    let sent = at(JobState::ReportLaunchSent {
        scan: scan(),
        sent_at: T0,
    });
    let again = run(
        &sent,
        Outcome::Ambiguous {
            reason: "reset".into(),
        },
        now,
    );
    assert_eq!(again.state, sent.state, "keeps the original sent_at");
    // On a read it is just a retry.
    let read = run(
        &at(JobState::FindingGroup),
        Outcome::Ambiguous {
            reason: "reset".into(),
        },
        now,
    );
    assert_eq!(read.state, JobState::FindingGroup);
    assert_eq!(read.attempts, 1);
}

#[test]
fn permanent_failures_fail_at_the_current_step() {
    let now = T0.plus(MIN);
    let failed = run(
        &at(JobState::ScanLaunchSent {
            group_id: Some(5),
            sent_at: T0,
        }),
        Outcome::Permanent {
            reason: "bad option profile".into(),
        },
        now,
    );
    assert_eq!(
        failed.state,
        JobState::Failed {
            last_scan: None,
            at: StepName::LaunchingScan,
            reason: "bad option profile".into(),
            scan_ref: None
        }
    );
    assert_eq!(steps(&failed), [StepName::LaunchingScan, StepName::Failed]);
    let running_failed = run(
        &at(running(None, 0)),
        Outcome::Permanent { reason: "x".into() },
        now,
    );
    assert_eq!(
        running_failed.state.scan_ref(),
        Some(scan().scan_ref.as_str())
    );
    let cancel_failed = run(
        &at(JobState::Canceling {
            fail_reason: None,
            last_scan: None,
            scan_ref: Some("s".into()),
            report_id: None,
        }),
        Outcome::Permanent {
            reason: "finished".into(),
        },
        now,
    );
    assert_eq!(
        cancel_failed.state,
        JobState::Canceled {
            last_scan: None,
            scan_ref: Some("s".into())
        }
    );
    assert!(cancel_failed
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("finished")));
}

#[test]
fn cancel_from_idle_states_is_immediate() {
    let now = T0.plus(MIN);
    for state in [
        JobState::Accepted,
        JobState::AddingIps,
        JobState::FindingGroup,
        JobState::CreatingGroup,
        JobState::ExtendingGroup { group_id: 1 },
        JobState::LaunchingScan { group_id: 5 },
        JobState::LaunchingReport { scan: scan() },
        JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: None,
        },
    ] {
        let next = run(&at(state.clone()), Outcome::CancelRequested, now);
        assert_eq!(
            next.state,
            JobState::Canceled {
                scan_ref: state.scan_ref().map(str::to_string),
                last_scan: state.last_scan_status(),
            },
            "{state:?}"
        );
        assert_eq!(
            next.history.last().map(|h| h.step),
            Some(StepName::Canceled)
        );
        assert_eq!(action(&next.state, &Policy::default()), Action::Nothing);
    }
}

#[test]
fn cancel_of_running_work_cancels_remotely() {
    let now = T0.plus(MIN);
    let next = run(&at(running(None, 0)), Outcome::CancelRequested, now);
    assert_eq!(
        next.state,
        JobState::Canceling {
            fail_reason: None,
            last_scan: Some(ScanStatus {
                state: ScanState::Submitted,
                sub_state: None,
                processed: false
            }),
            scan_ref: Some(scan().scan_ref),
            report_id: None
        }
    );
    assert_eq!(next.due, now);
    let again = run(&next, Outcome::CancelRequested, now);
    assert_eq!(again, next, "a second request changes nothing");
    let done = run(&next, Outcome::CancelDone, now);
    assert_eq!(
        done.state,
        JobState::Canceled {
            last_scan: Some(ScanStatus {
                state: ScanState::Canceled,
                sub_state: None,
                processed: false
            }),
            scan_ref: Some(scan().scan_ref)
        }
    );
    assert_eq!(steps(&done), [StepName::ScanRunning, StepName::Canceled]);

    let report = run(&at(report_running(0)), Outcome::CancelRequested, now);
    assert_eq!(
        report.state,
        JobState::Canceling {
            fail_reason: None,
            last_scan: Some(ScanStatus {
                state: ScanState::Finished,
                sub_state: None,
                processed: true
            }),
            scan_ref: Some(scan().scan_ref),
            report_id: Some(77)
        }
    );
}

#[test]
fn a_canceled_scan_ends_in_the_state_qualys_lists() {
    let now = T0.plus(MIN);
    let polled = running(Some(status(ScanState::Running, false)), 0);
    let canceling = run(&at(polled), Outcome::CancelRequested, now);
    assert_eq!(
        canceling.state.last_scan_status().map(|s| s.state),
        Some(ScanState::Running),
        "until Qualys took the cancel, the scan runs"
    );
    let canceled = run(&canceling, Outcome::CancelDone, now);
    assert_eq!(canceled.state.step_name(), StepName::Canceled);
    assert_eq!(
        canceled.state.last_scan_status(),
        Some(ScanStatus {
            state: ScanState::Canceled,
            sub_state: None,
            processed: false
        }),
        "a scan whose cancel Qualys took is listed Canceled"
    );
    // A finished scan stays finished: only its report was running.
    let report = run(&at(report_running(0)), Outcome::CancelRequested, now);
    let done = run(&report, Outcome::CancelDone, now);
    assert_eq!(
        done.state.last_scan_status().map(|s| s.state),
        Some(ScanState::Finished)
    );
    // A cancel Qualys refused for good leaves the last known state.
    let refused = run(
        &canceling,
        Outcome::Permanent {
            reason: "CODE 2003 no such scan".into(),
        },
        now,
    );
    assert_eq!(
        refused.state.last_scan_status().map(|s| s.state),
        Some(ScanState::Running)
    );
}

#[test]
fn cancel_during_a_lookup_waits_for_it() {
    let now = T0.plus(MIN);
    let sent = at(JobState::ScanLaunchSent {
        group_id: Some(5),
        sent_at: T0,
    });
    let flagged = run(&sent, Outcome::CancelRequested, now);
    assert_eq!(flagged.state, sent.state);
    assert!(flagged.cancel_requested);
    // Still flagged through a retry.
    let retried = run(&flagged, Outcome::Transient { reason: "x".into() }, now);
    assert!(retried.cancel_requested && retried.state == sent.state);
    // The lookup finds the scan: cancel it.
    let found = run(&retried, Outcome::ScanFound(scan()), now);
    assert_eq!(
        found.state,
        JobState::Canceling {
            fail_reason: None,
            last_scan: Some(ScanStatus {
                state: ScanState::Submitted,
                sub_state: None,
                processed: false
            }),
            scan_ref: Some(scan().scan_ref),
            report_id: None
        }
    );
    assert!(!found.cancel_requested);
    // The lookup finds nothing before the proof time: still looking, the cancel pending.
    let early = run(&flagged, Outcome::ScanAbsent, now);
    assert!(early.cancel_requested && early.state == sent.state);
    // Once absence is proven: nothing to cancel.
    let absent = run(&flagged, Outcome::ScanAbsent, proven());
    assert_eq!(
        absent.state,
        JobState::Canceled {
            scan_ref: None,
            last_scan: None
        }
    );
    assert!(!absent.cancel_requested);
    // Same for groups.
    let group = run(
        &run(
            &at(JobState::GroupCreateSent { sent_at: T0 }),
            Outcome::CancelRequested,
            now,
        ),
        Outcome::GroupCreated { group_id: Some(5) },
        now,
    );
    assert_eq!(
        group.state,
        JobState::Canceled {
            scan_ref: None,
            last_scan: None
        }
    );
}

#[test]
fn mismatched_outcomes_only_note_the_error() {
    let now = T0.plus(MIN);
    let cases = [
        (
            JobState::AddingIps,
            polled(status(ScanState::Running, false)),
        ),
        (JobState::FindingGroup, Outcome::Downloaded),
        (
            JobState::LaunchingScan { group_id: 5 },
            Outcome::GroupAbsent,
        ),
        (running(None, 0), Outcome::ReportLaunched { report_id: 1 }),
        (JobState::Accepted, Outcome::CancelDone),
        (JobState::AddingIps, Outcome::Start),
    ];
    for (state, outcome) in cases {
        let before = at(state.clone());
        let next = run(&before, outcome.clone(), now);
        let note = next.last_error.clone().unwrap_or_default();
        assert!(
            note.contains(state_name(&state)) && note.contains(outcome_name(&outcome)),
            "{note}"
        );
        assert_eq!(
            Checkpoint {
                last_error: None,
                ..next
            },
            before,
            "{state:?} + {outcome:?}"
        );
    }
}

#[test]
fn terminal_states_ignore_everything() {
    let now = T0.plus(MIN);
    for state in [
        JobState::Done {
            note: None,
            scan: scan(),
            report_id: None,
        },
        JobState::Failed {
            last_scan: None,
            at: StepName::ScanRunning,
            reason: "x".into(),
            scan_ref: None,
        },
        JobState::Canceled {
            scan_ref: None,
            last_scan: None,
        },
    ] {
        let before = at(state);
        for outcome in [
            Outcome::CancelRequested,
            Outcome::Permanent { reason: "x".into() },
            Outcome::Transient { reason: "x".into() },
            Outcome::Downloaded,
            Outcome::CancelDone,
        ] {
            assert_eq!(run(&before, outcome, now), before);
        }
    }
}

#[test]
fn the_baseline_found_on_entering_downloading_is_kept_and_handed_to_the_download() {
    let p = Policy::default();
    let now = T0.plus(MIN * 10);
    let finished = polled(ScanStatus {
        state: ScanState::Finished,
        sub_state: None,
        processed: true,
    });
    let with = Ctx {
        baseline: Some("20240302-000000-000002"),
        ..ctx(&p, false)
    };
    let next = step(&at(running(None, 0)), &finished, now, &with);
    assert_eq!(
        next.state,
        JobState::Downloading {
            scan: scan(),
            report_id: None,
            baseline: Some("20240302-000000-000002".into()),
        }
    );
    assert_eq!(
        action(&next.state, &p),
        Action::Download {
            scan_ref: scan().scan_ref,
            report_id: None,
            baseline: Some("20240302-000000-000002".into()),
        }
    );
    // A failed attempt in Downloading keeps it, whatever the driver would find now.
    let later = Ctx {
        baseline: Some("20240309-000000-000009"),
        ..ctx(&p, false)
    };
    let retried = step(
        &next,
        &Outcome::Transient {
            reason: "action items: disk full".into(),
        },
        now,
        &later,
    );
    assert_eq!(retried.state, next.state);
    // From a report that finished too.
    let report = step(
        &at(report_running(0)),
        &Outcome::ReportPolled(Some(ReportState::Finished)),
        now,
        &with,
    );
    assert!(matches!(
        report.state,
        JobState::Downloading { baseline: Some(ref b), .. } if b == "20240302-000000-000002"
    ));
}

#[test]
fn a_send_that_provably_did_not_happen_goes_back_before_the_intent_without_a_lookup() {
    let until = T0.plus(2 * MIN);
    let not_sent = || Outcome::NotSent {
        until,
        reason: "409 CODE 1965".into(),
    };
    let cases = [
        (
            JobState::GroupCreateSent { sent_at: T0 },
            JobState::CreatingGroup,
        ),
        (
            JobState::GroupExtendSent {
                group_id: 7,
                sent_at: T0,
            },
            JobState::ExtendingGroup { group_id: 7 },
        ),
        (
            JobState::ScanLaunchSent {
                group_id: Some(7),
                sent_at: T0,
            },
            JobState::LaunchingScan { group_id: 7 },
        ),
        (
            JobState::ReportLaunchSent {
                scan: scan(),
                sent_at: T0,
            },
            JobState::LaunchingReport { scan: scan() },
        ),
    ];
    for (sent, before) in cases {
        let next = run(&at(sent.clone()), not_sent(), T0);
        assert_eq!(next.state, before, "from {sent:?}");
        assert_eq!(next.due, until, "waits as the refusal said");
        assert_eq!(next.last_error.as_deref(), Some("409 CODE 1965"));
        // And the next action is the send again, not a lookup.
        assert!(needs_intent(&next.state), "{:?}", next.state);
    }
    // A launch migrated without its group id cannot go back: it stays, and looks up.
    let old = JobState::ScanLaunchSent {
        group_id: None,
        sent_at: T0,
    };
    assert_eq!(run(&at(old.clone()), not_sent(), T0).state, old);
    // Outside a …Sent state it is a plain wait.
    let next = run(&at(JobState::FindingGroup), not_sent(), T0);
    assert_eq!((next.state, next.due), (JobState::FindingGroup, until));
    // A cancel that waited for the lookup takes effect once the job left the …Sent state.
    let mut pending = at(JobState::ScanLaunchSent {
        group_id: Some(7),
        sent_at: T0,
    });
    pending.cancel_requested = true;
    let next = run(&pending, not_sent(), T0);
    assert!(
        matches!(next.state, JobState::Canceled { .. }),
        "{:?}",
        next.state
    );
}
