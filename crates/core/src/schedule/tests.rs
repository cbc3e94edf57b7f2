//! Unit tests of [`crate::schedule`]: every rule with plain values.

use super::*;
use crate::ip::test_ips::set;
use crate::machine::{Ctx, Plan};
use crate::state::Outcome;

const T0: Timestamp = Timestamp(1_700_000_000_000);
const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);
/// The loop's own cadence in these tests (the run loop passes its spool-scan interval).
const MAX: Duration = Duration::from_secs(1);

/// `state`, due at `due` (the rest as accepted at T0: the schedule reads no more).
fn at(state: JobState, due: Timestamp) -> Checkpoint {
    Checkpoint {
        state,
        due,
        ..Checkpoint::accepted(T0)
    }
}

fn scan(launched_at: Timestamp) -> ScanInfo {
    ScanInfo {
        scan_ref: "scan/1700000000.1".to_string(),
        launched_at,
        target: None,
    }
}

fn scan_running(launched_at: Timestamp, due: Timestamp) -> Checkpoint {
    at(
        JobState::ScanRunning {
            scan: scan(launched_at),
            last: None,
            missing_polls: 0,
        },
        due,
    )
}

fn report_running(due: Timestamp) -> Checkpoint {
    at(
        JobState::ReportRunning {
            scan: scan(T0),
            report_id: 7,
            last: None,
            missing_polls: 0,
        },
        due,
    )
}

/// A job table: (id, checkpoint, busy), in acceptance order.
type Table = Vec<(u32, Checkpoint, bool)>;

fn view(t: &Table) -> impl Iterator<Item = Job<'_, u32>> {
    t.iter().map(|(id, checkpoint, busy)| Job {
        id,
        checkpoint,
        busy: *busy,
        held: false,
    })
}

fn rules(policy: &Policy, max_active_jobs: usize) -> Rules<'_> {
    Rules {
        policy,
        max_active_jobs,
    }
}

fn plan(t: &Table, in_flight: InFlight, pause: Option<Timestamp>, now: Timestamp) -> Agenda<u32> {
    let p = Policy::default();
    agenda(view(t), in_flight, pause, now, rules(&p, 20))
}

fn ids(a: &Agenda<u32>) -> Vec<u32> {
    a.starts
        .iter()
        .map(|s| match s {
            Start::Begin(id) | Start::Act(id, _) => *id,
        })
        .collect()
}

#[test]
fn only_the_first_max_active_jobs_act_in_acceptance_order_busy_ones_counted() {
    let p = Policy::default();
    let t: Table = (1..=5)
        .map(|i| (i, at(JobState::FindingGroup, T0), i == 2))
        .collect();
    let a = agenda(view(&t), InFlight::default(), None, T0, rules(&p, 3));
    // Job 2 is busy but holds its place: 3 admitted = 1, 2, 3; 4 and 5 wait.
    assert_eq!(ids(&a), vec![1, 3]);
    assert_eq!(
        a.starts[0],
        Start::Act(1, Action::FindGroup),
        "the action is the machine's"
    );
    let a = agenda(view(&t), InFlight::default(), None, T0, rules(&p, 10));
    assert_eq!(ids(&a), vec![1, 3, 4, 5]);
}

#[test]
fn an_accepted_job_begins_at_once_and_a_due_job_acts_but_not_before_its_due_time() {
    let t: Table = vec![
        (1, at(JobState::Accepted, T0.plus(MIN)), false),
        (2, at(JobState::CreatingGroup, T0), false),
        (3, at(JobState::CreatingGroup, T0.plus(SEC)), false),
    ];
    let a = plan(&t, InFlight::default(), None, T0);
    assert_eq!(
        a.starts,
        vec![Start::Begin(1), Start::Act(2, Action::CreateGroup)]
    );
    assert!(a.rounds.is_empty());
    let a = plan(&t, InFlight::default(), None, T0.plus(SEC));
    assert_eq!(ids(&a), vec![1, 2, 3], "due now is due");
}

