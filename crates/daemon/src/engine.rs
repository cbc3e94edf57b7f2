//! The run loop: the driver of the core's state machine.
//!
//! One task owns the jobs and the store's job records (a single writer). Each round it
//! takes in new spool files and cancel requests, picks the jobs whose next action is due
//! (at most `max_active_jobs` jobs in flight, the rest wait in order of acceptance),
//! records and flushes every intent before a request that is not safe to repeat, hands the
//! actions to [`Executor`] tasks, and applies their outcomes through
//! [`baseliner_core::machine::step`], committing each new checkpoint and rewriting the
//! job's `status.json`. Scan polls of every job in flight share one scan-list call per
//! round, and report polls one report-list call.

use crate::exec::Executor;
use crate::intake;
use crate::sdnotify::Notifier;
use crate::signals::Signals;
use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::config::Config;
use baseliner_core::machine::{self, Ctx, Plan, Policy};
use baseliner_core::state::{Action, Checkpoint, DeferScope, JobState, Outcome};
use baseliner_core::store::{JobId, JobRecord, Store};
use baseliner_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often `incoming/` and `cancel/` are scanned.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// The shortest sleep of the run loop (see [`Engine::next_wake`]).
const MIN_SLEEP: Duration = Duration::from_millis(50);
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RoundKind {
    Scans,
    Reports,
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
    config: Arc<Config>,
    policy: Policy,
    store: Arc<Store>,
    spool: Spool,
    exec: Arc<Executor>,
    jobs: BTreeMap<JobId, JobRecord>,
    busy: HashSet<JobId>,
    rounds_busy: HashSet<RoundKind>,
    tx: mpsc::UnboundedSender<Done>,
    rx: mpsc::UnboundedReceiver<Done>,
    pause: Option<Pause>,
    signals: Signals,
    notifier: Notifier,
    reload: Option<Box<dyn Fn() -> Result<Config, String> + Send>>,
    last_summary: String,
    tasks: tokio::task::JoinSet<()>,
    transitions: u64,
    finished: BTreeMap<&'static str, u64>,
    /// Entries of `cancel/` already handled that could not be removed (a directory, …):
    /// skipped from then on, so each is warned about once.
    cancel_junk: HashSet<std::ffi::OsString>,
    /// Per job with an action in flight: interrupts it (its waits and its call) for a cancel
    /// (`None` once sent).
    interrupts: HashMap<JobId, Option<oneshot::Sender<()>>>,
    /// Jobs canceled while in a poll round: the round's answer for them is ignored.
    left_rounds: HashSet<JobId>,
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
    /// Loads every unfinished job from the store; nothing is sent yet.
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        exec: Arc<Executor>,
        signals: Signals,
        notifier: Notifier,
    ) -> Result<Engine, baseliner_core::store::StoreError> {
        let spool = Spool::new(config.paths.spool.clone());
        let mut jobs = BTreeMap::new();
        let mut finished: BTreeMap<&'static str, u64> = BTreeMap::new();
        for rec in store.all()? {
            if rec.checkpoint.state.is_terminal() {
                *finished
                    .entry(rec.checkpoint.state.step_name().as_str())
                    .or_default() += 1;
            } else {
                jobs.insert(rec.id.clone(), rec);
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Engine {
            policy: config.policy(),
            config,
            store,
            spool,
            exec,
            jobs,
            busy: HashSet::new(),
            rounds_busy: HashSet::new(),
            tx,
            rx,
            pause: None,
            signals,
            notifier,
            reload: None,
            last_summary: String::new(),
            tasks: tokio::task::JoinSet::new(),
            transitions: 0,
            finished,
            cancel_junk: HashSet::new(),
            interrupts: HashMap::new(),
            left_rounds: HashSet::new(),
        })
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
        self.spool_pass(Timestamp::now());
        // Recovery and the first spool scan are done: tell systemd.
        let summary = self.summary_line();
        self.notifier.ready(&summary);
        tracing::info!("ready: {summary}");
        self.repair_status_files();
        let mut next_scan = tokio::time::Instant::now() + SCAN_EVERY;
        let mut next_metrics = tokio::time::Instant::now();
        let mut watchdog = self
            .notifier
            .watchdog_every()
            .map(|d| (d, tokio::time::Instant::now() + d));
        loop {
            if self.signals.stop_requested() {
                break;
            }
            if self.signals.take_reload() {
                self.reload_config();
            }
            let now = Timestamp::now();
            if tokio::time::Instant::now() >= next_scan {
                self.spool_pass(now);
                next_scan = tokio::time::Instant::now() + SCAN_EVERY;
            }
            if tokio::time::Instant::now() >= next_metrics {
                self.write_metrics();
                next_metrics = tokio::time::Instant::now() + METRICS_EVERY;
            }
            if let Some((every, at)) = &mut watchdog {
                if tokio::time::Instant::now() >= *at {
                    self.notifier.watchdog();
                    *at = tokio::time::Instant::now() + *every;
                }
            }
            self.schedule(now);
            self.publish_summary();
            if until_idle && self.jobs.is_empty() && self.busy.is_empty() {
                break;
            }
            let wake = self.next_wake(now).min(SCAN_EVERY);
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

    /// A crash between a commit and its status file leaves the file one step behind (for a
    /// finished job, for good): the store is the truth, so every file that disagrees with
    /// it is rewritten. Runs once, after READY, since it may touch every job directory.
    fn repair_status_files(&self) {
        let records = match self.store.all() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("status files not checked: {e}");
                return;
            }
        };
        let now = Timestamp::now();
        let mut repaired = 0usize;
        for rec in records.iter().filter(|r| !status_matches(&self.spool, r)) {
            if self.signals.stop_requested() {
                break; // the next start finishes the repair
            }
            publish_status(&self.spool, rec, now);
            repaired += 1;
        }
        if repaired > 0 {
            tracing::info!("rewrote {repaired} status file(s) that lagged behind the store");
        }
    }

    fn reload_config(&mut self) {
        let Some(reload) = &self.reload else { return };
        match reload() {
            Ok(cfg) => {
                if cfg.paths != self.config.paths {
                    tracing::warn!(
                        "[paths] changes take effect at the next start; keeping the old paths"
                    );
                }
                // The client (server, credentials, transport, download cap) is built once.
                if cfg.qualys != self.config.qualys
                    || cfg.limits.max_download != self.config.limits.max_download
                    || cfg.limits.download_timeout != self.config.limits.download_timeout
                {
                    tracing::warn!(
                        "[qualys] and [limits].max_download changes take effect at the next start; keeping the old ones (so do [limits].download_timeout changes)"
                    );
                }
                let mut cfg = cfg;
                cfg.paths = self.config.paths.clone();
                cfg.qualys = self.config.qualys.clone();
                cfg.limits.max_download = self.config.limits.max_download;
                cfg.limits.download_timeout = self.config.limits.download_timeout;
                self.policy = cfg.policy();
                self.config = Arc::new(cfg);
                self.exec.set_config(self.config.clone());
                tracing::info!("configuration reloaded");
                self.notifier.reloaded("configuration reloaded");
                // The credentials may have been fixed (or broken): check them now.
                let exec = self.exec.clone();
                let tx = self.tx.clone();
                self.tasks.spawn(async move {
                    let _ = tx.send(Done::Probe(crate::probe::check(exec.client()).await));
                });
            }
            Err(e) => tracing::error!("reload refused, keeping the running configuration: {e}"),
        }
    }

    /// Intake and cancel requests.
    fn spool_pass(&mut self, now: Timestamp) {
        let rules = self.config.job_rules();
        let report = intake::scan(&self.spool, &self.store, &rules, now);
        for rec in report.accepted {
            self.jobs.insert(rec.id.clone(), rec);
        }
        self.cancel_pass(now);
    }

    fn cancel_pass(&mut self, now: Timestamp) {
        let Ok(rd) = std::fs::read_dir(self.spool.cancel()) else {
            return;
        };
        for e in rd.flatten() {
            let file_name = e.file_name();
            if self.cancel_junk.contains(&file_name) {
                continue;
            }
            let name = file_name.to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            let Some(id) = JobId::parse(&name).filter(|_| is_file) else {
                let why = if is_file {
                    "not a job id"
                } else {
                    "not a regular file"
                };
                tracing::warn!("ignoring cancel request {name:?}: {why}");
                if !is_file || std::fs::remove_file(e.path()).is_err() {
                    self.cancel_junk.insert(file_name);
                }
                continue;
            };
            if self.busy.contains(&id) && self.jobs.contains_key(&id) {
                tracing::info!(job_id = id.as_str(), "cancel requested: interrupting");
                match self.interrupts.get_mut(&id) {
                    // Its task stops waiting and calling, and reports the cancel.
                    Some(stop) => {
                        if let Some(stop) = stop.take() {
                            let _ = stop.send(());
                        }
                    }
                    // In a poll round: applied now, the round's answer is ignored later.
                    None => {
                        self.busy.remove(&id);
                        self.left_rounds.insert(id.clone());
                        self.advance(&id, &Outcome::CancelRequested, now);
                    }
                }
            } else if self.jobs.contains_key(&id) {
                tracing::info!(job_id = id.as_str(), "cancel requested");
                self.advance(&id, &Outcome::CancelRequested, now);
            } else {
                tracing::warn!(
                    job_id = id.as_str(),
                    "cancel request for a job that is not running"
                );
            }
            if std::fs::remove_file(e.path()).is_err() {
                self.cancel_junk.insert(file_name);
            }
        }
    }

    fn ctx_for(&self, rec: &JobRecord) -> (Plan, u64) {
        let plan = Plan {
            report: rec.job.plan_report(),
        };
        (plan, seed_of(rec.id.as_str()))
    }

    /// Applies `outcome` to job `id`, commits, and rewrites its status file.
    fn advance(&mut self, id: &JobId, outcome: &Outcome, now: Timestamp) {
        let Some(rec) = self.jobs.get(id) else { return };
        let (plan, seed) = self.ctx_for(rec);
        let ctx = Ctx {
            policy: &self.policy,
            plan,
            seed,
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
        self.commit(id, next, now);
    }

    /// Replaces job `id`'s checkpoint with `next` in the store (flushed) and on disk.
    fn commit(&mut self, id: &JobId, next: Checkpoint, now: Timestamp) -> bool {
        let Some(rec) = self.jobs.get_mut(id) else {
            return false;
        };
        if rec.checkpoint == next {
            return true;
        }
        if let Err(e) = self.store.commit(id, &rec.checkpoint, &next) {
            tracing::error!(
                job_id = id.as_str(),
                "checkpoint not written, the step will be retried: {e}"
            );
            return false;
        }
        let before = rec.checkpoint.state.step_name();
        rec.checkpoint = next;
        self.transitions += 1;
        let after = rec.checkpoint.state.step_name();
        if let JobState::Canceling {
            fail_reason: Some(why),
            ..
        } = &rec.checkpoint.state
        {
            tracing::error!(job_id = id.as_str(), "canceling the scan: {why}");
        } else if let JobState::Failed { reason, .. } = &rec.checkpoint.state {
            tracing::warn!(
                job_id = id.as_str(),
                step = after.as_str(),
                scan_ref = rec.checkpoint.state.scan_ref().unwrap_or(""),
                "{} -> failed: {reason}",
                before.as_str(),
            );
        } else if before != after {
            tracing::info!(
                job_id = id.as_str(),
                step = after.as_str(),
                scan_ref = rec.checkpoint.state.scan_ref().unwrap_or(""),
                "{} -> {}",
                before.as_str(),
                after.as_str(),
            );
        } else if let Some(err) = &rec.checkpoint.last_error {
            tracing::warn!(
                job_id = id.as_str(),
                step = after.as_str(),
                "retrying: {err}"
            );
        }
        crate::crashpoint::hit("after-commit");
        crate::crashpoint::hit("before-status");
        publish_status(&self.spool, rec, now);
        if rec.checkpoint.state.is_terminal() {
            *self.finished.entry(after.as_str()).or_default() += 1;
            self.jobs.remove(id);
        }
        true
    }

    /// The jobs allowed to act: the first `max_active_jobs` unfinished ones, in order of
    /// acceptance.
    fn admitted(&self) -> Vec<JobId> {
        self.jobs
            .keys()
            .take(self.config.limits.max_active_jobs)
            .cloned()
            .collect()
    }

    fn paused(&self, now: Timestamp) -> bool {
        self.pause.as_ref().is_some_and(|p| p.until > now)
    }

    /// Starts every due action.
    fn schedule(&mut self, now: Timestamp) {
        if self.paused(now) {
            return;
        }
        self.pause = None;
        let mut scan_polls = Vec::new();
        let mut report_polls = Vec::new();
        for id in self.admitted() {
            if self.busy.contains(&id) {
                continue;
            }
            let Some(rec) = self.jobs.get(&id) else {
                continue;
            };
            if rec.checkpoint.state == JobState::Accepted {
                self.advance(&id, &Outcome::Start, now);
                continue;
            }
            let poll_window = match &rec.checkpoint.state {
                JobState::ScanRunning { .. } => self.policy.scan_every / 2,
                JobState::ReportRunning { .. } => self.policy.report_every / 2,
                _ => Duration::ZERO,
            };
            if rec.checkpoint.due > now.plus(poll_window) {
                continue;
            }
            let action = machine::action(&rec.checkpoint.state, &self.policy);
            match action {
                Action::Nothing => {}
                // Coalesce: a job whose next poll is due within half a poll interval joins
                // the round (it costs no extra call), so the jobs in flight settle on one
                // shared cadence — but a scan never joins before its first check.
                Action::PollScan { .. } => {
                    let first_check_passed = match &rec.checkpoint.state {
                        JobState::ScanRunning { scan, .. } => {
                            now >= scan.launched_at.plus(self.policy.scan_first_check)
                        }
                        _ => false,
                    };
                    if rec.checkpoint.due <= now || first_check_passed {
                        scan_polls.push(id.clone());
                    }
                }
                Action::PollReport { .. } => report_polls.push(id.clone()),
                action => self.start_action(&id, action, now),
            }
        }
        // A round starts once its most overdue job has waited half a poll interval (at most
        // a minute, see `wake_at`): polls are late by that much at worst, never early, and
        // jobs whose checks fall close together share one call.
        let ready = |ids: &[JobId]| {
            ids.iter()
                .filter_map(|i| self.jobs.get(i))
                .any(|r| self.wake_at(r) <= now)
        };
        let scans_ready = ready(&scan_polls);
        let reports_ready = ready(&report_polls);
        if scans_ready {
            self.start_round(RoundKind::Scans, scan_polls);
        }
        if reports_ready {
            self.start_round(RoundKind::Reports, report_polls);
        }
    }

    fn start_action(&mut self, id: &JobId, action: Action, now: Timestamp) {
        let needs_intent = self
            .jobs
            .get(id)
            .is_some_and(|r| machine::needs_intent(&r.checkpoint.state));
        if needs_intent {
            let Some(rec) = self.jobs.get(id) else { return };
            let Some(intent) = machine::intent(&rec.checkpoint, now) else {
                tracing::error!(
                    job_id = id.as_str(),
                    "no intent for {action:?}; not sending"
                );
                return;
            };
            crate::crashpoint::hit("before-intent");
            // Intent before effect: the flushed checkpoint says the request may be out.
            if !self.commit(id, intent, now) {
                return;
            }
            crate::crashpoint::hit("after-intent");
        }
        let Some(rec) = self.jobs.get(id).cloned() else {
            return;
        };
        self.busy.insert(id.clone());
        let exec = self.exec.clone();
        let tx = self.tx.clone();
        let id = id.clone();
        let (stop, stopped) = oneshot::channel();
        self.interrupts.insert(id.clone(), Some(stop));
        self.tasks.spawn(async move {
            // A cancel drops the action where it is: a governor wait, a call in flight, a
            // download (whose temporary file the client removes).
            let outcome = tokio::select! {
                o = exec.perform(&rec, &action) => o,
                Ok(()) = stopped => Outcome::CancelRequested,
            };
            if needs_intent {
                crate::crashpoint::hit("after-effect");
            }
            let _ = tx.send(Done::Job { id, outcome });
        });
    }

    fn start_round(&mut self, kind: RoundKind, ids: Vec<JobId>) {
        if !self.rounds_busy.insert(kind) {
            return;
        }
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
        for id in &ids {
            self.busy.insert(id.clone());
        }
        let exec = self.exec.clone();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            let outcomes = match kind {
                RoundKind::Scans => exec.poll_scans(&polls).await,
                RoundKind::Reports => exec.poll_reports(&polls).await,
            };
            let _ = tx.send(Done::Round { kind, outcomes });
        });
    }

    fn apply(&mut self, msg: Done) {
        let now = Timestamp::now();
        match msg {
            Done::Job { id, outcome } => {
                self.busy.remove(&id);
                self.interrupts.remove(&id);
                self.note_pause(&outcome, now);
                self.advance(&id, &outcome, now);
            }
            Done::Round { kind, outcomes } => {
                self.rounds_busy.remove(&kind);
                for (id, outcome) in outcomes {
                    // A job canceled during the round took other steps meanwhile.
                    if self.left_rounds.remove(&id) {
                        continue;
                    }
                    self.busy.remove(&id);
                    self.note_pause(&outcome, now);
                    self.advance(&id, &outcome, now);
                }
            }
            Done::Probe(pause) => self.pause = pause,
        }
    }

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

    /// When a job needs the loop: its due time, plus the gathering time for polls.
    fn wake_at(&self, rec: &JobRecord) -> Timestamp {
        let every = match &rec.checkpoint.state {
            JobState::ScanRunning { .. } => self.policy.scan_every,
            JobState::ReportRunning { .. } => self.policy.report_every,
            _ => return rec.checkpoint.due,
        };
        rec.checkpoint
            .due
            .plus((every / 2).min(Duration::from_secs(60)))
    }

    /// How long the loop may sleep. A job due now that could not start (a poll round of
    /// its kind in flight, a round still gathering) must not make the loop spin: results
    /// wake it through the channel anyway, so the sleep has a floor.
    fn next_wake(&self, now: Timestamp) -> Duration {
        if let Some(p) = self.pause.as_ref().filter(|p| p.until > now) {
            return now.until(p.until).min(SCAN_EVERY);
        }
        // The admitted jobs (see `admitted`), read in place: this runs every loop turn.
        self.jobs
            .iter()
            .take(self.config.limits.max_active_jobs)
            .filter(|(id, _)| !self.busy.contains(*id))
            .map(|(_, r)| now.until(self.wake_at(r)))
            .min()
            .unwrap_or(SCAN_EVERY)
            .max(MIN_SLEEP)
    }

    fn write_metrics(&self) {
        let mut snap = crate::metrics::Snapshot {
            jobs: self.finished.clone(),
            apis: self.exec.governors().stats(),
            oldest_active: self.jobs.values().map(|r| r.accepted_at).min(),
            paused: self.pause.is_some(),
            transitions: self.transitions,
            alert_failures: crate::metrics::alert_failures(),
        };
        for r in self.jobs.values() {
            *snap
                .jobs
                .entry(r.checkpoint.state.step_name().as_str())
                .or_default() += 1;
        }
        let text = crate::metrics::render(&snap, Timestamp::now());
        let path = self.config.paths.metrics_file();
        if let Err(e) = crate::fsutil::write_atomic(&path, text.as_bytes()) {
            tracing::warn!("metrics file {} not written: {e}", path.display());
        }
    }

    fn summary_line(&self) -> String {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for r in self.jobs.values() {
            *counts
                .entry(r.checkpoint.state.step_name().as_str())
                .or_default() += 1;
        }
        let mut s = format!("{} unfinished job(s)", self.jobs.len());
        for (k, v) in counts {
            s.push_str(&format!(", {v} {k}"));
        }
        if let Some(p) = &self.pause {
            s.push_str(&format!("; PAUSED until {}: {}", p.until, p.reason));
        }
        s
    }

    /// Rewrites `daemon.json` ([`crate::daemon_status`]); `running` is false at a clean stop.
    fn write_daemon_status(&self, line: &str, running: bool) {
        let paused = self.pause.as_ref().map(|p| crate::daemon_status::PauseDoc {
            until: p.until.to_rfc3339(),
            reason: p.reason.clone(),
        });
        let mut doc =
            crate::daemon_status::DaemonStatus::now(line.to_owned(), self.jobs.len(), paused);
        doc.running = running;
        if let Err(e) = crate::daemon_status::write(&self.spool, &doc) {
            tracing::warn!("{} not written: {e}", self.spool.daemon_status().display());
        }
    }

    fn publish_summary(&mut self) {
        let line = self.summary_line();
        if line != self.last_summary {
            self.notifier.status(&line);
            self.write_daemon_status(&line, true);
            self.last_summary = line;
        }
    }
}

