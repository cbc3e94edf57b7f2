//! The job state machine's transitions: pure functions of (checkpoint, outcome, now).
//!
//! No IO, no clock, no randomness: jitter comes from a seed the caller derives from the
//! job id, so the same inputs always give the same checkpoint.
//!
//! NOT BUILT YET: the bodies below are being written (see the Foundation issue).

use crate::state::{Action, Checkpoint, JobState, Outcome};
use crate::time::Timestamp;
use std::time::Duration;

/// Timings and retry bounds, from the config's `[polling]` section and built-in defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// First scan poll this long after the launch (`scan_first_check`, default 7m).
    pub scan_first_check: Duration,
    /// Then a poll every (`scan_every`, default 5m).
    pub scan_every: Duration,
    /// Report polls every (`report_every`, default 1m).
    pub report_every: Duration,
    /// A scan older than this fails the job (`give_up_after`, default 72h).
    pub give_up_after: Duration,
    /// First retry delay after a transient failure (default 5s); doubles each attempt.
    pub retry_base: Duration,
    /// Retry delays are capped here while the failures are young (default 10m).
    pub retry_cap: Duration,
    /// After failing this long (default 1h) the job waits longer rather than fails …
    pub retry_patience: Duration,
    /// … with delays capped here instead (default 1h).
    pub patient_cap: Duration,
    /// Lookups after a crash search from `sent_at - lookup_slack` (clock skew; default 15m).
    pub lookup_slack: Duration,
    /// A scan missing from this many polls in a row fails the job (default 3).
    pub max_missing_polls: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            scan_first_check: Duration::from_secs(7 * 60),
            scan_every: Duration::from_secs(5 * 60),
            report_every: Duration::from_secs(60),
            give_up_after: Duration::from_secs(72 * 3600),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(600),
            retry_patience: Duration::from_secs(3600),
            patient_cap: Duration::from_secs(3600),
            lookup_slack: Duration::from_secs(15 * 60),
            max_missing_polls: 3,
        }
    }
}

/// What the job wants, fixed at acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// A report is launched after the scan (results include `report` and a template is set).
    pub report: bool,
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
}

/// The action a state calls for. A `…Sent` state calls for a lookup.
pub fn action(state: &JobState) -> Action {
    let _ = state;
    todo!("machine::action")
}

/// The checkpoint to write and flush *before* executing `action(cp.state)` when that action
/// [needs an intent](Action::needs_intent); `None` otherwise.
pub fn intent(cp: &Checkpoint, now: Timestamp) -> Option<Checkpoint> {
    let _ = (cp, now);
    todo!("machine::intent")
}

/// The next checkpoint after `outcome`, observed at `now`.
pub fn step(cp: &Checkpoint, outcome: &Outcome, now: Timestamp, ctx: &Ctx<'_>) -> Checkpoint {
    let _ = (cp, outcome, now, ctx);
    todo!("machine::step")
}