#[test]
fn terminal_records_start_nothing() {
    let t: Table = vec![(
        1,
        at(
            JobState::Failed {
                at: crate::state::StepName::ScanRunning,
                reason: "x".into(),
                scan_ref: None,
                last_scan: None,
            },
            T0,
        ),
        false,
    )];
    assert_eq!(plan(&t, InFlight::default(), None, T0), Agenda::default());
}

#[test]
fn a_round_starts_once_its_most_overdue_job_waited_half_a_poll_interval_at_most_a_minute() {
    let p = Policy::default(); // scan_every 5m (half: 150s, capped at 60s), report_every 1m
    let launched = T0.minus(Duration::from_secs(3600));
    let scans: Table = vec![(1, scan_running(launched, T0), false)];
    assert!(plan(&scans, InFlight::default(), None, T0.plus(MIN - SEC))
        .rounds
        .is_empty());
    assert_eq!(
        plan(&scans, InFlight::default(), None, T0.plus(MIN)).rounds,
        vec![(RoundKind::Scans, vec![1])],
        "capped at a minute, not 150 s"
    );
    let reports: Table = vec![(1, report_running(T0), false)];
    let half = p.report_every / 2;
    assert!(
        plan(&reports, InFlight::default(), None, T0.plus(half - SEC))
            .rounds
            .is_empty()
    );
    assert_eq!(
        plan(&reports, InFlight::default(), None, T0.plus(half)).rounds,
        vec![(RoundKind::Reports, vec![1])]
    );
}

#[test]
fn jobs_due_within_half_a_poll_interval_join_the_round_later_ones_do_not() {
    let p = Policy::default();
    let launched = T0.minus(Duration::from_secs(3600));
    let now = T0.plus(MIN); // job 1 has waited the minute
    let half = p.scan_every / 2;
    let t: Table = vec![
        (1, scan_running(launched, T0), false),
        (2, scan_running(launched, now.plus(half)), false),
        (3, scan_running(launched, now.plus(half + SEC)), false),
        (4, report_running(now.plus(p.report_every / 2)), false),
    ];
    let a = plan(&t, InFlight::default(), None, now);
    assert_eq!(a.rounds, vec![(RoundKind::Scans, vec![1, 2])]);
    assert!(a.starts.is_empty(), "polls never start alone");
}

#[test]
fn a_scan_never_joins_a_round_before_its_first_check() {
    let p = Policy::default();
    let now = T0.plus(MIN);
    // Launched 6m59s ago: its first check (7m) is in 1s, well inside the join window.
    let young_launch = now.minus(p.scan_first_check - SEC);
    let young = scan_running(young_launch, first_check_at(&scan(young_launch), &p));
    let old = scan_running(T0.minus(Duration::from_secs(3600)), T0);
    let t: Table = vec![(1, old.clone(), false), (2, young, false)];
    assert_eq!(
        plan(&t, InFlight::default(), None, now).rounds,
        vec![(RoundKind::Scans, vec![1])]
    );
    // Once the first check has passed, a scan due soon joins early as any other poll.
    let checked_launch = now.minus(p.scan_first_check);
    let checked = scan_running(checked_launch, now.plus(MIN));
    let t: Table = vec![(1, old, false), (2, checked, false)];
    assert_eq!(
        plan(&t, InFlight::default(), None, now).rounds,
        vec![(RoundKind::Scans, vec![1, 2])]
    );
}

#[test]
fn the_machines_first_due_time_is_the_schedules_first_check() {
    let p = Policy::default();
    let launched = T0.minus(MIN);
    let scope = set(&["64.39.106.0/24"]);
    let ips = set(&["64.39.106.1"]);
    let ctx = Ctx {
        policy: &p,
        plan: Plan {
            report: false,
            raw: false,
        },
        seed: 1,
        scope: &scope,
        ips: &ips,
        baseline: None,
    };
    let sent = at(
        JobState::ScanLaunchSent {
            group_id: Some(5),
            sent_at: launched,
        },
        T0,
    );
    let running = crate::machine::step(&sent, &Outcome::ScanLaunched(scan(launched)), T0, &ctx);
    assert_eq!(running.due, first_check_at(&scan(launched), &p));
    assert!(matches!(running.state, JobState::ScanRunning { .. }));
}

