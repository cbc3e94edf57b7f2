//! Property test: a model driver with crashes and faults against a truthful model Qualys.
//!
//! Each iteration the driver takes `action(state)`, commits the intent when one is needed,
//! then (driven by random choices) crashes before sending, crashes after the request took
//! effect, gets a fault (transient, deferred, ambiguous, a missing object, rarely a
//! permanent error or a cancel) or gets the model's truthful answer. A crash restarts from
//! the last committed checkpoint (the intent counts as committed). When the random choices
//! run out every answer is truthful and the job must reach a terminal state.
//!
//! The model applies slowly, like Qualys (qualys-api.md §2.4): a request whose answer was
//! lost (a crash after sending, a timeout) may take effect up to `request_timeout` plus
//! half the absence margin after it was sent, and lookups before then do not see it.

use super::*;
use crate::state::{DeferScope, HistoryEntry, StepName};
use proptest::prelude::*;
use std::time::Duration;

/// The model Qualys: counts every remote creation, answers lookups truthfully.
#[derive(Debug, Default)]
struct Model {
    /// Requests received but not applied yet: applied at their time.
    pending: Vec<(Timestamp, Action)>,
    group_exists: bool,
    group_has_ips: bool,
    group_creations: u32,
    scan_launches: u32,
    scan: Option<ScanInfo>,
    scan_polls: u32,
    report_launches: u32,
    report_polls: u32,
}

const REPORT_ID: u64 = 4242;

/// The job's addresses and the scope of the model.
fn job_ips() -> IpSet {
    crate::ip::test_ips::set(&["64.39.106.7"])
}
fn scope() -> IpSet {
    crate::ip::test_ips::set(&["64.39.106.0/24"])
}

impl Model {
    /// Receives a request that will be applied at `at` (a slow server); its answer is lost.
    fn receive_slowly(&mut self, act: &Action, at: Timestamp) {
        self.pending.push((at, act.clone()));
    }

    /// Applies the pending requests whose time has come.
    fn settle(&mut self, now: Timestamp) {
        let (due, later): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|(t, _)| *t <= now);
        self.pending = later;
        for (t, act) in due {
            self.answer(&act, t);
        }
    }

    /// Applies the request's remote effect (if any) and returns the truthful outcome.
    fn answer(&mut self, act: &Action, now: Timestamp) -> Outcome {
        self.settle(now);
        match act {
            Action::Preflight => Outcome::Preflighted,
            Action::AddIps => Outcome::IpsAdded,
            Action::FindGroup if self.group_exists => Outcome::GroupFound {
                group_id: 1,
                ips: if self.group_has_ips {
                    job_ips()
                } else {
                    IpSet::default()
                },
                unreadable: Vec::new(),
            },
            Action::FindGroup => Outcome::GroupAbsent,
            Action::CreateGroup => {
                self.group_creations += 1;
                self.group_exists = true;
                self.group_has_ips = true;
                Outcome::GroupCreated { group_id: Some(1) }
            }
            Action::ExtendGroup { .. } => {
                self.group_has_ips = true;
                Outcome::GroupExtended
            }
            Action::LaunchScan { .. } => {
                self.scan_launches += 1;
                let info = ScanInfo {
                    scan_ref: format!("scan/{}.{}", now.secs(), self.scan_launches),
                    launched_at: now,
                    target: None,
                };
                self.scan = Some(info.clone());
                Outcome::ScanLaunched(info)
            }
            Action::FindScan { launched_after } => match &self.scan {
                Some(s) if s.launched_at >= *launched_after => Outcome::ScanFound(s.clone()),
                _ => Outcome::ScanAbsent,
            },
            Action::PollScan { .. } => {
                self.scan_polls += 1;
                let (state, processed) = match self.scan_polls {
                    1 => (ScanState::Queued, false),
                    2 => (ScanState::Running, false),
                    3 => (ScanState::Finished, false),
                    _ => (ScanState::Finished, true),
                };
                Outcome::ScanPolled {
                    status: ScanStatus {
                        state,
                        sub_state: None,
                        processed,
                    },
                    target: Some("64.39.106.7".to_string()),
                }
            }
            Action::LaunchReport { .. } => {
                self.report_launches += 1;
                Outcome::ReportLaunched {
                    report_id: REPORT_ID,
                }
            }
            Action::FindReport if self.report_launches > 0 => Outcome::ReportFound {
                report_id: REPORT_ID,
            },
            Action::FindReport => Outcome::ReportAbsent,
            Action::PollReport { .. } => {
                self.report_polls += 1;
                Outcome::ReportPolled(Some(if self.report_polls < 2 {
                    ReportState::Running
                } else {
                    ReportState::Finished
                }))
            }
            Action::Download { .. } => Outcome::Downloaded,
            Action::Cancel { .. } => Outcome::CancelDone,
            Action::Nothing => Outcome::Start,
        }
    }
}

