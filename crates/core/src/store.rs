//! The checkpoint store: every accepted job and its latest checkpoint, in sled.
//!
//! Layout (one sled database in the directory the caller gives, `STATE/store`):
//! - tree `jobs`: [`JobId`] → [`JobRecord`] (through [`crate::codec`]);
//! - tree `intake`: intake key (identifies a spool file) → [`JobId`], so a file seen twice
//!   is accepted once;
//! - tree `ids`: the job sequence counter;
//! - tree `meta`: small daemon-wide values ([`Store::meta_put`]) and the store-wide commit
//!   generation;
//! - tree `gens`: [`JobId`] → the generation of the job's latest commit, written in the
//!   same transaction as the record. Every published `status.json` carries it, so a store
//!   that comes back older than what was published (a restored backup, a damaged or emptied
//!   database) is recognized ([`crate::witness`]);
//! - tree `held`: [`JobId`] → nothing: the jobs held by `baseliner hold` ([`Store::set_held`]).
//!
//! A retry (`baseliner retry OLD`) is accepted under the intake key [`retry_key`]`(OLD)`,
//! which is never released: it is the link from the old job to its retry, so one retry
//! request never makes two jobs ([`JobRecord::retried_as`], [`JobRecord::retry_of`]).
//! [`Store::remove`] deletes a finished job's record with its generation, its hold and its
//! link in one transaction.
//!
//! Durability: every mutating method flushes sled's log to disk before it returns `Ok`.
//! What a `kill -9` (or a power loss, as far as the disk honours fsync) leaves behind is
//! therefore exactly every change whose method returned `Ok`, plus possibly the one change
//! in flight when the process died (entirely, never half: sled transactions are atomic).
//! A change whose method returned an error may or may not have survived; the store is then
//! broken until [`Store::recover`] reopened it from disk (see [`Store`]).

use crate::codec::{self, CodecError};
use crate::job::Job;
use crate::state::Checkpoint;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

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
    /// The generation of the record's latest commit (kept beside the record in the store's
    /// `gens` tree, not in the encoded record: the codec's layout is unchanged).
    #[serde(skip)]
    pub generation: u64,
    /// The job is held (kept in the store's `held` tree, not in the encoded record).
    #[serde(skip)]
    pub held: bool,
    /// The job's retry, once it was retried (the intake key [`retry_key`] of this job,
    /// not in the encoded record).
    #[serde(skip)]
    pub retried_as: Option<JobId>,
}

/// The intake key a retry of `old` is accepted under: `retry/OLD` (a `/` is in no spool
/// file's name, so no spool file's key is ever one).
pub fn retry_key(old: &JobId) -> String {
    format!("{RETRY_PREFIX}{old}")
}

const RETRY_PREFIX: &str = "retry/";

