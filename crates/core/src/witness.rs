//! The store must never be older than the world: what a job's published `status.json`
//! shows, held against what the store holds of it.
//!
//! Every `status.json` the daemon publishes carries the generation of the commit it shows
//! and the encoded record itself ([`Published`]), and a request behind an intent is sent
//! only once the intent's status file is published. A published file is therefore a
//! witness: nothing was sent to Qualys that its record does not show as sent. When the
//! store comes back older than a witness (a restored backup, a truncated or damaged
//! database) or without the job at all (an emptied or replaced database), [`compare`] says
//! so and [`rebuild`] gives the record to carry on from: the published one, whose `…Sent`
//! states are resolved by looking the object up by its exact title, never by sending blind.
//! A file written before witnesses existed (no generation, no record) is judged by its
//! step, scan and report, and rebuilt from them with every step that may have been sent
//! turned into its `…Sent` state ([`checkpoint_from_status`]).
//!
//! Pure: the daemon reads the files and the store and writes what this decides.

use crate::job::Job;
use crate::state::{Checkpoint, HistoryEntry, JobState, ScanInfo, StepName};
use crate::store::{JobId, JobRecord};
use crate::time::Timestamp;

/// What a job's `status.json` says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The job directory's id.
    pub id: JobId,
    /// The generation of the commit the file shows; 0 when the file predates generations.
    pub generation: u64,
    /// The record as published, when the file carries one that decodes.
    pub record: Option<JobRecord>,
    /// The public step.
    pub step: StepName,
    /// The cancel was still being sent.
    pub canceling: bool,
    /// The scan, once launched.
    pub scan_ref: Option<String>,
    /// The report, once launched.
    pub report_id: Option<u64>,
    /// Why the job failed.
    pub error: Option<String>,
    /// When the job was accepted.
    pub accepted_at: Timestamp,
    /// The spool file it came from.
    pub source: String,
    /// The steps entered, with their times.
    pub history: Vec<HistoryEntry>,
}

/// How the store stands against a published file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The store holds what the file shows, or later (the file may lag behind: rewrite it).
    Current,
    /// The store lost what the file shows: a lost-store alarm, with what was found, for the
    /// journal.
    Behind {
        /// What the store holds and what the file shows, in one line.
        alarm: String,
    },
}

/// How far along a step is, for files that carry no generation.
fn progress(step: StepName) -> u8 {
    match step {
        StepName::Accepted => 0,
        StepName::AddingIps => 1,
        StepName::CreatingGroup => 2,
        StepName::LaunchingScan => 3,
        StepName::ScanRunning => 4,
        StepName::LaunchingReport => 5,
        StepName::ReportRunning => 6,
        StepName::Downloading => 7,
        StepName::Done | StepName::Failed | StepName::Canceled => 8,
    }
}

fn describe(step: StepName, generation: u64, scan_ref: Option<&str>) -> String {
    let mut s = format!("`{step}` (generation {generation}");
    if let Some(scan) = scan_ref {
        s.push_str(", scan ");
        s.push_str(scan);
    }
    s.push(')');
    s
}

/// Holds the store's record of a job (`None`: the store does not have it) against its
/// published file.
pub fn compare(stored: Option<&JobRecord>, published: &Published) -> Verdict {
    let shown = describe(
        published.step,
        published.generation,
        published.scan_ref.as_deref(),
    );
    let Some(rec) = stored else {
        return Verdict::Behind {
            alarm: format!("the store has no record of the job, but its status.json shows {shown}"),
        };
    };
    let state = &rec.checkpoint.state;
    let behind = if published.generation > 0 {
        published.generation > rec.generation
    } else {
        progress(published.step) > progress(state.step_name())
            || (published.scan_ref.is_some() && published.scan_ref.as_deref() != state.scan_ref())
            || (published.report_id.is_some() && published.report_id != state.report_id())
    };
    if !behind {
        return Verdict::Current;
    }
    let held = describe(state.step_name(), rec.generation, state.scan_ref());
    Verdict::Behind {
        alarm: format!("the store holds {held}, but its status.json shows {shown}"),
    }
}

/// Why a job cannot be rebuilt from its published file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebuildError {
    /// The published record is another job's.
    #[error("its status.json carries the record of job {found}")]
    WrongJob {
        /// The id in the record.
        found: String,
    },
    /// The file carries no record and the job's spec could not be read.
    #[error("its status.json carries no record and its job.toml cannot be read: {0}")]
    NoSpec(String),
}

