//! Job management in the run loop (SPEC.md "Managing jobs"): the requests of `retry/`,
//! `hold/` and `purge/` ([`crate::requests`]), each applied and only then its file removed,
//! so a crash in between repeats it, and every application is safe to repeat; and the
//! `[retention]` pass. What may be retried, what a hold stops and which finished job is old
//! enough are the core's ([`baseliner_core::queue`], [`baseliner_core::schedule`]).
//!
//! - **retry/OLD**: the new job is accepted under the intake key `retry/OLD`, which is never
//!   released: a repeated request (a crash before its file went, a second `retry` before
//!   the first was applied) finds the job it made and completes its files, never a second
//!   job. Then the new job's `job.toml` and `status.json` (`retry_of`), then the old job's
//!   `status.json` (`retried_as`).
//! - **hold/ID** (`hold` or `release`): the flag is written to the store (flushed), then the
//!   job's `status.json`. An action in flight finishes; the schedule starts no other.
//! - **purge/older-than-SECONDS-…** and `[retention].remove_after`: every finished job
//!   older than that is removed ([`crate::removal`]).

use super::Engine;
use crate::removal;
use crate::requests::Requests;
use crate::status;
use baseliner_core::job::{job_to_toml, parse_job};
use baseliner_core::queue;
use baseliner_core::store::{retry_key, JobId, JobRecord, StoreError};
use baseliner_core::time::Timestamp;
use std::time::Duration;

/// The request directories of job management, and when `[retention]` looks next.
#[derive(Debug, Default)]
pub(super) struct QueueRequests {
    retries: Requests,
    holds: Requests,
    purges: Requests,
    next_retention: Option<tokio::time::Instant>,
}

/// What a `purge/` request's name asks: `older-than-SECONDS` and, after a `-`, anything
/// that makes the name unique.
pub fn parse_purge_name(name: &str) -> Option<Duration> {
    let rest = name.strip_prefix("older-than-")?;
    let secs = rest.split('-').next()?;
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    secs.parse().ok().map(Duration::from_secs)
}

/// What a `hold/` request's content asks: true to hold, false to release.
fn parse_hold(content: &str) -> Option<bool> {
    match content {
        "" | "hold" => Some(true),
        "release" => Some(false),
        _ => None,
    }
}

impl Engine {
    /// The requests of `retry/`, `hold/` and `purge/`, each file removed once applied.
    pub(super) fn queue_pass(&mut self, now: Timestamp) {
        let retry_dir = self.spool.retry();
        for req in self
            .queue
            .retries
            .pending(&retry_dir, ("retry", "a job id"), JobId::parse)
        {
            if self.store_is_down() {
                return;
            }
            if self.apply_retry(&req.what, now) {
                self.queue.retries.handled(req);
            }
        }
        let hold_dir = self.spool.hold();
        for req in self
            .queue
            .holds
            .pending(&hold_dir, ("hold", "a job id"), JobId::parse)
        {
            if self.store_is_down() {
                return;
            }
            let hold = match crate::requests::read_small(&req.path) {
                Ok(text) => parse_hold(&text),
                Err(e) => {
                    tracing::warn!(job_id = req.what.as_str(), "unreadable hold request: {e}");
                    None
                }
            };
            let applied = match hold {
                Some(hold) => self.apply_hold(&req.what, hold, now),
                None => {
                    tracing::warn!(
                        job_id = req.what.as_str(),
                        "ignoring hold request: it holds neither \"hold\" nor \"release\""
                    );
                    true
                }
            };
            if applied {
                self.queue.holds.handled(req);
            }
        }
        let purge_dir = self.spool.purge();
        for req in self.queue.purges.pending(
            &purge_dir,
            ("purge", "older-than-SECONDS-…"),
            parse_purge_name,
        ) {
            if self.store_is_down() {
                return;
            }
            let why = format!(
                "purge --older-than {}",
                baseliner_core::time::format_duration(req.what)
            );
            if self.remove_expired(req.what, now, &why) {
                self.queue.purges.handled(req);
            }
        }
    }

    /// `[retention]`: when it is time, removes every finished job older than
    /// `remove_after` (off without it).
    pub(super) fn retention_tick(&mut self, now: Timestamp) {
        let Some(after) = self.config.retention.remove_after else {
            return;
        };
        let clock = tokio::time::Instant::now();
        if self.store_is_down() || self.queue.next_retention.is_some_and(|at| clock < at) {
            return;
        }
        self.queue.next_retention = Some(clock + queue::retention_every(after));
        self.remove_expired(after, now, "[retention].remove_after");
    }

    /// Removes every finished job older than `older_than` ([`crate::removal`]); true once
    /// nothing is left to do (false when the store or a directory failed: asked again).
    fn remove_expired(&mut self, older_than: Duration, now: Timestamp, why: &str) -> bool {
        let records = match self.store.scan() {
            Ok(scan) => scan.records,
            Err(e) => {
                self.store_failed(&e);
                return false;
            }
        };
        let mut complete = true;
        for id in removal::expired(&records, now, older_than) {
            if self.jobs.contains_key(&id) {
                continue; // never an unfinished job (a finished one is not in the loop)
            }
            match removal::remove(&self.spool, &self.store, &id) {
                Ok(()) => tracing::info!(
                    job_id = id.as_str(),
                    "removed the finished job, its directory and its record ({why})"
                ),
                Err(removal::RemovalError::Store(e)) => {
                    self.store_failed(&e);
                    return false;
                }
                Err(e) => {
                    tracing::error!(job_id = id.as_str(), "could not remove the job: {e}");
                    complete = false;
                }
            }
        }
        complete
    }

