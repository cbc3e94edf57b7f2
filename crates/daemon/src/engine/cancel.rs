//! The spool pass of the run loop: new jobs from `incoming/` ([`crate::intake::scan`]),
//! cancel requests from `cancel/` ([`crate::intake::CancelRequests`]) and the requests of
//! job management (`retry/`, `hold/`, `purge/`: [`super::queue`]), each applied
//! through the machine before its file is removed. A job with an action in flight is
//! interrupted; one in a poll round is canceled now and the round's answer for it ignored.

use super::Engine;
use crate::intake;
use baseliner_core::state::{JobState, Outcome};
use baseliner_core::store::JobId;
use baseliner_core::time::Timestamp;

impl Engine {
    /// Intake, then cancel requests (each file removed once its cancel is applied), then
    /// retry, hold and purge requests.
    pub(super) fn spool_pass(&mut self, now: Timestamp) {
        let rules = self.config.job_rules();
        let report = intake::scan(&self.spool, &self.store, &rules, now, &mut self.postponed);
        self.staged = report.staged;
        for rec in report.accepted {
            self.jobs.insert(rec.id.clone(), rec);
        }
        for req in self.cancels.pending(&self.spool) {
            // A request whose cancel is not committed yet (a job interrupted mid-action, a
            // failed commit) keeps its file and is seen again at the next pass.
            if self.cancel(&req.what, now) {
                self.cancels.handled(req);
            }
        }
        self.queue_pass(now);
    }

    /// Applies a cancel request; true once nothing is left to do for it (its cancel is
    /// committed, or the job is not running), so that its file may go.
    pub(super) fn cancel(&mut self, id: &JobId, now: Timestamp) -> bool {
        if !self.jobs.contains_key(id) {
            tracing::warn!(
                job_id = id.as_str(),
                "cancel request for a job that is not running"
            );
            true
        } else if self.jobs.get(id).is_some_and(|r| {
            r.checkpoint.cancel_requested
                || matches!(r.checkpoint.state, JobState::Canceling { .. })
        }) {
            // Already applied (a repeated request, or one kept while its job was busy): never
            // interrupt the cancel itself.
            true
        } else if !self.busy.contains(id) {
            tracing::info!(job_id = id.as_str(), "cancel requested");
            self.advance(id, &Outcome::CancelRequested, now)
        } else {
            match self.interrupts.get_mut(id) {
                // Its task stops waiting and calling, and reports the cancel; should it have
                // finished first, the request is applied at a later pass, once the job is idle.
                Some(stop) => {
                    if let Some(stop) = stop.take() {
                        tracing::info!(job_id = id.as_str(), "cancel requested: interrupting");
                        let _ = stop.send(());
                    }
                    false
                }
                // In a poll round: applied now, the round's answer is ignored later.
                None => {
                    tracing::info!(job_id = id.as_str(), "cancel requested during a poll");
                    self.busy.remove(id);
                    self.left_rounds.insert(id.clone());
                    self.advance(id, &Outcome::CancelRequested, now)
                }
            }
        }
    }
}