#[test]
fn one_round_of_a_kind_in_flight_the_other_kind_still_starts() {
    let launched = T0.minus(Duration::from_secs(3600));
    let t: Table = vec![
        (1, scan_running(launched, T0), false),
        (2, report_running(T0), false),
        (3, scan_running(launched, T0), true),
    ];
    let now = T0.plus(MIN);
    let busy_scans = InFlight {
        scans: true,
        reports: false,
    };
    assert_eq!(
        plan(&t, busy_scans, None, now).rounds,
        vec![(RoundKind::Reports, vec![2])]
    );
    assert_eq!(
        plan(&t, InFlight::default(), None, now).rounds,
        vec![(RoundKind::Scans, vec![1]), (RoundKind::Reports, vec![2])],
        "a busy job is in no round"
    );
}

#[test]
fn nothing_starts_during_a_pause_and_the_loop_wakes_when_it_ends() {
    let p = Policy::default();
    let t: Table = vec![
        (1, at(JobState::Accepted, T0), false),
        (2, at(JobState::FindingGroup, T0), false),
    ];
    let until = T0.plus(Duration::from_millis(300));
    assert_eq!(
        plan(&t, InFlight::default(), Some(until), T0),
        Agenda::default()
    );
    assert!(paused(Some(until), T0));
    assert_eq!(
        sleep(view(&t), Some(until), T0, rules(&p, 20), MAX),
        Duration::from_millis(300),
        "the pause's end, not the no-spin floor"
    );
    assert_eq!(
        sleep(view(&t), Some(T0.plus(MIN)), T0, rules(&p, 20), MAX),
        MAX
    );
    // At its end the pause is over.
    assert!(!paused(Some(until), until));
    assert_eq!(
        ids(&plan(&t, InFlight::default(), Some(until), until)),
        vec![1, 2]
    );
    assert!(!paused(None, T0));
}

#[test]
fn no_spin_the_sleep_has_a_floor_and_a_ceiling() {
    let p = Policy::default();
    let r = rules(&p, 20);
    // A job overdue that could not start (its round kind in flight): the floor.
    let t: Table = vec![(1, report_running(T0.minus(MIN)), false)];
    assert_eq!(sleep(view(&t), None, T0, r, MAX), MIN_SLEEP);
    // Nothing to wait for: the caller's cadence.
    assert_eq!(sleep(view(&Table::new()), None, T0, r, MAX), MAX);
    // Busy jobs wake the loop through their results, not through the schedule.
    let t: Table = vec![(1, at(JobState::FindingGroup, T0), true)];
    assert_eq!(sleep(view(&t), None, T0, r, MAX), MAX);
    // The earliest idle admitted job, a poll including its gathering wait.
    let t: Table = vec![
        (
            1,
            at(JobState::FindingGroup, T0.plus(Duration::from_millis(700))),
            false,
        ),
        (
            2,
            report_running(
                T0.minus(Duration::from_secs(30))
                    .plus(Duration::from_millis(200)),
            ),
            false,
        ),
    ];
    assert_eq!(
        sleep(view(&t), None, T0, r, MAX),
        Duration::from_millis(200)
    );
    // Jobs beyond max_active_jobs do not wake the loop.
    let t: Table = vec![
        (
            1,
            at(JobState::FindingGroup, T0.plus(Duration::from_millis(700))),
            false,
        ),
        (2, at(JobState::FindingGroup, T0), false),
    ];
    assert_eq!(
        sleep(view(&t), None, T0, rules(&p, 1), MAX),
        Duration::from_millis(700)
    );
}

