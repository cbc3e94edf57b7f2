//! A store that cannot write stops the work: while it is broken nothing is sent to Qualys
//! for any job (no poll whose answer could not be recorded, never a mutation), no spool
//! file is taken and no cancel applied; the daemon shows itself paused with the reason
//! (`daemon.json`, `status`, metrics, systemd's status line), says so in the journal as an
//! ERROR once and then at most once a minute, and tries to reopen the store with a
//! doubling pause ([`baseliner_core::schedule::store_retry_after`]). Once the store writes
//! again, every unfinished job is read back from it (what is on disk, not what the failed
//! commits left in memory), checked against its published status ([`crate::recovery`]),
//! and the work resumes by itself.

use super::{Engine, Pause};
use baseliner_core::schedule;
use baseliner_core::store::StoreError;
use baseliner_core::time::Timestamp;
use std::time::Duration;
use tokio::time::Instant;

/// The store is broken: since when, why, and when to try it again.
#[derive(Debug)]
pub(super) struct StoreDown {
    since: Timestamp,
    reason: String,
    failures: u32,
    next_try: Instant,
    /// `next_try` on the wall clock, as `daemon.json` shows the pause's end (kept, so the
    /// document changes only when the store is tried again).
    retry_at: Timestamp,
    next_log: Instant,
}

impl Engine {
    /// Notes a failed store call: the first one pauses the daemon (and says why, once);
    /// later ones while it is down are quiet.
    pub(super) fn store_failed(&mut self, e: &StoreError) {
        if self.store_down.is_some() {
            tracing::debug!("store still down: {e}");
            return;
        }
        let reason = self.store.broken().unwrap_or_else(|| e.to_string());
        tracing::error!(
            "the state store cannot write ({reason}): every job is paused and nothing is sent to Qualys until it writes again; retrying"
        );
        let now = Instant::now();
        let wait = schedule::store_retry_after(1);
        self.store_down = Some(StoreDown {
            since: Timestamp::now(),
            reason,
            failures: 1,
            next_try: now + wait,
            retry_at: Timestamp::now().plus(wait),
            next_log: now + schedule::STORE_DOWN_LOG_EVERY,
        });
        self.write_metrics();
    }

    /// Each turn: notices a store that broke outside a commit (a rate-limit wait that could
    /// not be persisted), and, when it is time, tries to reopen a broken store.
    pub(super) fn watch_store(&mut self) {
        if self.store_down.is_none() {
            if let Some(reason) = self.store.broken() {
                self.store_failed(&StoreError::Broken { reason });
            }
            return;
        }
        let now = Instant::now();
        let Some(down) = self.store_down.as_mut() else {
            return;
        };
        if now < down.next_try {
            return;
        }
        match self.store.recover() {
            Ok(()) => self.store_back(),
            Err(e) => {
                down.failures = down.failures.saturating_add(1);
                let wait = schedule::store_retry_after(down.failures);
                down.next_try = now + wait;
                down.retry_at = Timestamp::now().plus(wait);
                if let Some(latest) = self.store.broken().or_else(|| Some(e.to_string())) {
                    down.reason = latest;
                }
                if now >= down.next_log {
                    down.next_log = now + schedule::STORE_DOWN_LOG_EVERY;
                    tracing::error!(
                        "the state store still cannot write (since {}): {}; every job stays paused",
                        down.since,
                        down.reason
                    );
                }
            }
        }
    }

    /// The store writes again: read every job back from it and resume.
    fn store_back(&mut self) {
        let Some(down) = self.store_down.take() else {
            return;
        };
        let rules = self.config.job_rules();
        let result = crate::recovery::reconcile(&self.spool, &self.store, &rules, Timestamp::now())
            .and_then(|_| self.store.scan())
            .map(|scan| {
                let mut records = scan.records;
                records.retain(|r| !r.checkpoint.state.is_terminal());
                records
            });
        match result {
            Ok(records) => {
                // Answers still in flight were for checkpoints that may no longer be the
                // stored ones: they are dropped when they arrive (polls are repeated, and
                // every mutation is behind an intent that is looked up).
                self.stale.extend(self.busy.iter().cloned());
                self.jobs = records.into_iter().map(|r| (r.id.clone(), r)).collect();
                let took = Timestamp::now().millis() - down.since.millis();
                tracing::warn!(
                    "the state store writes again after {}s; {} unfinished job(s) read back from it, resuming",
                    took / 1000,
                    self.jobs.len()
                );
                self.write_metrics();
            }
            Err(e) => {
                self.store_down = Some(down);
                self.store_failed(&e);
            }
        }
    }

    /// The daemon-wide pause as the schedule and the outside see it: the store's, while it
    /// is down, else the account's.
    pub(super) fn effective_pause(&self) -> Option<Pause> {
        match &self.store_down {
            Some(down) => Some(Pause {
                // Until the next attempt to reopen it (the pause lasts as long as it fails;
                // never over while the store is down, even past that time).
                until: down
                    .retry_at
                    .max(Timestamp::now().plus(Duration::from_millis(1))),
                reason: format!(
                    "the state store cannot write (since {}): {}",
                    down.since, down.reason
                ),
            }),
            None => self.pause.clone(),
        }
    }

    /// True while the store is down.
    pub(super) fn store_is_down(&self) -> bool {
        self.store_down.is_some()
    }
}
