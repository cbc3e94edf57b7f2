//! The checkpoint store: every accepted job and its latest checkpoint, in sled.
//!
//! Layout (one sled database in the directory the caller gives, `STATE/store`):
//! - tree `jobs`: [`JobId`] → [`JobRecord`] (through [`crate::codec`]);
//! - tree `intake`: intake key (identifies a spool file) → [`JobId`], so a file seen twice
//!   is accepted once;
//! - tree `ids`: the job sequence counter;
//! - tree `meta`: small daemon-wide values ([`Store::meta_put`]).
//!
//! Durability: every mutating method flushes sled's log to disk before it returns `Ok`.
//! What a `kill -9` (or a power loss, as far as the disk honours fsync) leaves behind is
//! therefore exactly every change whose method returned `Ok`, plus possibly the one change
//! in flight when the process died (entirely, never half: sled transactions are atomic).
//! A change whose method returned an error may or may not have survived.

use crate::codec::{self, CodecError};
use crate::job::Job;
use crate::state::Checkpoint;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::fmt;
use std::path::{Path, PathBuf};

/// The longest job id [`JobId::parse`] accepts.
pub const MAX_JOB_ID_LEN: usize = 32;

const SEQ_KEY: &[u8] = b"job_seq";

/// A job's identity: `YYYYMMDD-HHMMSS-NNNNNN`, the UTC date-time of acceptance and the
/// store's sequence number (at least six digits). Unique within a store, safe as a file
/// name (ASCII letters, digits, `-`, `_`), and ordered by acceptance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

impl JobId {
    /// The id of the job accepted at `accepted_at` with sequence number `seq`.
    pub fn new(accepted_at: Timestamp, seq: u64) -> JobId {
        let digits: String = accepted_at
            .to_rfc3339()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let stamp = match (digits.get(..8), digits.get(8..)) {
            (Some(date), Some(time)) if digits.len() == 14 => format!("{date}-{time}"),
            _ => "00000000-000000".to_string(),
        };
        JobId(format!("{stamp}-{seq:06}"))
    }

