//! The frame every stored job record has kept across formats: the record and checkpoint
//! fields around the state. Only the state's variants changed between formats, so an old
//! format is this frame over that format's state enum ([`super::v1`], [`super::v2`]), and
//! its migration is the state's `Into<JobState>`.

use crate::job::Job;
use crate::state::{Checkpoint, HistoryEntry, JobState};
use crate::store::{JobId, JobRecord};
use crate::time::Timestamp;
use serde::Deserialize;

/// A stored [`JobRecord`] whose state is of an older format `S`.
#[derive(Debug, Deserialize)]
pub(super) struct OldRecord<S> {
    id: JobId,
    intake_key: String,
    source_name: String,
    accepted_at: Timestamp,
    job: Job,
    checkpoint: OldCheckpoint<S>,
}

/// A stored [`Checkpoint`] whose state is of an older format `S`.
#[derive(Debug, Deserialize)]
struct OldCheckpoint<S> {
    state: S,
    due: Timestamp,
    attempts: u32,
    failing_since: Option<Timestamp>,
    last_error: Option<String>,
    cancel_requested: bool,
    history: Vec<HistoryEntry>,
}

impl<S: Into<JobState>> From<OldRecord<S>> for JobRecord {
    fn from(r: OldRecord<S>) -> JobRecord {
        let c = r.checkpoint;
        JobRecord {
            id: r.id,
            intake_key: r.intake_key,
            source_name: r.source_name,
            accepted_at: r.accepted_at,
            job: r.job,
            checkpoint: Checkpoint {
                state: c.state.into(),
                due: c.due,
                attempts: c.attempts,
                failing_since: c.failing_since,
                last_error: c.last_error,
                cancel_requested: c.cancel_requested,
                history: c.history,
            },
            generation: 0,
            held: false,
            retried_as: None,
        }
    }
}