/// Rewrites `jobs/ID/status.json` from the record (and the outputs on disk).
fn publish_status(spool: &Spool, rec: &JobRecord, now: Timestamp) {
    let id = rec.id.as_str();
    let outputs = crate::outputs::list(spool, id);
    let alert = crate::actions::alert_summary(&spool.job_dir(id));
    let st = JobStatus::from_record(rec, now, outputs, alert);
    if let Err(e) = status::write(spool, &st) {
        tracing::error!(job_id = id, "status.json not written: {e}");
    }
}

/// True when `jobs/ID/status.json` says what the record says (its write time aside).
fn status_matches(spool: &Spool, rec: &JobRecord) -> bool {
    match status::read(&spool.status_file(rec.id.as_str())) {
        Ok(on_disk) => {
            let id = rec.id.as_str();
            let outputs = crate::outputs::list(spool, id);
            let alert = crate::actions::alert_summary(&spool.job_dir(id));
            let mut current = JobStatus::from_record(rec, Timestamp(0), outputs, alert);
            current.updated_at = on_disk.updated_at.clone();
            current == on_disk
        }
        Err(_) => false,
    }
}

/// A per-job jitter seed (FNV-1a of the id): the same job always gets the same jitter.
fn seed_of(id: &str) -> u64 {
    baseliner_core::hash::fnv1a(id.as_bytes())
}
