//! The run loop: the driver of the core's state machine. It decides nothing; it asks the
//! core and acts (ARCHITECTURE.md, "The driver's contract").
//!
//! One task owns the jobs and the store's job records (a single writer). Each turn it takes
//! in new spool files and cancel requests ([`crate::intake`]), asks
//! [`baseliner_core::schedule::agenda`] what to start, records and flushes every intent
//! before a request that is not safe to repeat, hands the actions to [`Executor`] tasks
//! (polls batched into one list call per round), applies their outcomes through
//! [`baseliner_core::machine::step`], commits each new checkpoint and rewrites the job's
//! `status.json` ([`crate::status`]); then it sleeps as long as
//! [`baseliner_core::schedule::sleep`] allows, or until a result arrives.

mod cancel;
mod journal;
mod publish;
mod queue;
mod reload;
mod start;
mod store_down;

use crate::daemon_status::StagedDoc;
use crate::exec::Executor;
use crate::intake::{CancelRequests, Postponed};
use crate::sdnotify::Notifier;
use crate::signals::Signals;
use crate::spool::Spool;
use crate::status;
use baseliner_core::config::Config;
use baseliner_core::machine::{self, Ctx, Plan, Policy};
use baseliner_core::schedule::{self, InFlight, Job, RoundKind, Rules, Start};
use baseliner_core::state::{Checkpoint, DeferScope, Outcome};
use baseliner_core::store::{JobId, JobRecord, Store};
use baseliner_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often `incoming/` and `cancel/` are scanned; also the longest sleep.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// How often the metrics file is rewritten.
const METRICS_EVERY: Duration = Duration::from_secs(60);
/// How long a clean stop waits for calls in flight before abandoning them.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// A finished piece of work, sent back to the loop.
enum Done {
    /// One job's action finished.
    Job { id: JobId, outcome: Outcome },
    /// A batched poll finished: one outcome per job polled.
    Round {
        kind: RoundKind,
        outcomes: Vec<(JobId, Outcome)>,
    },
    /// The login check after a reload finished ([`crate::probe`]).
    Probe(Option<Pause>),
}

/// A daemon-wide pause (bad credentials, expired account, unaccepted EULA).
#[derive(Debug, Clone)]
pub struct Pause {
    /// Until when nothing is sent.
    pub until: Timestamp,
    /// Why, for `daemon.json` and the journal.
    pub reason: String,
}

/// The run loop's state.
pub struct Engine {
    /// The one owner of the config: the executor gets a snapshot of it at each reload.
    config: Arc<Config>,
    policy: Policy,
    store: Arc<Store>,
    spool: Spool,
    exec: Arc<Executor>,
    /// The unfinished jobs, in acceptance order.
    jobs: BTreeMap<JobId, JobRecord>,
    /// Jobs with an action or a poll round in flight.
    busy: HashSet<JobId>,
    rounds: InFlight,
    tx: mpsc::UnboundedSender<Done>,
    rx: mpsc::UnboundedReceiver<Done>,
    pause: Option<Pause>,
    signals: Signals,
    notifier: Notifier,
    reload: Option<Box<dyn Fn() -> Result<Config, String> + Send>>,
    /// The last SIGHUP's refused config: when, and why (cleared by a good reload).
    reload_refused: Option<(Timestamp, String)>,
    /// The files intake left in `.staging/` at its last pass, and those warned about.
    staged: Vec<StagedDoc>,
    postponed: Postponed,
    last_summary: String,
    last_staged: Vec<StagedDoc>,
    /// The rate-limit waits `daemon.json` shows.
    last_rate_limits: Vec<crate::daemon_status::RateLimitDoc>,
    tasks: tokio::task::JoinSet<()>,
    transitions: u64,
    /// Failed attempts followed by a retry (the step's attempts went up), since start.
    retries: u64,
    finished: BTreeMap<&'static str, u64>,
    cancels: CancelRequests,
    /// Per job with an action in flight: interrupts it (its waits and its call) for a cancel
    /// (`None` once sent).
    interrupts: HashMap<JobId, Option<oneshot::Sender<()>>>,
    /// Jobs canceled while in a poll round: the round's answer for them is ignored.
    left_rounds: HashSet<JobId>,
    /// Set while the store cannot write ([`store_down`]): every job is paused.
    store_down: Option<store_down::StoreDown>,
    /// Jobs read back from the store while they had an action in flight: its answer is
    /// dropped when it arrives.
    stale: HashSet<JobId>,
    /// The requests of `retry/`, `hold/`, `purge/`, and the `[retention]` timer ([`queue`]).
    queue: queue::QueueRequests,
    /// Set while the outcomes of a poll round whose one call failed are applied: that
    /// failure was logged once for the round ([`journal::round_failed`]), not per job.
    round_warned: bool,
}

