//! The schedule: which jobs act now, which polls share a call, and when the run loop wakes.
//!
//! Pure functions of (the unfinished jobs' checkpoints in acceptance order, what is in
//! flight, the pause, `now`, the policy and limits). The run loop asks [`agenda`] every turn
//! and does what it says, then asks [`sleep`] how long it may wait; it decides nothing
//! itself. The rules, each tested in `schedule/tests.rs`:
//!
//! - **Admission.** Only the first `max_active_jobs` unfinished jobs, in order of
//!   acceptance, act; the rest wait their turn. A job with an action (or a poll round) in
//!   flight is skipped until its outcome is applied.
//! - **Hold.** A held job takes no new action (an action in flight finishes, and its
//!   outcome is applied) until it is released, except the cancel of its Qualys objects once
//!   it is canceled; a held job that has not begun takes no admission slot
//!   ([`crate::queue`]).
//! - **Pause.** While a daemon-wide pause lasts ([`paused`]) nothing starts, and the loop
//!   wakes when the pause ends.
//! - **Start.** A freshly accepted job begins at once ([`Start::Begin`]: the driver applies
//!   `Outcome::Start`). Any other due job starts its action alone ([`Start::Act`]), except
//!   the polls of `ScanRunning` and `ReportRunning`, which are gathered.
//! - **Poll gathering** ([`Gathering`], one rule for both kinds). The scan polls of every
//!   job share one scan-list call per round, and report polls one report-list call. A job
//!   joins a round when its poll is due within half its poll interval (an early poll costs
//!   no extra call, and the jobs in flight settle on one shared cadence) — but a scan never
//!   joins before its first check ([`first_check_at`]): a scan is never polled early. A
//!   round starts once its most overdue job has waited half a poll interval, at most
//!   [`MAX_ROUND_WAIT`]: polls are late by that much at worst, and jobs whose checks fall
//!   close together share one call. One round of each kind is in flight at a time.
//! - **Wake.** The loop sleeps until the earliest admitted, idle job needs it ([`wake_at`]),
//!   never less than [`MIN_SLEEP`] (a job due now that could not start — its round kind in
//!   flight, its round still gathering — must not make the loop spin: results wake the loop
//!   anyway) and never more than the caller's own cadence.

use crate::machine::{self, Policy};
use crate::queue;
use crate::state::{Action, Checkpoint, JobState, ScanInfo};
use crate::time::Timestamp;
use std::time::Duration;

/// The shortest sleep [`sleep`] returns outside a pause: no spin.
pub const MIN_SLEEP: Duration = Duration::from_millis(50);

/// The longest a poll round waits for its most overdue job to gather others.
pub const MAX_ROUND_WAIT: Duration = Duration::from_secs(60);

/// One unfinished job as the schedule sees it. `K` is the caller's job id.
#[derive(Debug)]
pub struct Job<'a, K> {
    /// The job's id, handed back in the [`Agenda`].
    pub id: &'a K,
    /// Its current checkpoint.
    pub checkpoint: &'a Checkpoint,
    /// True while an action or a poll round of this job is in flight.
    pub busy: bool,
    /// True while the job is held (`baseliner hold`): it takes no new action
    /// ([`crate::queue::hold_stops`]), and no slot before it has begun.
    pub held: bool,
}

impl<K> Clone for Job<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Job<'_, K> {}

/// The limits the schedule applies besides the machine's timings.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The machine's timings (`scan_first_check`, `scan_every`, `report_every`).
    pub policy: &'a Policy,
    /// `[limits].max_active_jobs`: how many unfinished jobs may act.
    pub max_active_jobs: usize,
}

/// A batched poll: one list call answers every job in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundKind {
    /// One scan-list call for every `ScanRunning` job in the round.
    Scans,
    /// One report-list call for every `ReportRunning` job in the round.
    Reports,
}

/// The poll rounds in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    /// A scan-list round is running.
    pub scans: bool,
    /// A report-list round is running.
    pub reports: bool,
}

impl InFlight {
    fn has(&self, kind: RoundKind) -> bool {
        match kind {
            RoundKind::Scans => self.scans,
            RoundKind::Reports => self.reports,
        }
    }
}

/// One job to set going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start<K> {
    /// A freshly accepted job: apply `Outcome::Start`.
    Begin(K),
    /// Perform this action alone (writing and flushing its intent first when it
    /// [needs one](Action::needs_intent)).
    Act(K, Action),
}

/// What the driver must start now, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agenda<K> {
    /// Single jobs, in acceptance order.
    pub starts: Vec<Start<K>>,
    /// Poll rounds to start (at most one per kind, none of a kind already in flight), each
    /// with its jobs in acceptance order.
    pub rounds: Vec<(RoundKind, Vec<K>)>,
}

impl<K> Default for Agenda<K> {
    fn default() -> Self {
        Agenda {
            starts: Vec::new(),
            rounds: Vec::new(),
        }
    }
}

/// The poll-gathering rule of one job's state: its round and its two windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gathering {
    /// The round the poll joins.
    pub kind: RoundKind,
    /// The poll may join a round this long before it is due: half the poll interval.
    pub join_early: Duration,
    /// A round starts once its most overdue job waited this long past its due time: half
    /// the poll interval, at most [`MAX_ROUND_WAIT`].
    pub wait: Duration,
}

/// The poll-gathering rule for `state`; `None` for a state whose action is not a poll.
pub fn gathering(state: &JobState, policy: &Policy) -> Option<Gathering> {
    let (kind, every) = match state {
        JobState::ScanRunning { .. } => (RoundKind::Scans, policy.scan_every),
        JobState::ReportRunning { .. } => (RoundKind::Reports, policy.report_every),
        _ => return None,
    };
    let half = every / 2;
    Some(Gathering {
        kind,
        join_early: half,
        wait: half.min(MAX_ROUND_WAIT),
    })
}