/// The record to carry on from after [`compare`] said [`Verdict::Behind`]: the published
/// record when the file has one (exactly what was committed when the file was written;
/// its `…Sent` states look their object up before anything is sent again), else one built
/// from the file's fields and `job` (the job directory's `job.toml`, when it reads) by
/// [`checkpoint_from_status`]. Its generation is the store's to set.
pub fn rebuild(
    published: &Published,
    job: Result<Job, String>,
    now: Timestamp,
) -> Result<JobRecord, RebuildError> {
    if let Some(rec) = &published.record {
        if rec.id != published.id {
            return Err(RebuildError::WrongJob {
                found: rec.id.to_string(),
            });
        }
        return Ok(rec.clone());
    }
    let job = job.map_err(RebuildError::NoSpec)?;
    Ok(JobRecord {
        id: published.id.clone(),
        intake_key: format!("rebuilt:{}", published.id),
        source_name: published.source.clone(),
        accepted_at: published.accepted_at,
        job,
        checkpoint: checkpoint_from_status(published, now),
        generation: 0,
        held: false,
        retried_as: None,
    })
}

/// A checkpoint from a status file's public fields alone, erring towards "it may have been
/// sent": a step whose request is not safe to repeat becomes its `…Sent` state with
/// `sent_at = now`, so the job looks its object up by exact title and proves an absence
/// only once any request of the previous run can no longer be in flight.
pub fn checkpoint_from_status(p: &Published, now: Timestamp) -> Checkpoint {
    let entered = |step: StepName| {
        p.history
            .iter()
            .rev()
            .find(|h| h.step == step)
            .map(|h| h.at)
            .unwrap_or(p.accepted_at)
    };
    let scan = p.scan_ref.as_ref().map(|scan_ref| ScanInfo {
        scan_ref: scan_ref.clone(),
        launched_at: entered(StepName::LaunchingScan),
        target: None,
    });
    let scan_sent = JobState::ScanLaunchSent {
        group_id: None,
        sent_at: now,
    };
    let state = match (p.step, scan) {
        (StepName::Accepted | StepName::AddingIps, _) => JobState::Accepted,
        (StepName::CreatingGroup, _) => JobState::GroupCreateSent { sent_at: now },
        (StepName::LaunchingScan, _) => scan_sent,
        (StepName::ScanRunning, Some(scan)) => JobState::ScanRunning {
            scan,
            last: None,
            missing_polls: 0,
        },
        (StepName::LaunchingReport, Some(scan)) => {
            JobState::ReportLaunchSent { scan, sent_at: now }
        }
        (StepName::ReportRunning, Some(scan)) => match p.report_id {
            Some(report_id) => JobState::ReportRunning {
                scan,
                report_id,
                last: None,
                missing_polls: 0,
            },
            None => JobState::ReportLaunchSent { scan, sent_at: now },
        },
        (StepName::Downloading, Some(scan)) => JobState::Downloading {
            scan,
            report_id: p.report_id,
            baseline: None,
        },
        (StepName::Done, Some(scan)) => JobState::Done {
            scan,
            report_id: p.report_id,
            note: None,
        },
        (StepName::Failed, _) => JobState::Failed {
            at: p
                .history
                .iter()
                .rev()
                .map(|h| h.step)
                .find(|s| *s != StepName::Failed)
                .unwrap_or(StepName::Accepted),
            reason: p
                .error
                .clone()
                .unwrap_or_else(|| "failed (rebuilt from its status.json)".to_string()),
            scan_ref: p.scan_ref.clone(),
            last_scan: None,
        },
        (StepName::Canceled, _) if p.canceling => JobState::Canceling {
            scan_ref: p.scan_ref.clone(),
            report_id: p.report_id,
            fail_reason: None,
            last_scan: None,
        },
        (StepName::Canceled, _) => JobState::Canceled {
            scan_ref: p.scan_ref.clone(),
            last_scan: None,
        },
        // A step past the launch without a scan: the launch may have been sent.
        (_, None) => scan_sent,
    };
    Checkpoint {
        state,
        due: now,
        attempts: 0,
        failing_since: None,
        last_error: None,
        cancel_requested: false,
        history: p.history.clone(),
    }
}

/// A record as `status.json` carries it: its encoded bytes ([`crate::codec`]) in
/// lower-case hex.
pub fn encode_record(rec: &JobRecord) -> Result<String, crate::codec::CodecError> {
    let bytes = crate::codec::encode(rec)?;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Ok(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reads a record written by [`encode_record`]; `None` when it is not hex or does not
/// decode (a damaged or foreign file: the caller falls back to the file's fields).
pub fn decode_record(hex: &str) -> Option<JobRecord> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let hex = hex.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = hex
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect::<Option<Vec<u8>>>()?;
    crate::codec::decode_job_record(&bytes).ok()
}

#[cfg(test)]
mod tests;