/// Random choices, consumed one per decision; `None` once exhausted.
struct Choices<'a>(std::slice::Iter<'a, u8>);

impl Choices<'_> {
    fn next(&mut self) -> Option<u8> {
        self.0.next().copied()
    }
}

/// The public workflow order, for the "never skips a step" check.
fn next_step(step: StepName, report: bool) -> Option<StepName> {
    use StepName as S;
    Some(match step {
        S::Accepted => S::AddingIps,
        S::AddingIps => S::CreatingGroup,
        S::CreatingGroup => S::LaunchingScan,
        S::LaunchingScan => S::ScanRunning,
        S::ScanRunning if report => S::LaunchingReport,
        S::ScanRunning => S::Downloading,
        S::LaunchingReport => S::ReportRunning,
        S::ReportRunning => S::Downloading,
        S::Downloading => S::Done,
        S::Done | S::Failed | S::Canceled => return None,
    })
}

fn check_history(history: &[HistoryEntry], report: bool) -> Result<(), TestCaseError> {
    prop_assert_eq!(history.first().map(|h| h.step), Some(StepName::Accepted));
    for pair in history.windows(2) {
        let (a, b) = (pair[0].step, pair[1].step);
        let forward = next_step(a, report) == Some(b);
        let terminal = b.is_terminal() && !a.is_terminal();
        let report_not_ready = a == StepName::Downloading && b == StepName::ReportRunning;
        prop_assert!(
            forward || terminal || report_not_ready,
            "history skips or repeats: {:?} -> {:?} in {:?}",
            a,
            b,
            history
        );
        prop_assert!(pair[0].at <= pair[1].at, "history goes back in time");
    }
    Ok(())
}