/// When a running scan may be polled first: `scan_first_check` after its launch. The
/// machine makes it the due time of `ScanRunning`; the schedule lets no scan join a round
/// before it.
pub fn first_check_at(scan: &ScanInfo, policy: &Policy) -> Timestamp {
    scan.launched_at.plus(policy.scan_first_check)
}

/// True while a daemon-wide pause that lasts until `until` holds at `now`.
pub fn paused(until: Option<Timestamp>, now: Timestamp) -> bool {
    until.is_some_and(|u| u > now)
}

/// The first pause between two attempts to reopen a store that failed ([`store_retry_after`]).
pub const STORE_RETRY_FIRST: Duration = Duration::from_secs(1);

/// The longest pause between two attempts to reopen a store that failed: a store whose
/// disk has room again is writing within this much (well inside a minute).
pub const STORE_RETRY_MAX: Duration = Duration::from_secs(30);

/// How long after its `failures`-th failed attempt (1 for the failure that broke it) the
/// driver tries to reopen a broken store: doubling from [`STORE_RETRY_FIRST`] up to
/// [`STORE_RETRY_MAX`]. Nothing is sent to Qualys meanwhile: the driver pauses every job.
pub fn store_retry_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    STORE_RETRY_FIRST
        .saturating_mul(1u32 << doublings)
        .min(STORE_RETRY_MAX)
}

/// How often, at most, the driver repeats in the journal that the store still cannot write.
pub const STORE_DOWN_LOG_EVERY: Duration = Duration::from_secs(60);

/// When a job needs the loop: its due time, plus the gathering wait for polls.
pub fn wake_at(cp: &Checkpoint, policy: &Policy) -> Timestamp {
    match gathering(&cp.state, policy) {
        Some(g) => cp.due.plus(g.wait),
        None => cp.due,
    }
}

/// What to start now. `jobs` are the unfinished jobs in acceptance order.
pub fn agenda<'a, K: Clone + 'a>(
    jobs: impl IntoIterator<Item = Job<'a, K>>,
    in_flight: InFlight,
    pause_until: Option<Timestamp>,
    now: Timestamp,
    rules: Rules<'_>,
) -> Agenda<K> {
    let mut agenda = Agenda::default();
    if paused(pause_until, now) {
        return agenda;
    }
    let policy = rules.policy;
    // Per kind: the jobs that join, and whether one of them has waited long enough.
    let (mut scans, mut reports) = ((Vec::new(), false), (Vec::new(), false));
    for job in admitted(jobs, rules.max_active_jobs) {
        if job.busy || queue::hold_stops(job.held, &job.checkpoint.state) {
            continue;
        }
        let cp = job.checkpoint;
        if cp.state == JobState::Accepted {
            agenda.starts.push(Start::Begin(job.id.clone()));
            continue;
        }
        match gathering(&cp.state, policy) {
            Some(g) if joins(cp, &g, now, policy) => {
                let (ids, ready) = match g.kind {
                    RoundKind::Scans => &mut scans,
                    RoundKind::Reports => &mut reports,
                };
                ids.push(job.id.clone());
                *ready |= cp.due.plus(g.wait) <= now;
            }
            Some(_) => {}
            None if cp.due <= now => match machine::action(&cp.state, policy) {
                Action::Nothing => {}
                action => agenda.starts.push(Start::Act(job.id.clone(), action)),
            },
            None => {}
        }
    }
    for (kind, (ids, ready)) in [(RoundKind::Scans, scans), (RoundKind::Reports, reports)] {
        if ready && !in_flight.has(kind) {
            agenda.rounds.push((kind, ids));
        }
    }
    agenda
}

/// The jobs that may act, in acceptance order: the first `max` of them, not counting held
/// jobs that have not begun ([`queue::hold_frees_slot`]: they are left out).
fn admitted<'a, K: 'a>(
    jobs: impl IntoIterator<Item = Job<'a, K>>,
    max: usize,
) -> impl Iterator<Item = Job<'a, K>> {
    jobs.into_iter()
        .filter(|j| !queue::hold_frees_slot(j.held, &j.checkpoint.state))
        .take(max)
}

/// Whether a polling job joins its round now: its poll is due, or due within the join
/// window once a scan's first check has passed.
fn joins(cp: &Checkpoint, g: &Gathering, now: Timestamp, policy: &Policy) -> bool {
    if cp.due <= now {
        return true;
    }
    if cp.due > now.plus(g.join_early) {
        return false;
    }
    match &cp.state {
        JobState::ScanRunning { scan, .. } => now >= first_check_at(scan, policy),
        _ => true,
    }
}

/// How long the loop may sleep after acting on the agenda (`jobs` as they are now, busy
/// flags included), at most `max`.
pub fn sleep<'a, K: 'a>(
    jobs: impl IntoIterator<Item = Job<'a, K>>,
    pause_until: Option<Timestamp>,
    now: Timestamp,
    rules: Rules<'_>,
    max: Duration,
) -> Duration {
    if let Some(until) = pause_until.filter(|u| *u > now) {
        return now.until(until).min(max);
    }
    admitted(jobs, rules.max_active_jobs)
        .filter(|j| !j.busy && !queue::hold_stops(j.held, &j.checkpoint.state))
        .map(|j| now.until(wake_at(j.checkpoint, rules.policy)))
        .min()
        .unwrap_or(max)
        .max(MIN_SLEEP)
        .min(max)
}

#[cfg(test)]
mod tests;