#[test]
fn hostile_times_from_a_damaged_store_neither_panic_nor_escape_the_bounds() {
    let p = Policy::default();
    let r = rules(&p, 20);
    let extremes = [Timestamp(i64::MIN), Timestamp(-1), Timestamp(i64::MAX)];
    for due in extremes {
        for launched in extremes {
            let t: Table = vec![
                (1, scan_running(launched, due), false),
                (2, report_running(due), false),
                (3, at(JobState::AddingIps, due), false),
            ];
            for now in extremes {
                let _ = plan(&t, InFlight::default(), Some(due), now);
                let s = sleep(view(&t), None, now, r, MAX);
                assert!((MIN_SLEEP..=MAX).contains(&s), "{s:?}");
                let s = sleep(view(&t), Some(due), now, r, MAX);
                assert!(s <= MAX, "{s:?}");
            }
        }
    }
    // A scan launched "in the future" (a skewed clock) is polled when due, never early.
    let t: Table = vec![(1, scan_running(Timestamp(i64::MAX), T0.plus(SEC)), false)];
    assert!(plan(&t, InFlight::default(), None, T0).rounds.is_empty());
}

#[test]
fn gathering_is_one_rule_for_both_kinds() {
    let mut p = Policy::default();
    let g = gathering(&report_running(T0).state, &p).expect("a poll state");
    assert_eq!(
        (g.kind, g.join_early, g.wait),
        (RoundKind::Reports, 30 * SEC, 30 * SEC)
    );
    p.report_every = Duration::from_secs(600);
    let g = gathering(&report_running(T0).state, &p).expect("a poll state");
    assert_eq!((g.join_early, g.wait), (300 * SEC, MAX_ROUND_WAIT));
    assert_eq!(gathering(&JobState::FindingGroup, &p), None);
    let cp = report_running(T0);
    assert_eq!(wake_at(&cp, &p), T0.plus(MAX_ROUND_WAIT));
    assert_eq!(wake_at(&at(JobState::FindingGroup, T0), &p), T0);
}

#[test]
fn a_broken_store_is_retried_doubling_from_a_second_up_to_thirty() {
    let waits: Vec<u64> = (1..=8).map(|n| store_retry_after(n).as_secs()).collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    assert_eq!(store_retry_after(0), STORE_RETRY_FIRST);
    assert_eq!(store_retry_after(u32::MAX), STORE_RETRY_MAX);
}

#[test]
fn a_held_job_takes_no_action_and_no_slot_before_it_begins_but_a_cancel_goes_on() {
    let p = Policy::default();
    let now = T0.plus(Duration::from_secs(3600));
    let canceling = at(
        JobState::Canceling {
            scan_ref: Some("scan/1".into()),
            report_id: None,
            fail_reason: None,
            last_scan: None,
        },
        now,
    );
    // (id, checkpoint, held): a held job not begun, a held scan due for its poll, a held
    // job being canceled, then two accepted jobs.
    let t: Vec<(u32, Checkpoint, bool)> = vec![
        (1, Checkpoint::accepted(T0), true),
        (2, scan_running(T0, now), true),
        (3, canceling, true),
        (4, Checkpoint::accepted(T0), false),
        (5, Checkpoint::accepted(T0), false),
    ];
    let jobs = || {
        t.iter().map(|(id, checkpoint, held)| Job {
            id,
            checkpoint,
            busy: false,
            held: *held,
        })
    };
    let a = agenda(jobs(), InFlight::default(), None, now, rules(&p, 3));
    // Job 1 takes no slot; job 2 keeps its slot but does not poll; job 3 cancels; job 4
    // fills the third slot; job 5 waits.
    assert_eq!(ids(&a), vec![3, 4], "{a:?}");
    assert!(a.rounds.is_empty(), "the held scan joins no round: {a:?}");
    // Only held jobs: nothing to wake for but the cadence.
    let only_held = || jobs().take(2);
    let max = Duration::from_secs(1);
    assert_eq!(sleep(only_held(), None, now, rules(&p, 3), max), max);
}