/// Drives one job; returns the final checkpoint and the model.
fn drive(
    choices: &[u8],
    report: bool,
    group: u8,
    ctx_seed: u64,
) -> Result<(Checkpoint, Model), TestCaseError> {
    let policy = Policy::default();
    let (scope, ips) = (scope(), job_ips());
    let ctx = Ctx {
        policy: &policy,
        plan: Plan { report, raw: false },
        seed: ctx_seed,
        scope: &scope,
        ips: &ips,
        baseline: None,
    };
    // The latest a lost request is applied: still inside the proof window.
    let slowest = policy.request_timeout + policy.send_within();
    let mut model = Model {
        group_exists: group > 0,
        group_has_ips: group > 1,
        ..Model::default()
    };
    let mut rng = Choices(choices.iter());
    let mut now = Timestamp(1_700_000_000_000);
    let mut committed = Checkpoint::accepted(now);
    let mut calm_steps = 0u32;
    while !committed.state.is_terminal() {
        now = now.max(committed.due).plus(Duration::from_millis(1));
        let act = action(&committed.state, &policy);
        if needs_intent(&committed.state) {
            // Like the real driver: commit the intent when there is one, then send.
            if let Some(i) = intent(&committed, now) {
                committed = i;
            }
        }
        let outcome = match rng.next() {
            None => {
                calm_steps += 1;
                prop_assert!(calm_steps < 100, "no terminal state: {:?}", committed);
                model.answer(&act, now)
            }
            Some(c) => match c % 32 {
                // Crash before sending: restart from the committed checkpoint.
                0..=3 => continue,
                // Crash after the request took effect: the outcome is lost.
                4 | 5 => {
                    model.answer(&act, now);
                    continue;
                }
                // Crash after sending to a slow server: applied later, unseen until then.
                6 => {
                    let delay = slowest.mul_f64(f64::from(c / 32) / 7.0);
                    model.receive_slowly(&act, now.plus(delay));
                    continue;
                }
                7..=9 => Outcome::Transient {
                    reason: "refused".into(),
                },
                10 | 11 => Outcome::Deferred {
                    until: now.plus(Duration::from_secs(30)),
                    reason: "409".into(),
                    scope: DeferScope::Job,
                },
                // Ambiguous: the request may or may not have been applied (maybe later).
                12 => {
                    if c / 32 % 2 == 0 {
                        model.answer(&act, now);
                    } else {
                        let delay = slowest.mul_f64(f64::from(c / 32) / 7.0);
                        model.receive_slowly(&act, now.plus(delay));
                    }
                    Outcome::Ambiguous {
                        reason: "timeout after send".into(),
                    }
                }
                13 => Outcome::Ambiguous {
                    reason: "reset before send".into(),
                },
                14 if matches!(act, Action::PollScan { .. }) => Outcome::ScanNotListed,
                15 if matches!(
                    act,
                    Action::Download {
                        report_id: Some(_),
                        ..
                    }
                ) =>
                {
                    Outcome::ReportNotReady
                }
                16 if c == 16 => Outcome::CancelRequested,
                17 if c == 17 => Outcome::Permanent {
                    reason: "invalid".into(),
                },
                _ => model.answer(&act, now),
            },
        };
        let next = step(&committed, &outcome, now, &ctx);
        // Unchanged dues (a cancel noted during a lookup) may already be past: due at once.
        prop_assert!(
            next.due >= now || next.due == committed.due,
            "due moved into the past: {:?}",
            next
        );
        committed = next;
        check_history(&committed.history, report)?;
    }
    Ok((committed, model))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn crashes_and_faults_never_launch_twice_nor_skip_a_step(
        choices in proptest::collection::vec(any::<u8>(), 0..300),
        report in any::<bool>(),
        group in 0u8..3,
        seed in any::<u64>(),
    ) {
        let (end, mut model) = drive(&choices, report, group, seed)?;
        // Whatever is still on its way inside the model is applied in the end, too.
        model.settle(Timestamp(i64::MAX));
        prop_assert!(model.scan_launches <= 1, "scan launched {} times", model.scan_launches);
        prop_assert!(model.report_launches <= 1, "report launched {} times", model.report_launches);
        prop_assert!(model.group_creations <= 1, "group created {} times", model.group_creations);
        prop_assert!(end.state.is_terminal());
        let policy = Policy::default();
        let (scope, ips) = (scope(), job_ips());
        let ctx = Ctx { policy: &policy, plan: Plan { report, raw: false }, seed, scope: &scope, ips: &ips, baseline: None };
        prop_assert_eq!(step(&end, &Outcome::Downloaded, end.due, &ctx), end.clone());
        if let JobState::Done { report_id, .. } = &end.state {
            prop_assert_eq!(model.scan_launches, 1);
            prop_assert_eq!(model.report_launches, u32::from(report));
            prop_assert_eq!(report_id.is_some(), report);
            prop_assert_eq!(end.history.last().map(|h| h.step), Some(StepName::Done));
        }
    }

    #[test]
    fn calm_runs_end_done(report in any::<bool>(), group in 0u8..3, seed in any::<u64>()) {
        let (end, model) = drive(&[], report, group, seed)?;
        prop_assert!(matches!(end.state, JobState::Done { .. }), "{:?}", end);
        prop_assert_eq!(model.scan_launches, 1);
        prop_assert_eq!(model.group_creations, u32::from(group == 0));
    }
}