/// What came of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    /// Committed (or nothing to change); `published`: its status.json was written too.
    Done {
        /// The job's status.json shows the new checkpoint.
        published: bool,
    },
    /// Not committed: the store failed (the daemon pauses until it writes again).
    Failed,
}

impl Commit {
    fn committed(self) -> bool {
        matches!(self, Commit::Done { .. })
    }
}

/// What the loop reports when it stops.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// State transitions committed.
    pub transitions: u64,
    /// Jobs still unfinished at the stop.
    pub unfinished: usize,
}

impl Engine {
    /// Brings the store up to what the spool's status files witness
    /// ([`crate::recovery::reconcile`]: a lost-store alarm for every job the store lost or
    /// holds in an older state), then loads every unfinished job; nothing is sent yet.
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        exec: Arc<Executor>,
        signals: Signals,
        notifier: Notifier,
    ) -> Result<Engine, baseliner_core::store::StoreError> {
        let spool = Spool::new(config.paths.spool.clone());
        // A store that cannot write at start does not stop the daemon (systemd would restart
        // it into the same disk, logging in each time): it starts paused, and reads its
        // jobs once the store writes again.
        let loaded = crate::recovery::reconcile(
            &spool,
            &store,
            &config.job_rules(),
            Timestamp::now(),
        )
        .and_then(|reconciled| {
            if !reconciled.rebuilt.is_empty() || !reconciled.lost.is_empty() {
                tracing::error!(
                    "lost-store alarm: {} job(s) rebuilt from their status files, {} lost for good (see the errors above)",
                    reconciled.rebuilt.len(),
                    reconciled.lost.len()
                );
            }
            // A record that does not decode and had no status file to rebuild it from was
            // named in an ERROR by reconcile: it does not hold every other job back.
            store.scan().map(|scan| scan.records)
        });
        let (records, failed) = match loaded {
            Ok(records) => (records, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let (done, jobs): (Vec<_>, Vec<_>) = records
            .into_iter()
            .partition(|r| r.checkpoint.state.is_terminal());
        let (tx, rx) = mpsc::unbounded_channel();
        let mut engine = Engine {
            policy: config.policy(),
            config,
            store,
            spool,
            exec,
            jobs: jobs.into_iter().map(|r| (r.id.clone(), r)).collect(),
            busy: HashSet::new(),
            rounds: InFlight::default(),
            tx,
            rx,
            pause: None,
            signals,
            notifier,
            reload: None,
            reload_refused: None,
            staged: Vec::new(),
            postponed: Postponed::default(),
            last_summary: String::new(),
            last_staged: Vec::new(),
            last_rate_limits: Vec::new(),
            tasks: tokio::task::JoinSet::new(),
            transitions: 0,
            retries: 0,
            finished: crate::metrics::count_by_step(&done),
            cancels: CancelRequests::default(),
            interrupts: HashMap::new(),
            left_rounds: HashSet::new(),
            store_down: None,
            stale: HashSet::new(),
            queue: queue::QueueRequests::default(),
            round_warned: false,
        };
        if let Some(e) = failed {
            engine.store_failed(&e);
        }
        Ok(engine)
    }

    /// Sets how SIGHUP re-reads the config (a bad config keeps the old one).
    pub fn on_reload(&mut self, f: impl Fn() -> Result<Config, String> + Send + 'static) {
        self.reload = Some(Box::new(f));
    }

    /// Pauses every job (the login check at start, [`crate::probe`]); `None` lifts it.
    pub fn set_pause(&mut self, pause: Option<Pause>) {
        self.pause = pause;
    }

    /// Number of unfinished jobs.
    pub fn unfinished(&self) -> usize {
        self.jobs.len()
    }

    /// Runs until a stop is requested, or — with `until_idle` — until no job is
    /// unfinished. Returns after the calls in flight finished or were abandoned.
    pub async fn run(&mut self, until_idle: bool) -> Summary {
        // Removals a stop interrupted are completed before anything reads the job
        // directories against the store (a record without its directory is never republished).
        if let Err(e) = crate::removal::finish_interrupted(&self.spool, &self.store) {
            tracing::error!("an interrupted removal is not completed yet: {e}");
        }
        self.spool_pass(Timestamp::now());
        // Recovery and the first spool scan are done: tell systemd.
        let summary = self.summary_line();
        self.notifier.ready(&summary);
        tracing::info!("ready: {summary}");
        status::repair(&self.spool, &self.store, || self.signals.stop_requested());
        let paths = &self.config.paths;
        crate::leftovers::sweep(&self.spool, &paths.state, &paths.metrics_file(), || {
            self.signals.stop_requested()
        });
        let now = tokio::time::Instant::now;
        let (mut next_scan, mut next_metrics) = (now() + SCAN_EVERY, now());
        let mut watchdog = self.notifier.watchdog_every().map(|d| (d, now() + d));
        loop {
            if self.signals.stop_requested() {
                break;
            }
            if self.signals.take_reload() {
                self.reload_config();
            }
            self.watch_store();
            let wall = Timestamp::now();
            // While the store cannot write, no file is taken and no cancel applied: they
            // stay queued in the spool until it writes again.
            if now() >= next_scan && !self.store_is_down() {
                self.spool_pass(wall);
                next_scan = now() + SCAN_EVERY;
            }
            self.retention_tick(wall);
            if now() >= next_metrics {
                self.write_metrics();
                next_metrics = now() + METRICS_EVERY;
            }
            if let Some((every, at)) = &mut watchdog {
                if now() >= *at {
                    self.notifier.watchdog();
                    *at = now() + *every;
                }
            }
            self.schedule(wall);
            self.publish_summary();
            if until_idle && self.jobs.is_empty() && self.busy.is_empty() {
                break;
            }
            let wake = schedule::sleep(
                self.view(),
                self.pause_until(),
                wall,
                self.rules(),
                SCAN_EVERY,
            );
            tokio::select! {
                msg = self.rx.recv() => {
                    if let Some(msg) = msg {
                        self.apply(msg);
                    }
                }
                _ = tokio::time::sleep(wake) => {}
            }
            while let Ok(msg) = self.rx.try_recv() {
                self.apply(msg);
            }
            // Reap finished tasks (their results travel through the channel).
            while self.tasks.try_join_next().is_some() {}
        }
        self.stop().await
    }

    async fn stop(&mut self) -> Summary {
        self.notifier.stopping();
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        while !self.busy.is_empty() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => self.apply(msg),
                Ok(None) | Err(_) => break,
            }
        }
        if !self.busy.is_empty() {
            tracing::warn!(
                "stopping with {} call(s) in flight; their jobs resume from their last checkpoint",
                self.busy.len()
            );
        }
        self.tasks.abort_all();
        self.write_metrics();
        if let Err(e) = self.store.flush() {
            tracing::error!("final flush failed: {e}");
        }
        self.write_daemon_status(&format!("stopped; {}", self.summary_line()), false);
        Summary {
            transitions: self.transitions,
            unfinished: self.jobs.len(),
        }
    }

    /// Applies `outcome` to job `id` through the machine, commits, and rewrites its status.
    /// True when the new checkpoint was committed (or nothing changed).
    fn advance(&mut self, id: &JobId, outcome: &Outcome, now: Timestamp) -> bool {
        let Some(rec) = self.jobs.get(id) else {
            return false;
        };
        let ctx = Ctx {
            policy: &self.policy,
            plan: Plan {
                report: rec.job.plan_report(),
                raw: rec.job.results.raw,
            },
            seed: seed_of(rec.id.as_str()),
            scope: &self.config.scope.authorized,
            ips: &rec.job.ips,
            baseline: None,
        };
        let mut next = machine::step(&rec.checkpoint, outcome, now, &ctx);
        // The baseline is looked up once, when the job enters `downloading`; the core keeps it.
        if machine::baseline::entered_downloading(&rec.checkpoint.state, &next.state) {
            let found = crate::outputs::baseline(&self.spool, &self.store, rec);
            let ctx = Ctx {
                baseline: found.as_deref(),
                ..ctx
            };
            next = machine::step(&rec.checkpoint, outcome, now, &ctx);
        }
        self.commit(id, next, now).committed()
    }

    /// Replaces job `id`'s checkpoint with `next` in the store (flushed) and on disk. A
    /// commit that fails leaves the job's record as it was and pauses the daemon until the
    /// store writes again ([`store_down`]).
    fn commit(&mut self, id: &JobId, next: Checkpoint, now: Timestamp) -> Commit {
        let Some(rec) = self.jobs.get(id) else {
            return Commit::Failed;
        };
        if rec.checkpoint == next {
            return Commit::Done { published: true };
        }
        let generation = match self.store.commit(id, &rec.checkpoint, &next) {
            Ok(g) => g,
            Err(e) => {
                tracing::debug!(job_id = id.as_str(), "checkpoint not written: {e}");
                self.store_failed(&e);
                return Commit::Failed;
            }
        };
        let Some(rec) = self.jobs.get_mut(id) else {
            return Commit::Failed;
        };
        let before = rec.checkpoint.state.step_name();
        if next.attempts > rec.checkpoint.attempts && !next.state.is_terminal() {
            self.retries += 1;
        }
        rec.checkpoint = next;
        rec.generation = generation;
        self.transitions += 1;
        journal::transition(before, rec, self.round_warned);
        crate::crashpoint::hit("after-commit");
        crate::crashpoint::hit("before-status");
        let published = status::publish(&self.spool, rec, now);
        if rec.checkpoint.state.is_terminal() {
            let after = rec.checkpoint.state.step_name();
            *self.finished.entry(after.as_str()).or_default() += 1;
            self.jobs.remove(id);
        }
        Commit::Done { published }
    }

    /// The unfinished jobs as the schedule sees them, in acceptance order.
    fn view(&self) -> impl Iterator<Item = Job<'_, JobId>> {
        self.jobs.iter().map(|(id, r)| Job {
            id,
            checkpoint: &r.checkpoint,
            busy: self.busy.contains(id),
            held: r.held,
        })
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            policy: &self.policy,
            max_active_jobs: self.config.limits.max_active_jobs,
        }
    }

    fn pause_until(&self) -> Option<Timestamp> {
        self.effective_pause().map(|p| p.until)
    }

    /// Starts what the schedule says is due.
    fn schedule(&mut self, now: Timestamp) {
        self.lift_ended_pause(now);
        let agenda = schedule::agenda(
            self.view(),
            self.rounds,
            self.pause_until(),
            now,
            self.rules(),
        );
        for start in agenda.starts {
            match start {
                Start::Begin(id) => {
                    self.advance(&id, &Outcome::Start, now);
                }
                Start::Act(id, action) => self.start_action(&id, action, now),
            }
        }
        for (kind, ids) in agenda.rounds {
            self.start_round(kind, ids);
        }
    }

    fn apply(&mut self, msg: Done) {
        let now = Timestamp::now();
        match msg {
            Done::Job { id, outcome } => {
                self.busy.remove(&id);
                self.interrupts.remove(&id);
                if self.stale.remove(&id) {
                    return;
                }
                self.note_pause(&outcome, now);
                self.advance(&id, &outcome, now);
            }
            Done::Round { kind, outcomes } => {
                self.set_round(kind, false);
                if let Some(reason) = journal::shared_failure(&outcomes) {
                    let ids: Vec<&JobId> = outcomes
                        .iter()
                        .map(|(id, _)| id)
                        .filter(|id| !self.left_rounds.contains(*id) && !self.stale.contains(*id))
                        .collect();
                    if !ids.is_empty() {
                        journal::round_failed(kind, &ids, reason);
                    }
                    self.round_warned = true;
                }
                for (id, outcome) in outcomes {
                    // A job canceled during the round took other steps meanwhile.
                    if self.left_rounds.remove(&id) {
                        continue;
                    }
                    self.busy.remove(&id);
                    if self.stale.remove(&id) {
                        continue;
                    }
                    self.note_pause(&outcome, now);
                    self.advance(&id, &outcome, now);
                }
                self.round_warned = false;
            }
            Done::Probe(pause) => self.pause = pause,
        }
    }

    /// A pause whose time is over is lifted (the schedule says when).
    fn lift_ended_pause(&mut self, now: Timestamp) {
        if !schedule::paused(self.pause_until(), now) {
            self.pause = None;
        }
    }

    /// An outcome that pauses every job (an account problem) sets the daemon-wide pause.
    fn note_pause(&mut self, outcome: &Outcome, now: Timestamp) {
        if let Outcome::Deferred {
            until,
            reason,
            scope: DeferScope::Daemon,
        } = outcome
        {
            if *until > now {
                if self.pause.is_none() {
                    tracing::error!("pausing every job until {until}: {reason}");
                }
                self.pause = Some(Pause {
                    until: *until,
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// A per-job jitter seed (FNV-1a of the id): the same job always gets the same jitter.
fn seed_of(id: &str) -> u64 {
    baseliner_core::hash::fnv1a(id.as_bytes())
}
