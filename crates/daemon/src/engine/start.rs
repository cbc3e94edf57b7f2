//! Setting actions going: a job's action in its own task (its intent committed and
//! flushed first when the action is not safe to repeat; a cancel interrupts it), and a poll
//! round in one task for every job in it.

use super::{Done, Engine};
use baseliner_core::machine;
use baseliner_core::schedule::RoundKind;
use baseliner_core::state::{Action, Outcome};
use baseliner_core::store::JobId;
use baseliner_core::time::Timestamp;
use tokio::sync::oneshot;

impl Engine {
    pub(super) fn start_action(&mut self, id: &JobId, action: Action, now: Timestamp) {
        let needs_intent = self
            .jobs
            .get(id)
            .is_some_and(|r| machine::needs_intent(&r.checkpoint.state));
        // The request goes out within `send_within` of the time its intent records, or not
        // at all (the executor enforces it): both are taken here, together.
        let stamp = if needs_intent { Timestamp::now() } else { now };
        let send_by = tokio::time::Instant::now() + self.policy.send_within();
        if needs_intent {
            let Some(rec) = self.jobs.get(id) else { return };
            let Some(intent) = machine::intent(&rec.checkpoint, stamp) else {
                tracing::error!(
                    job_id = id.as_str(),
                    "no intent for {action:?}; not sending"
                );
                return;
            };
            crate::crashpoint::hit("before-intent");
            // Intent before effect: the flushed checkpoint says the request may be out, and
            // so does the published status.json, the witness a lost store is rebuilt from
            // (crate::recovery): without both, nothing is sent (the job looks its object up
            // next, and finds it absent).
            match self.commit(id, intent, stamp) {
                super::Commit::Done { published: true } => {}
                super::Commit::Done { published: false } => {
                    tracing::error!(
                        job_id = id.as_str(),
                        "the intent's status.json could not be written: not sending"
                    );
                    return;
                }
                super::Commit::Failed => return,
            }
            crate::crashpoint::hit("after-intent");
        }
        let Some(rec) = self.jobs.get(id).cloned() else {
            return;
        };
        self.busy.insert(id.clone());
        let (exec, tx, id) = (self.exec.clone(), self.tx.clone(), id.clone());
        let (stop, stopped) = oneshot::channel();
        self.interrupts.insert(id.clone(), Some(stop));
        let serving = vec![id.clone()];
        self.tasks.spawn(async move {
            // A cancel drops the action where it is: a governor wait, a call in flight, a
            // download (whose temporary file the client removes).
            let outcome = tokio::select! {
                o = crate::held::serving(serving, exec.perform(&rec, &action, send_by)) => o,
                Ok(()) = stopped => Outcome::CancelRequested,
            };
            if needs_intent {
                crate::crashpoint::hit("after-effect");
            }
            let _ = tx.send(Done::Job { id, outcome });
        });
    }

    pub(super) fn start_round(&mut self, kind: RoundKind, ids: Vec<JobId>) {
        let polls: Vec<(JobId, Action)> = ids
            .iter()
            .filter_map(|i| self.jobs.get(i))
            .map(|r| {
                (
                    r.id.clone(),
                    machine::action(&r.checkpoint.state, &self.policy),
                )
            })
            .collect();
        self.set_round(kind, true);
        let serving = ids.clone();
        self.busy.extend(ids);
        let (exec, tx) = (self.exec.clone(), self.tx.clone());
        self.tasks.spawn(async move {
            let outcomes = crate::held::serving(serving, async {
                match kind {
                    RoundKind::Scans => exec.poll_scans(&polls).await,
                    RoundKind::Reports => exec.poll_reports(&polls).await,
                }
            })
            .await;
            let _ = tx.send(Done::Round { kind, outcomes });
        });
    }

    pub(super) fn set_round(&mut self, kind: RoundKind, in_flight: bool) {
        match kind {
            RoundKind::Scans => self.rounds.scans = in_flight,
            RoundKind::Reports => self.rounds.reports = in_flight,
        }
    }
}