    /// Accepts a non-empty string of at most [`MAX_JOB_ID_LEN`] ASCII letters, digits, `-`
    /// and `_` that starts with a letter or digit (so it is a safe file name); `None`
    /// otherwise.
    pub fn parse(s: &str) -> Option<JobId> {
        let ok = !s.is_empty()
            && s.len() <= MAX_JOB_ID_LEN
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| JobId(s.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sequence number: the digits after the last `-`, when there are any.
    pub fn seq(&self) -> Option<u64> {
        self.0.rsplit('-').next()?.parse().ok()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for JobId {
    type Error = String;
    fn try_from(s: String) -> Result<JobId, String> {
        JobId::parse(&s).ok_or_else(|| format!("invalid job id {s:?}"))
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}

/// Everything stored about one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job's id.
    pub id: JobId,
    /// The key that identifies the spool file the job came from (see [`Store::accept`]).
    pub intake_key: String,
    /// The spool file's name, for messages.
    pub source_name: String,
    /// When the job was accepted.
    pub accepted_at: Timestamp,
    /// The validated job.
    pub job: Job,
    /// The job's latest committed checkpoint.
    pub checkpoint: Checkpoint,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store's lock.
    #[error("the store {} is locked by another process: the baseliner daemon probably runs", .dir.display())]
    Locked {
        /// The store's directory.
        dir: PathBuf,
    },
    /// sled could not open the store.
    #[error("cannot open the store {}: {source}", .dir.display())]
    Open {
        /// The store's directory.
        dir: PathBuf,
        /// sled's error.
        source: sled::Error,
    },
    /// A read, write or flush failed.
    #[error("store {op} failed: {source}")]
    Sled {
        /// What was being done.
        op: &'static str,
        /// sled's error.
        source: sled::Error,
    },
    /// A stored value does not decode (or a value does not encode).
    #[error("store record {key:?}: {source}")]
    Codec {
        /// The record's key.
        key: String,
        /// The codec's error.
        source: CodecError,
    },
    /// [`Store::commit`]'s expected checkpoint is not the stored one.
    #[error("job {id}: the stored checkpoint is not the expected one (changed by someone else)")]
    Conflict {
        /// The job.
        id: JobId,
    },
    /// No job has this id.
    #[error("job {id} is not in the store")]
    NotFound {
        /// The job.
        id: JobId,
    },
    /// A stored value is malformed.
    #[error("store value {key} is corrupt: {detail}")]
    Corrupt {
        /// Which value.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// The intake index names a job that is not stored.
    #[error("intake key {intake_key:?} points at job {id:?}, which is not in the store")]
    DanglingIntake {
        /// The intake key.
        intake_key: String,
        /// The id it points at.
        id: String,
    },
}

/// The open store. One process at a time: sled locks the directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    jobs: sled::Tree,
    intake: sled::Tree,
    ids: sled::Tree,
    meta: sled::Tree,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn from_tx(op: &'static str, e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(source) => StoreError::Sled { op, source },
    }
}

fn decode_record(key: &[u8], bytes: &[u8]) -> Result<JobRecord, StoreError> {
    codec::decode_job_record(bytes).map_err(|source| StoreError::Codec {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

fn encode_record(record: &JobRecord) -> Result<Vec<u8>, StoreError> {
    codec::encode(record).map_err(|source| StoreError::Codec {
        key: record.id.to_string(),
        source,
    })
}

/// How long [`Store::open`] keeps retrying a directory lock that is still held.
pub const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The pause between two attempts to take a held lock.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(25);

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// Fails with [`StoreError::Locked`] when another process (or another `Store` in this
    /// process) has it open.
    ///
    /// A lock that is still held is retried for [`LOCK_GRACE`] first: sled releases its lock
    /// only when the last of its background threads lets go of the database, a moment after
    /// the `Store` is dropped, so a store reopened by the same process right after closing
    /// would otherwise be refused.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let started = std::time::Instant::now();
        let db = loop {
            match sled::Config::new().path(dir).open() {
                Ok(db) => break db,
                Err(source) if is_lock_error(&source) => {
                    if started.elapsed() >= LOCK_GRACE {
                        return Err(StoreError::Locked {
                            dir: dir.to_path_buf(),
                        });
                    }
                    std::thread::sleep(LOCK_RETRY);
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        dir: dir.to_path_buf(),
                        source,
                    })
                }
            }
        };
        let tree = |name: &str| {
            db.open_tree(name).map_err(|source| StoreError::Open {
                dir: dir.to_path_buf(),
                source,
            })
        };
        Ok(Store {
            dir: dir.to_path_buf(),
            jobs: tree("jobs")?,
            intake: tree("intake")?,
            ids: tree("ids")?,
            meta: tree("meta")?,
            db,
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records a job under `intake_key`, or returns the job already recorded under it.
    ///
    /// Returns the record and `true` when it was inserted now, `false` when it existed.
    /// The insertion (job record, intake index, id counter) is one transaction, flushed
    /// before this returns: on `Ok` the job survives a crash, so the spool file may go.
    pub fn accept(
        &self,
        intake_key: &str,
        source_name: &str,
        job: &Job,
        now: Timestamp,
    ) -> Result<(JobRecord, bool), StoreError> {
        let result = (&self.jobs, &self.intake, &self.ids)
            .transaction(|(jobs, intake, ids)| -> TxResult<(JobRecord, bool)> {
                if let Some(id) = intake.get(intake_key.as_bytes())? {
                    let bytes = jobs.get(&id)?.ok_or_else(|| {
                        abort(StoreError::DanglingIntake {
                            intake_key: intake_key.to_string(),
                            id: String::from_utf8_lossy(&id).into_owned(),
                        })
                    })?;
                    return Ok((decode_record(&id, &bytes).map_err(abort)?, false));
                }
                let last = match ids.get(SEQ_KEY)? {
                    None => 0,
                    Some(v) => read_u64(&v).ok_or_else(|| {
                        abort(StoreError::Corrupt {
                            key: "ids/job_seq".to_string(),
                            detail: format!("{} bytes, expected 8", v.len()),
                        })
                    })?,
                };
                let seq = last.saturating_add(1);
                let id = JobId::new(now, seq);
                let record = JobRecord {
                    id: id.clone(),
                    intake_key: intake_key.to_string(),
                    source_name: source_name.to_string(),
                    accepted_at: now,
                    job: job.clone(),
                    checkpoint: Checkpoint::accepted(now),
                };
                let bytes = encode_record(&record).map_err(abort)?;
                jobs.insert(id.as_str().as_bytes(), bytes)?;
                intake.insert(intake_key.as_bytes(), id.as_str().as_bytes())?;
                ids.insert(SEQ_KEY, &seq.to_be_bytes())?;
                Ok((record, true))
            })
            .map_err(|e| from_tx("accept", e))?;
        self.flush()?;
        Ok(result)
    }

    /// Forgets `intake_key` (once its spool file is moved away), so the same key may name
    /// a new job later. Flushed before returning. Removing an absent key is not an error.
    pub fn release_intake(&self, intake_key: &str) -> Result<(), StoreError> {
        self.intake
            .remove(intake_key.as_bytes())
            .map_err(|source| StoreError::Sled {
                op: "release_intake",
                source,
            })?;
        self.flush()
    }

    /// The job recorded under `intake_key`, if any.
    pub fn intake_job(&self, intake_key: &str) -> Result<Option<JobId>, StoreError> {
        let found = self
            .intake
            .get(intake_key.as_bytes())
            .map_err(|source| StoreError::Sled {
                op: "intake lookup",
                source,
            })?;
        Ok(found.and_then(|v| std::str::from_utf8(&v).ok().and_then(JobId::parse)))
    }

    /// The job's record, if stored.
    pub fn get(&self, id: &JobId) -> Result<Option<JobRecord>, StoreError> {
        let found = self
            .jobs
            .get(id.as_str().as_bytes())
            .map_err(|source| StoreError::Sled { op: "get", source })?;
        found
            .map(|bytes| decode_record(id.as_str().as_bytes(), &bytes))
            .transpose()
    }

    /// Every job, in acceptance order (by sequence number).
    pub fn all(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut records = Vec::new();
        for entry in self.jobs.iter() {
            let (key, bytes) = entry.map_err(|source| StoreError::Sled { op: "scan", source })?;
            records.push(decode_record(&key, &bytes)?);
        }
        records.sort_by(|a, b| (a.id.seq(), &a.id).cmp(&(b.id.seq(), &b.id)));
        Ok(records)
    }

    /// The jobs whose checkpoint is not terminal, in acceptance order.
    pub fn unfinished(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut records = self.all()?;
        records.retain(|r| !r.checkpoint.state.is_terminal());
        Ok(records)
    }

    /// Replaces the job's checkpoint with `new` if the stored one equals `expected`
    /// (compare-and-swap), then flushes.
    ///
    /// When this returns `Ok`, `new` is on disk and survives `kill -9`. On
    /// [`StoreError::Conflict`] nothing was written.
    pub fn commit(
        &self,
        id: &JobId,
        expected: &Checkpoint,
        new: &Checkpoint,
    ) -> Result<(), StoreError> {
        let key = id.as_str().as_bytes();
        self.jobs
            .transaction(|jobs| -> TxResult<()> {
                let bytes = jobs
                    .get(key)?
                    .ok_or_else(|| abort(StoreError::NotFound { id: id.clone() }))?;
                let mut record = decode_record(key, &bytes).map_err(abort)?;
                if record.checkpoint != *expected {
                    return Err(abort(StoreError::Conflict { id: id.clone() }));
                }
                record.checkpoint = new.clone();
                jobs.insert(key, encode_record(&record).map_err(abort)?)?;
                Ok(())
            })
            .map_err(|e| from_tx("commit", e))?;
        self.flush()
    }

    /// A small daemon-wide value stored with [`Store::meta_put`].
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let found = self
            .meta
            .get(key.as_bytes())
            .map_err(|source| StoreError::Sled {
                op: "meta_get",
                source,
            })?;
        Ok(found.map(|v| v.to_vec()))
    }

    /// Stores a small daemon-wide value (such as a rate-limit wait-until). Flushed before
    /// returning.
    pub fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.meta
            .insert(key.as_bytes(), value)
            .map_err(|source| StoreError::Sled {
                op: "meta_put",
                source,
            })?;
        self.flush()
    }

    /// Writes every buffered change to disk (fsync). The mutating methods already do this.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|source| StoreError::Sled {
                op: "flush",
                source,
            })
    }
}

fn read_u64(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod tests;