impl JobRecord {
    /// The job this one is a retry of, if it is one.
    pub fn retry_of(&self) -> Option<JobId> {
        self.intake_key
            .strip_prefix(RETRY_PREFIX)
            .and_then(JobId::parse)
    }
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
    /// An earlier read, write or flush failed: nothing is read or written until
    /// [`Store::recover`] has reopened the database and proved that it writes.
    #[error("the store is not usable until it is reopened: {reason}")]
    Broken {
        /// The first failure.
        reason: String,
    },
    /// A damaged store could not be moved aside.
    #[error("cannot move the damaged store {} aside to {}: {source}", .dir.display(), .aside.display())]
    Aside {
        /// The store's directory.
        dir: PathBuf,
        /// Where it was to go.
        aside: PathBuf,
        /// The rename's error.
        source: std::io::Error,
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
///
/// The store *fails closed*: the first read, write or flush that fails marks it broken
/// ([`Store::broken`]), and from then on every method refuses with [`StoreError::Broken`]
/// until [`Store::recover`] has reopened the database from disk and proved with a flushed
/// write that it can write again. sled applies a transaction in memory before its flush
/// reaches the disk, so after a failed flush its in-memory view may hold a change the disk
/// lacks; reopening drops that view, and what the store says afterwards is what is on disk.
pub struct Store {
    dir: PathBuf,
    /// The open database; `None` between a failure and a successful [`Store::recover`].
    open: RwLock<Option<Trees>>,
    /// Why the store is broken, while it is.
    broken: Mutex<Option<String>>,
    /// The test seam: a write fault injected into every flush ([`Store::set_write_fault`]).
    fault: RwLock<Option<WriteFault>>,
}

/// A function asked before every flush: `Some(error)` makes the flush fail with it (after
/// sled applied the change in memory, as a full disk does).
pub type WriteFault = Box<dyn Fn() -> Option<std::io::Error> + Send + Sync>;

struct Trees {
    db: sled::Db,
    jobs: sled::Tree,
    intake: sled::Tree,
    ids: sled::Tree,
    meta: sled::Tree,
    gens: sled::Tree,
    held: sled::Tree,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("broken", &self.broken())
            .finish_non_exhaustive()
    }
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

fn sled_err(op: &'static str) -> impl FnOnce(sled::Error) -> StoreError {
    move |source| StoreError::Sled { op, source }
}

/// How long [`Store::open`] keeps retrying a directory lock that is still held.
pub const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The pause between two attempts to take a held lock.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(25);

/// The meta key of the store-wide commit generation.
const GENERATION_KEY: &[u8] = b"generation";

/// The meta key [`Store::recover`] writes to prove the disk takes writes again.
const PROBE_KEY: &[u8] = b"write-probe";

fn open_trees(dir: &Path) -> Result<Trees, StoreError> {
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
    Ok(Trees {
        jobs: tree("jobs")?,
        intake: tree("intake")?,
        ids: tree("ids")?,
        meta: tree("meta")?,
        gens: tree("gens")?,
        held: tree("held")?,
        db,
    })
}

/// Reads the counter stored under `key` in `tree` (0 when absent).
fn counter(tree: &sled::transaction::TransactionalTree, key: &[u8], name: &str) -> TxResult<u64> {
    match tree.get(key)? {
        None => Ok(0),
        Some(v) => read_u64(&v).ok_or_else(|| {
            abort(StoreError::Corrupt {
                key: name.to_string(),
                detail: format!("{} bytes, expected 8", v.len()),
            })
        }),
    }
}

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
        let trees = open_trees(dir)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            open: RwLock::new(Some(trees)),
            broken: Mutex::new(None),
            fault: RwLock::new(None),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Installs the test seam: `fault` is asked before every flush, and an error it returns
    /// fails the flush as a full disk would (the change already applied in sled's memory).
    pub fn set_write_fault(&self, fault: WriteFault) {
        *self.fault.write().unwrap_or_else(|p| p.into_inner()) = Some(fault);
    }

    /// Why the store is broken (a read, write or flush failed and [`Store::recover`] has
    /// not succeeded since); `None` while it works.
    pub fn broken(&self) -> Option<String> {
        self.broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn mark_broken(&self, why: &StoreError) {
        let mut broken = self.broken.lock().unwrap_or_else(|p| p.into_inner());
        if broken.is_none() {
            *broken = Some(why.to_string());
        }
    }

    /// Runs `f` on the open trees; a failure of sled (read, write, flush) marks the store
    /// broken. Refuses at once while the store is broken.
    fn with<T>(&self, f: impl FnOnce(&Trees) -> Result<T, StoreError>) -> Result<T, StoreError> {
        if let Some(reason) = self.broken() {
            return Err(StoreError::Broken { reason });
        }
        let open = self.open.read().unwrap_or_else(|p| p.into_inner());
        let Some(trees) = open.as_ref() else {
            return Err(StoreError::Broken {
                reason: "the store is closed".to_string(),
            });
        };
        let result = f(trees);
        if let Err(e) = &result {
            if e.means_broken() {
                self.mark_broken(e);
            }
        }
        result
    }

    fn flush_trees(&self, trees: &Trees) -> Result<(), StoreError> {
        let injected = self
            .fault
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|fault| fault());
        if let Some(io) = injected {
            return Err(StoreError::Sled {
                op: "flush",
                source: sled::Error::Io(io),
            });
        }
        trees.db.flush().map(|_| ()).map_err(sled_err("flush"))
    }

    /// After a failure: closes the database, opens it again from disk and proves with a
    /// flushed write that it takes writes; only then is the store working again. On an
    /// error the store stays broken (and closed); call again later.
    pub fn recover(&self) -> Result<(), StoreError> {
        let mut open = self.open.write().unwrap_or_else(|p| p.into_inner());
        // Dropped first: sled's lock on the directory goes with the last handle.
        *open = None;
        let trees = open_trees(&self.dir)?;
        trees
            .meta
            .insert(
                PROBE_KEY,
                &crate::time::Timestamp::now().millis().to_be_bytes(),
            )
            .map_err(sled_err("write probe"))?;
        self.flush_trees(&trees)?;
        *open = Some(trees);
        *self.broken.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    /// Records a job under `intake_key`, or returns the job already recorded under it.
    ///
    /// Returns the record and `true` when it was inserted now, `false` when it existed.
    /// The insertion (job record, intake index, id counter, generation) is one transaction,
    /// flushed before this returns: on `Ok` the job survives a crash, so the spool file may go.
    pub fn accept(
        &self,
        intake_key: &str,
        source_name: &str,
        job: &Job,
        now: Timestamp,
    ) -> Result<(JobRecord, bool), StoreError> {
        self.with(|t| {
            let result = (&t.jobs, &t.intake, &t.ids, &t.meta, &t.gens, &t.held)
                .transaction(
                    |(jobs, intake, ids, meta, gens, held)| -> TxResult<(JobRecord, bool)> {
                        if let Some(id) = intake.get(intake_key.as_bytes())? {
                            let bytes = jobs.get(&id)?.ok_or_else(|| {
                                abort(StoreError::DanglingIntake {
                                    intake_key: intake_key.to_string(),
                                    id: String::from_utf8_lossy(&id).into_owned(),
                                })
                            })?;
                            let mut rec = decode_record(&id, &bytes).map_err(abort)?;
                            rec.generation = counter(gens, &id, "gens")?;
                            rec.held = held.get(&id)?.is_some();
                            if let Some(new) = intake.get(retry_key(&rec.id).as_bytes())? {
                                rec.retried_as =
                                    std::str::from_utf8(&new).ok().and_then(JobId::parse);
                            }
                            return Ok((rec, false));
                        }
                        let seq = counter(ids, SEQ_KEY, "ids/job_seq")?.saturating_add(1);
                        let generation =
                            counter(meta, GENERATION_KEY, "meta/generation")?.saturating_add(1);
                        let id = JobId::new(now, seq);
                        let record = JobRecord {
                            id: id.clone(),
                            intake_key: intake_key.to_string(),
                            source_name: source_name.to_string(),
                            accepted_at: now,
                            job: job.clone(),
                            checkpoint: Checkpoint::accepted(now),
                            generation,
                            held: false,
                            retried_as: None,
                        };
                        let key = id.as_str().as_bytes();
                        jobs.insert(key, encode_record(&record).map_err(abort)?)?;
                        intake.insert(intake_key.as_bytes(), key)?;
                        ids.insert(SEQ_KEY, &seq.to_be_bytes())?;
                        meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                        gens.insert(key, &generation.to_be_bytes())?;
                        Ok((record, true))
                    },
                )
                .map_err(|e| from_tx("accept", e))?;
            self.flush_trees(t)?;
            Ok(result)
        })
    }

    /// Forgets `intake_key` (once its spool file is moved away), so the same key may name
    /// a new job later. Flushed before returning. Removing an absent key is not an error.
    pub fn release_intake(&self, intake_key: &str) -> Result<(), StoreError> {
        self.with(|t| {
            t.intake
                .remove(intake_key.as_bytes())
                .map_err(sled_err("release_intake"))?;
            self.flush_trees(t)
        })
    }

    /// The job recorded under `intake_key`, if any.
    pub fn intake_job(&self, intake_key: &str) -> Result<Option<JobId>, StoreError> {
        self.with(|t| {
            let found = t
                .intake
                .get(intake_key.as_bytes())
                .map_err(sled_err("intake lookup"))?;
            Ok(found.and_then(|v| std::str::from_utf8(&v).ok().and_then(JobId::parse)))
        })
    }

    fn generation_in(t: &Trees, key: &[u8]) -> Result<u64, StoreError> {
        let found = t.gens.get(key).map_err(sled_err("generation"))?;
        Ok(found.as_deref().and_then(read_u64).unwrap_or(0))
    }

    /// Fills in what is kept beside the encoded record: its generation, its hold, its retry.
    fn annotate(t: &Trees, key: &[u8], rec: &mut JobRecord) -> Result<(), StoreError> {
        rec.generation = Self::generation_in(t, key)?;
        rec.held = t.held.contains_key(key).map_err(sled_err("held"))?;
        rec.retried_as = t
            .intake
            .get(retry_key(&rec.id).as_bytes())
            .map_err(sled_err("retry link"))?
            .and_then(|v| std::str::from_utf8(&v).ok().and_then(JobId::parse));
        Ok(())
    }

    /// The job's record, if stored.
    pub fn get(&self, id: &JobId) -> Result<Option<JobRecord>, StoreError> {
        self.with(|t| {
            let key = id.as_str().as_bytes();
            let Some(bytes) = t.jobs.get(key).map_err(sled_err("get"))? else {
                return Ok(None);
            };
            let mut rec = decode_record(key, &bytes)?;
            Self::annotate(t, key, &mut rec)?;
            Ok(Some(rec))
        })
    }

    /// Every job, in acceptance order (by sequence number). One record that does not
    /// decode fails the whole listing; [`Store::scan`] reports it instead.
    pub fn all(&self) -> Result<Vec<JobRecord>, StoreError> {
        let scan = self.scan()?;
        match scan.undecodable.into_iter().next() {
            Some((key, source)) => Err(StoreError::Codec { key, source }),
            None => Ok(scan.records),
        }
    }

    /// Every job that decodes, in acceptance order, and the keys of those that do not (a
    /// damaged record: the caller rebuilds it from elsewhere or reports it).
    pub fn scan(&self) -> Result<Scan, StoreError> {
        self.with(|t| {
            let mut scan = Scan::default();
            for entry in t.jobs.iter() {
                let (key, bytes) = entry.map_err(sled_err("scan"))?;
                match codec::decode_job_record(&bytes) {
                    Ok(mut rec) => {
                        Self::annotate(t, &key, &mut rec)?;
                        scan.records.push(rec);
                    }
                    Err(source) => scan
                        .undecodable
                        .push((String::from_utf8_lossy(&key).into_owned(), source)),
                }
            }
            scan.records
                .sort_by(|a, b| (a.id.seq(), &a.id).cmp(&(b.id.seq(), &b.id)));
            Ok(scan)
        })
    }

    /// The jobs whose checkpoint is not terminal, in acceptance order.
    pub fn unfinished(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut records = self.all()?;
        records.retain(|r| !r.checkpoint.state.is_terminal());
        Ok(records)
    }

    /// Replaces the job's checkpoint with `new` if the stored one equals `expected`
    /// (compare-and-swap), then flushes. Returns the commit's generation (the store-wide
    /// counter, one more than any earlier commit's).
    ///
    /// When this returns `Ok`, `new` is on disk and survives `kill -9`. On
    /// [`StoreError::Conflict`] nothing was written. Any other error marks the store broken:
    /// the change may or may not be on disk, and [`Store::recover`] reads back what is.
    pub fn commit(
        &self,
        id: &JobId,
        expected: &Checkpoint,
        new: &Checkpoint,
    ) -> Result<u64, StoreError> {
        let key = id.as_str().as_bytes();
        self.with(|t| {
            let generation = (&t.jobs, &t.meta, &t.gens)
                .transaction(|(jobs, meta, gens)| -> TxResult<u64> {
                    let bytes = jobs
                        .get(key)?
                        .ok_or_else(|| abort(StoreError::NotFound { id: id.clone() }))?;
                    let mut record = decode_record(key, &bytes).map_err(abort)?;
                    if record.checkpoint != *expected {
                        return Err(abort(StoreError::Conflict { id: id.clone() }));
                    }
                    record.checkpoint = new.clone();
                    let generation =
                        counter(meta, GENERATION_KEY, "meta/generation")?.saturating_add(1);
                    jobs.insert(key, encode_record(&record).map_err(abort)?)?;
                    meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                    gens.insert(key, &generation.to_be_bytes())?;
                    Ok(generation)
                })
                .map_err(|e| from_tx("commit", e))?;
            self.flush_trees(t)?;
            Ok(generation)
        })
    }

    /// Writes `record` whole (inserting or replacing it, whatever is stored), with a new
    /// generation, its hold and its retry links, flushed; returns that generation. Only for rebuilding a job the store
    /// lost from what was published of it ([`crate::witness`]); the run loop's steps go
    /// through [`Store::commit`].
    pub fn restore(&self, record: &JobRecord) -> Result<u64, StoreError> {
        let key = record.id.as_str().as_bytes();
        self.with(|t| {
            let generation = (&t.jobs, &t.meta, &t.gens, &t.held, &t.intake)
                .transaction(|(jobs, meta, gens, held, intake)| -> TxResult<u64> {
                    let generation =
                        counter(meta, GENERATION_KEY, "meta/generation")?.saturating_add(1);
                    jobs.insert(key, encode_record(record).map_err(abort)?)?;
                    meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                    gens.insert(key, &generation.to_be_bytes())?;
                    // What lives beside the record comes back with it: the hold, and the
                    // retry links (a retry's key, and the link to a job's retry), so one
                    // retry request still makes one job.
                    if record.held {
                        held.insert(key, &[])?;
                    } else {
                        held.remove(key)?;
                    }
                    if record.retry_of().is_some() {
                        intake.insert(record.intake_key.as_bytes(), key)?;
                    }
                    if let Some(new) = &record.retried_as {
                        intake.insert(retry_key(&record.id).as_bytes(), new.as_str().as_bytes())?;
                    }
                    Ok(generation)
                })
                .map_err(|e| from_tx("restore", e))?;
            self.flush_trees(t)?;
            Ok(generation)
        })
    }

    /// Holds (`true`) or releases (`false`) the job `id`, flushed. Fails with
    /// [`StoreError::NotFound`] when no such job is stored.
    pub fn set_held(&self, id: &JobId, held: bool) -> Result<(), StoreError> {
        let key = id.as_str().as_bytes();
        self.with(|t| {
            (&t.jobs, &t.held)
                .transaction(|(jobs, held_tree)| -> TxResult<()> {
                    if jobs.get(key)?.is_none() {
                        return Err(abort(StoreError::NotFound { id: id.clone() }));
                    }
                    if held {
                        held_tree.insert(key, &[])?;
                    } else {
                        held_tree.remove(key)?;
                    }
                    Ok(())
                })
                .map_err(|e| from_tx("set_held", e))?;
            self.flush_trees(t)
        })
    }

    /// Deletes the job `id` in one transaction, flushed: its record, its generation, its
    /// hold, the link to its retry, and its own intake key while that still names it
    /// (except a retry's key, the link of the job it retried: that job stays retried).
    /// Returns false when no such job was stored. The store's counters never go back, so
    /// the id is never given again.
    pub fn remove(&self, id: &JobId) -> Result<bool, StoreError> {
        let key = id.as_str().as_bytes();
        self.with(|t| {
            let removed = (&t.jobs, &t.gens, &t.held, &t.intake)
                .transaction(|(jobs, gens, held, intake)| -> TxResult<bool> {
                    let Some(bytes) = jobs.remove(key)? else {
                        return Ok(false);
                    };
                    gens.remove(key)?;
                    held.remove(key)?;
                    intake.remove(retry_key(id).as_bytes())?;
                    // A record that does not decode has no intake key to look at.
                    if let Ok(rec) = decode_record(key, &bytes) {
                        let own = rec.intake_key.as_bytes();
                        let names_it = intake.get(own)?.is_some_and(|v| v.as_ref() == key);
                        if names_it && rec.retry_of().is_none() {
                            intake.remove(own)?;
                        }
                    }
                    Ok(true)
                })
                .map_err(|e| from_tx("remove", e))?;
            self.flush_trees(t)?;
            Ok(removed)
        })
    }

    /// The store-wide commit generation: the generation of the latest commit (0 for a new
    /// store).
    pub fn generation(&self) -> Result<u64, StoreError> {
        self.with(|t| {
            let found = t.meta.get(GENERATION_KEY).map_err(sled_err("generation"))?;
            Ok(found.as_deref().and_then(read_u64).unwrap_or(0))
        })
    }

    /// Moves the store's counters past what the world has already seen of them: the commit
    /// generation to at least `generation` and the job sequence to at least `seq`, so that
    /// no later commit carries a generation some published file already has, and no new job
    /// gets the id of a job directory that exists (after a store was emptied or restored).
    /// Flushed. Counters already further are left alone.
    pub fn advance_past(&self, generation: u64, seq: u64) -> Result<(), StoreError> {
        self.with(|t| {
            (&t.meta, &t.ids)
                .transaction(|(meta, ids)| -> TxResult<()> {
                    if counter(meta, GENERATION_KEY, "meta/generation")? < generation {
                        meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                    }
                    if counter(ids, SEQ_KEY, "ids/job_seq")? < seq {
                        ids.insert(SEQ_KEY, &seq.to_be_bytes())?;
                    }
                    Ok(())
                })
                .map_err(|e| from_tx("advance_past", e))?;
            self.flush_trees(t)
        })
    }

    /// A small daemon-wide value stored with [`Store::meta_put`].
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|t| {
            let found = t.meta.get(key.as_bytes()).map_err(sled_err("meta_get"))?;
            Ok(found.map(|v| v.to_vec()))
        })
    }