    /// Applies `retry/OLD` (see the module doc); true once nothing is left to do for it.
    fn apply_retry(&mut self, old: &JobId, now: Timestamp) -> bool {
        let rec = match self.store.get(old) {
            Ok(Some(rec)) => rec,
            Ok(None) => {
                tracing::warn!(job_id = old.as_str(), "retry request for an unknown job");
                return true;
            }
            Err(e) => return self.store_refused(&e),
        };
        let new = match &rec.retried_as {
            // Applied before (a crash before its file went, or a second request): complete
            // what may be missing, make nothing new.
            Some(new) => match self.store.get(new) {
                Ok(Some(new_rec)) => {
                    tracing::info!(
                        job_id = old.as_str(),
                        "retry request: already retried as {new}"
                    );
                    new_rec
                }
                Ok(None) => {
                    tracing::warn!(
                        job_id = old.as_str(),
                        "retry request: already retried as {new}, which has been removed"
                    );
                    return true;
                }
                Err(e) => return self.store_refused(&e),
            },
            None => {
                if let Err(why) = queue::retryable(old, &rec.checkpoint.state, None) {
                    tracing::warn!(job_id = old.as_str(), "retry request refused: {why}");
                    return true;
                }
                // The one gate every job passes, with today's rules (the scope may have
                // changed since the job was accepted).
                let rules = self.config.job_rules();
                let job = match parse_job("job.toml", job_to_toml(&rec.job).as_bytes(), &rules) {
                    Ok(job) => job,
                    Err(e) => {
                        tracing::warn!(
                            job_id = old.as_str(),
                            "retry request refused: the job no longer passes the checks: {e}"
                        );
                        return true;
                    }
                };
                let source = format!("retry of {old}");
                match self.store.accept(&retry_key(old), &source, &job, now) {
                    Ok((new_rec, _)) => new_rec,
                    Err(e) => return self.store_refused(&e),
                }
            }
        };
        crate::crashpoint::hit("retry-after-accept");
        let new_id = new.id.clone();
        let dir = self.spool.job_dir(new_id.as_str());
        let spec = crate::fsutil::ensure_dir(&dir).and_then(|()| {
            crate::fsutil::write_atomic(&dir.join("job.toml"), job_to_toml(&new.job).as_bytes())
        });
        if let Err(e) = spec {
            tracing::error!(job_id = new_id.as_str(), "job.toml not written: {e}");
            return false;
        }
        // The loop's own record when it runs the job already (it may have moved on).
        let shown: JobRecord = if new.checkpoint.state.is_terminal() {
            new
        } else {
            self.jobs.entry(new_id.clone()).or_insert(new).clone()
        };
        let mut old_rec = rec;
        old_rec.retried_as = Some(new_id.clone());
        if !status::publish(&self.spool, &shown, now)
            || !status::publish(&self.spool, &old_rec, now)
        {
            return false;
        }
        crate::crashpoint::hit("retry-after-publish");
        tracing::info!(
            job_id = old.as_str(),
            "retried as {new_id} (the same fields; retry_of and retried_as link the two)"
        );
        true
    }

    /// Applies `hold/ID`; true once nothing is left to do for it.
    fn apply_hold(&mut self, id: &JobId, hold: bool, now: Timestamp) -> bool {
        let verb = if hold { "hold" } else { "release" };
        let Some(held) = self.jobs.get(id).map(|r| r.held) else {
            tracing::warn!(
                job_id = id.as_str(),
                "{verb} request for a job that is not running (unknown or finished)"
            );
            return true;
        };
        if held != hold {
            match self.store.set_held(id, hold) {
                Ok(()) => {}
                Err(StoreError::NotFound { .. }) => return true,
                Err(e) => return self.store_refused(&e),
            }
            crate::crashpoint::hit("hold-after-store");
            if hold {
                tracing::info!(
                    job_id = id.as_str(),
                    "held: an action in flight finishes, no other starts until it is released"
                );
            } else {
                tracing::info!(job_id = id.as_str(), "released");
            }
        }
        let Some(rec) = self.jobs.get_mut(id) else {
            return true;
        };
        rec.held = hold;
        status::publish(&self.spool, rec, now)
    }

    /// A store call of a request failed: the daemon pauses until the store writes again,
    /// and the request stays for a later pass.
    fn store_refused(&mut self, e: &StoreError) -> bool {
        self.store_failed(e);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_names_and_contents_read_strictly() {
        assert_eq!(
            parse_purge_name("older-than-86400-1234-5678"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(parse_purge_name("older-than-0"), Some(Duration::ZERO));
        for bad in [
            "older-than-",
            "older-than--1",
            "older-than-1d",
            "purge",
            "x-older-than-1",
        ] {
            assert_eq!(parse_purge_name(bad), None, "{bad}");
        }
        assert_eq!(parse_hold(""), Some(true));
        assert_eq!(parse_hold("hold"), Some(true));
        assert_eq!(parse_hold("release"), Some(false));
        assert_eq!(parse_hold("RELEASE"), None);
    }
}