    /// Stores a small daemon-wide value (such as a rate-limit wait-until). Flushed before
    /// returning.
    pub fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.with(|t| {
            t.meta
                .insert(key.as_bytes(), value)
                .map_err(sled_err("meta_put"))?;
            self.flush_trees(t)
        })
    }

    /// Writes every buffered change to disk (fsync). The mutating methods already do this.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.with(|t| self.flush_trees(t))
    }
}

/// What [`Store::scan`] found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The records that decode, in acceptance order.
    pub records: Vec<JobRecord>,
    /// The keys of records that do not decode, with why.
    pub undecodable: Vec<(String, CodecError)>,
}

impl StoreError {
    /// True when sled could not open the database because its bytes are bad (it reports
    /// corruption, a bug reading them, or a layout it does not support: a garbled `conf`),
    /// not because it is locked, unreadable or the disk failed.
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            StoreError::Open {
                source: sled::Error::Corruption { .. }
                    | sled::Error::ReportableBug(_)
                    | sled::Error::Unsupported(_),
                ..
            }
        )
    }

    /// True for a failure of the database itself (a read, write or flush, a damaged
    /// counter): the store's view can no longer be trusted. A conflict says the caller's
    /// view was stale, not the store's (the caller reads the record back).
    fn means_broken(&self) -> bool {
        matches!(
            self,
            StoreError::Sled { .. }
                | StoreError::Corrupt { .. }
                | StoreError::Open { .. }
                | StoreError::Locked { .. }
        )
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
