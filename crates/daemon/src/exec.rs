//! The executor: performs one [`Action`] against Qualys and reports its [`Outcome`].
//!
//! Every call goes through the governor of its API (concurrency slots, open waits), and
//! every answer — success or error — feeds the governor the limit headers it carried.
//! Errors are turned into outcomes here: a 409 is a wait, never a failure; an account
//! problem pauses; an invalid parameter fails the job with Qualys's text; a possibly
//! applied mutation is `Ambiguous`, so the machine looks the object up before retrying.

mod report_file;

use crate::adapt;
use crate::governor::{Governors, Observed};
use crate::held::Held;
use crate::outputs;
use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::machine::adopt;
use baseliner_core::machine::template::{report_basis, ReportBasis};
use baseliner_core::state::{Action, DeferScope, Outcome, ScanInfo, ScanStatus};
use baseliner_core::store::{JobId, JobRecord};
use baseliner_core::time::Timestamp;
use baseliner_qualys::{
    ApiError, Call, Client, ErrorKind, FetchError, Limits, Reply, ReportTarget,
};
use report_file::{report_file_name, report_file_names};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long an account problem pauses every job before the next try.
const ACCOUNT_PAUSE: Duration = Duration::from_secs(300);
/// Wait after a 409 that named no wait.
const DEFAULT_409_WAIT: Duration = Duration::from_secs(60);
/// Wait after a concurrency 409 (another client holds the slots).
const CONCURRENCY_WAIT: Duration = Duration::from_secs(10);

/// Performs actions. Shared by every task; the config can be swapped on reload.
pub struct Executor {
    client: Client,
    gov: Governors,
    /// Which jobs wait for which API's permit (for `daemon.json`).
    held: Held,
    spool: Spool,
    config: RwLock<Arc<Config>>,
    /// The report template list, read at the first pre-flight of a run and read again when
    /// a job names a template it lacks (someone may have added it since).
    templates: tokio::sync::Mutex<Option<Vec<baseliner_qualys::ReportTemplate>>>,
}

impl Executor {
    /// An executor over `client`, with `gov` shared by every job.
    pub fn new(client: Client, gov: Governors, config: Arc<Config>) -> Executor {
        Executor {
            client,
            gov,
            held: Held::default(),
            spool: Spool::new(config.paths.spool.clone()),
            config: RwLock::new(config),
            templates: tokio::sync::Mutex::new(None),
        }
    }

    /// The Qualys client (for the login check, [`crate::probe`]).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The governors (for metrics and tests).
    pub fn governors(&self) -> &Governors {
        &self.gov
    }

    /// The key of every API this client calls (metrics show each from the start).
    pub fn known_apis(&self) -> Vec<String> {
        let mut keys: Vec<String> = Call::ALL.iter().map(|c| self.client.api_for(*c)).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Which jobs wait for which API's permit now.
    pub fn held(&self) -> &Held {
        &self.held
    }

    /// Replaces the config used for later actions (SIGHUP).
    pub fn set_config(&self, cfg: Arc<Config>) {
        let mut g = self.config.write().unwrap_or_else(|p| p.into_inner());
        *g = cfg;
    }

    fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sends one call through its API's governor and feeds back the limits it saw.
    async fn call<T, F>(&self, call: Call, fut: F) -> Result<T, ApiError>
    where
        F: Future<Output = Result<Reply<T>, ApiError>>,
    {
        let key = self.client.api_for(call);
        let permit = self.held.wait(&key, self.gov.acquire(&key)).await;
        self.answer(&key, fut, permit).await
    }

    /// Like [`Executor::call`] for a request behind an intent: it goes out by `send_by` or
    /// not at all, so that the absence proof
    /// ([`baseliner_core::machine::Policy::absent_after`]) covers it. A request that was not
    /// sent, or that Qualys refused with a 409 (a blocked call is not run, qualys-api.md
    /// §2.2), is provably not applied: [`Sent::Unsent`] with the outcome that says so.
    async fn call_by<T, F>(
        &self,
        call: Call,
        fut: F,
        send_by: tokio::time::Instant,
    ) -> Result<Sent<T>, ApiError>
    where
        F: Future<Output = Result<Reply<T>, ApiError>>,
    {
        let key = self.client.api_for(call);
        // Not before another send window, nor before the API's open wait ends: no intent is
        // committed again and again during a long rate-limit wait.
        let unsent = || {
            let later = Timestamp::now().plus(self.config().policy().send_within());
            Sent::Unsent(Outcome::NotSent {
                until: self.gov.wait_until(&key).map_or(later, |w| w.max(later)),
                reason: format!("{key}: not sent, no slot soon enough after its intent"),
            })
        };
        // `timeout_at` polls its future once even past the deadline: check first.
        if tokio::time::Instant::now() >= send_by {
            return Ok(unsent());
        }
        let waited = self.held.wait(&key, self.gov.acquire(&key));
        let Ok(permit) = tokio::time::timeout_at(send_by, waited).await else {
            return Ok(unsent());
        };
        if tokio::time::Instant::now() >= send_by {
            drop(permit);
            return Ok(unsent());
        }
        match self.answer(&key, fut, permit).await {
            Ok(v) => Ok(Sent::Answered(v)),
            // Only the codes that say the call was blocked, not run (qualys-api.md §2.2); an
            // unknown 409 proves nothing and stays a wait in the `…Sent` state.
            Err(e) if e.kind.is_limit() && matches!(e.code, Some(1920 | 1960 | 1965)) => {
                Ok(Sent::Unsent(match outcome_of_error(&e, Timestamp::now()) {
                    Outcome::Deferred { until, reason, .. } => Outcome::NotSent { until, reason },
                    other => other,
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends `fut` holding `permit` and feeds the governor what the answer said.
    async fn answer<T, F>(
        &self,
        key: &str,
        fut: F,
        permit: crate::governor::Permit,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<Reply<T>, ApiError>>,
    {
        let result = fut.await;
        let now = Timestamp::now();
        // Record what the answer said about the limits *before* the slot is freed, so no
        // waiting call slips out inside a wait this answer just opened.
        let result = match result {
            Ok(reply) => {
                self.gov
                    .observe(key, &Observed::from(&reply.limits), false, now);
                Ok(reply.value)
            }
            Err(e) => {
                let conflict = e.kind.is_limit();
                let mut seen = Observed::from(&e.limits);
                if let ErrorKind::RateLimited { wait: Some(w) } = &e.kind {
                    seen.to_wait_sec = Some(seen.to_wait_sec.unwrap_or(0).max(w.as_secs().max(1)));
                }
                self.gov.observe(key, &seen, conflict, now);
                self.gov.count_failure(key, e.kind.class());
                Err(e)
            }
        };
        drop(permit);
        result
    }

    /// Performs `action` for `rec` and reports what came of it. Everything state-dependent
    /// the executor needs comes with the `Action` (the scan to poll, the lookup's lower
    /// bound); the record supplies only the job's identity and spec.
    /// A request behind an intent goes out by `send_by` or not at all (see [`Executor::call_by`]).
    pub async fn perform(
        &self,
        rec: &JobRecord,
        action: &Action,
        send_by: tokio::time::Instant,
    ) -> Outcome {
        let result = match action {
            // Batched by the engine; a single poll is a one-job round.
            Action::PollScan { .. } | Action::PollReport { .. } => {
                let one = [(rec.id.clone(), action.clone())];
                let mut v = match action {
                    Action::PollScan { .. } => self.poll_scans(&one).await,
                    _ => self.poll_reports(&one).await,
                };
                Ok(v.pop().map_or_else(
                    || Outcome::Transient {
                        reason: "empty poll".into(),
                    },
                    |(_, o)| o,
                ))
            }
            _ => self.try_perform(rec, action, send_by).await,
        };
        match result {
            Ok(outcome) => outcome,
            Err(e) => outcome_of_error(&e, Timestamp::now()),
        }
    }

    async fn try_perform(
        &self,
        rec: &JobRecord,
        action: &Action,
        send_by: tokio::time::Instant,
    ) -> Result<Outcome, ApiError> {
        let job = &rec.job;
        let c = &self.client;
        Ok(match action {
            Action::Preflight => self.preflight(rec).await?,
            Action::AddIps => {
                let tracking = adapt::tracking(job.tracking_method);
                self.call(Call::AddIps, c.add_ips(&adapt::ranges(&job.ips), tracking))
                    .await?;
                Outcome::IpsAdded
            }
            Action::FindGroup => self.find_group(rec).await?,
            Action::CreateGroup => self.create_group(rec, send_by).await?,
            Action::ExtendGroup { group_id } => {
                let appliances = self.appliance_ids(job.scanner_appliance.as_deref()).await?;
                let ranges = adapt::ranges(&job.ips);
                match self
                    .call_by(
                        Call::EditAssetGroup,
                        c.edit_asset_group(*group_id, &ranges, &appliances),
                        send_by,
                    )
                    .await?
                {
                    Sent::Answered(_) => Outcome::GroupExtended,
                    Sent::Unsent(o) => o,
                }
            }
            Action::LaunchScan { group_id } => {
                let title = job.scan_title_with_id(rec.id.as_str());
                let launched = match self
                    .call_by(
                        Call::LaunchScan,
                        c.launch_scan(
                            &title,
                            &[*group_id],
                            &job.option_title,
                            job.scanner_appliance.as_deref(),
                        ),
                        send_by,
                    )
                    .await?
                {
                    Sent::Answered(l) => l,
                    Sent::Unsent(o) => return Ok(o),
                };
                Outcome::ScanLaunched(ScanInfo {
                    scan_ref: launched.scan_ref,
                    launched_at: Timestamp::now(),
                    target: None,
                })
            }
            Action::FindScan { launched_after } => self.find_scan(rec, *launched_after).await?,
            Action::LaunchReport { scan_ref } => self.launch_report(rec, scan_ref, send_by).await?,
            Action::FindReport => {
                let reports = self.call(Call::ListReports, c.list_reports(None)).await?;
                let title = job.report_title_with_id(rec.id.as_str());
                match reports
                    .iter()
                    .find(|r| adopt::is_our_report(&r.title, r.report_type.as_deref(), &title))
                {
                    Some(r) => Outcome::ReportFound { report_id: r.id },
                    None => Outcome::ReportAbsent,
                }
            }
            Action::Download {
                scan_ref,
                report_id,
                baseline,
            } => {
                self.download(rec, scan_ref, *report_id, baseline.clone())
                    .await?
            }
            Action::Cancel {
                scan_ref,
                report_id,
            } => {
                let id = rec.id.as_str();
                if let Some(r) = report_id {
                    let sent = self.call(Call::CancelReport, c.cancel_report(*r)).await;
                    already_gone(sent, id, &format!("report {r}"))?;
                }
                if let Some(s) = scan_ref {
                    let sent = self.call(Call::CancelScan, c.cancel_scan(s)).await;
                    already_gone(sent, id, &format!("scan {s}"))?;
                }
                Outcome::CancelDone
            }
            // The engine batches polls (see `perform`) and starts nothing for a finished job.
            Action::PollScan { .. } | Action::PollReport { .. } | Action::Nothing => {
                Outcome::Transient {
                    reason: "nothing to do".into(),
                }
            }
        })
    }

    async fn find_group(&self, rec: &JobRecord) -> Result<Outcome, ApiError> {
        let org = &rec.job.organization;
        let groups = self
            .call(
                Call::ListAssetGroups,
                self.client.list_asset_groups(Some(org)),
            )
            .await?;
        Ok(
            match groups.iter().find(|g| adopt::is_our_group(&g.title, org)) {
                None => Outcome::GroupAbsent,
                // The machine checks the whole set against the job and the scope.
                Some(g) => Outcome::GroupFound {
                    group_id: g.id,
                    ips: adapt::ip_set(&g.ips),
                    unreadable: g.other_ips.clone(),
                },
            },
        )
    }

    async fn create_group(
        &self,
        rec: &JobRecord,
        send_by: tokio::time::Instant,
    ) -> Result<Outcome, ApiError> {
        let job = &rec.job;
        let appliances = self.appliance_ids(job.scanner_appliance.as_deref()).await?;
        let created = self
            .call_by(
                Call::AddAssetGroup,
                self.client.add_asset_group(
                    &job.organization,
                    &adapt::ranges(&job.ips),
                    Some(&job.comments),
                    &appliances,
                ),
                send_by,
            )
            .await;
        match created {
            Ok(Sent::Answered(group_id)) => Ok(Outcome::GroupCreated { group_id }),
            Ok(Sent::Unsent(o)) => Ok(o),
            // Another job (or person) created the group meanwhile: look it up again and
            // extend it, as if this job had found it in the first place.
            Err(e)
                if e.kind == ErrorKind::InvalidParameter && e.text.contains("already exists") =>
            {
                Ok(Outcome::Ambiguous {
                    reason: format!("group created meanwhile: {e}"),
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn find_scan(
        &self,
        rec: &JobRecord,
        launched_after: Timestamp,
    ) -> Result<Outcome, ApiError> {
        let job = &rec.job;
        let scans = self
            .call(
                Call::ListScans,
                self.client
                    .list_scans_launched_after(&launched_after.to_rfc3339()),
            )
            .await?;
        let title = job.scan_title_with_id(rec.id.as_str());
        let cfg = self.config();
        let sent = adopt::ScanSent {
            title: &title,
            group_title: &job.organization,
            ips: &job.ips,
            scope: &cfg.scope.authorized,
        };
        let ours = scans.iter().find(|s| {
            let seen = adopt::ScanSeen {
                title: &s.title,
                asset_groups: &s.asset_groups,
                target: s.target.as_deref(),
            };
            adopt::is_our_scan(&seen, &sent)
        });
        Ok(match ours {
            Some(s) => Outcome::ScanFound(ScanInfo {
                scan_ref: s.scan_ref.clone(),
                launched_at: s
                    .launched_at
                    .as_deref()
                    .and_then(Timestamp::parse_rfc3339)
                    .unwrap_or(launched_after),
                target: None,
            }),
            None => Outcome::ScanAbsent,
        })
    }

    async fn launch_report(
        &self,
        rec: &JobRecord,
        scan_ref: &str,
        send_by: tokio::time::Instant,
    ) -> Result<Outcome, ApiError> {
        let job = &rec.job;
        let Some(template) = job.report_template_id else {
            return Ok(Outcome::Permanent {
                reason: "a report was planned without a template".into(),
            });
        };
        let basis = match self.report_basis(template).await? {
            Ok(b) => b,
            Err(reason) => return Ok(Outcome::Permanent { reason }),
        };
        let refs = [scan_ref];
        let ranges = adapt::ranges(&job.ips);
        let target = match basis {
            ReportBasis::Scan => ReportTarget::Scans(&refs),
            ReportBasis::Hosts => ReportTarget::Ips(&ranges),
        };
        let title = job.report_title_with_id(rec.id.as_str());
        match self
            .call_by(
                Call::LaunchReport,
                self.client
                    .launch_report(template, target, job.report_format.as_str(), &title),
                send_by,
            )
            .await?
        {
            Sent::Answered(report_id) => Ok(Outcome::ReportLaunched { report_id }),
            Sent::Unsent(o) => Ok(o),
        }
    }

    /// The template list, holding `id` if the subscription has it: read at the first need
    /// of a run, and again when it lacks `id` (someone may have added it since); a failed
    /// read is tried again next time.
    async fn templates_knowing(
        &self,
        id: u64,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Vec<baseliner_qualys::ReportTemplate>>>, ApiError>
    {
        let mut cached = self.templates.lock().await;
        if cached
            .as_ref()
            .is_some_and(|list| list.iter().any(|t| t.id == id))
        {
            return Ok(cached);
        }
        let list = self
            .call(
                Call::ListReportTemplates,
                self.client.list_report_templates(),
            )
            .await?;
        *cached = Some(list);
        Ok(cached)
    }

    /// How template `id` is targeted, by the core's rule over the template list
    /// ([`Executor::templates_knowing`]). The inner error names the template.
    async fn report_basis(&self, id: u64) -> Result<Result<ReportBasis, String>, ApiError> {
        let cached = self.templates_knowing(id).await?;
        let list = cached.as_deref().unwrap_or_default();
        Ok(report_basis(id, &adapt::templates(list)))
    }

    /// The pre-flight ([`Action::Preflight`]): the job's report template (when a report is
    /// planned) must be one the report launch will take, by the core's rule
    /// ([`report_basis`]), and its scanner appliance must exist. A job that fails it fails
    /// now, naming the field, before anything is spent. (An unknown option profile is
    /// refused by Qualys at the launch itself, which then launches nothing.)
    async fn preflight(&self, rec: &JobRecord) -> Result<Outcome, ApiError> {
        let job = &rec.job;
        if let Some(template) = job.report_template_id.filter(|_| job.plan_report()) {
            let cached = self.templates_knowing(template).await?;
            let list = cached.as_deref().unwrap_or_default();
            if let Some(reason) = crate::jobcheck::template_problem(job, list) {
                return Ok(Outcome::Permanent { reason });
            }
        }
        if let Some(name) = job.scanner_appliance.as_deref() {
            let list = self
                .call(Call::ListAppliances, self.client.list_appliances())
                .await?;
            if let Err(reason) = crate::jobcheck::appliance_id(name, &list) {
                return Ok(Outcome::Permanent { reason });
            }
        }
        Ok(Outcome::Preflighted)
    }

    async fn appliance_ids(&self, name: Option<&str>) -> Result<Vec<u64>, ApiError> {
        let Some(name) = name else {
            return Ok(Vec::new());
        };
        let list = self
            .call(Call::ListAppliances, self.client.list_appliances())
            .await?;
        match crate::jobcheck::appliance_id(name, &list) {
            Ok(id) => Ok(vec![id]),
            Err(text) => Err(ApiError {
                kind: ErrorKind::InvalidParameter,
                api: self.client.api_for(Call::ListAppliances),
                http_status: None,
                code: None,
                text,
                limits: Limits::default(),
            }),
        }
    }

    async fn download(
        &self,
        rec: &JobRecord,
        scan_ref: &str,
        report_id: Option<u64>,
        baseline: Option<String>,
    ) -> Result<Outcome, ApiError> {
        let dir = self.spool.job_dir(rec.id.as_str());
        if let Some(r) = report_id {
            let format = rec.job.report_format;
            if !report_file_names(format)
                .iter()
                .any(|n| dir.join(n).exists())
            {
                // The client streams to a temporary file, fsyncs and renames it; the file
                // then takes the name its first bytes call for (a zip stays a zip).
                let fetched = dir.join(".report.fetched");
                match self
                    .fetch(Call::FetchReport, self.client.fetch_report(r, &fetched))
                    .await
                {
                    Ok(d) => match report_file_name(format, d.kind) {
                        Ok(name) => {
                            if let Err(e) = crate::fsutil::rename_durable(&fetched, &dir.join(name))
                            {
                                return Ok(Outcome::Transient {
                                    reason: format!("report {r} not kept: {e}"),
                                });
                            }
                        }
                        Err(why) => {
                            let _ = std::fs::remove_file(&fetched);
                            return Ok(Outcome::Transient {
                                reason: format!("report {r}: {why}"),
                            });
                        }
                    },
                    Err(Fetched::Api(e)) if e.kind == ErrorKind::NotReady => {
                        return Ok(Outcome::ReportNotReady)
                    }
                    Err(Fetched::Api(e)) => return Err(e),
                    Err(Fetched::Io(reason)) => return Ok(Outcome::Transient { reason }),
                    Err(Fetched::TooLarge(reason)) => return Ok(Outcome::Permanent { reason }),
                }
            }
        }
        if rec.job.results.raw {
            let target = dir.join("results.json");
            if !target.exists() {
                match self
                    .fetch(Call::FetchScan, self.client.fetch_scan(scan_ref, &target))
                    .await
                {
                    Ok(_) => {}
                    Err(Fetched::Api(e)) => return Err(e),
                    Err(Fetched::Io(reason)) => return Ok(Outcome::Transient { reason }),
                    Err(Fetched::TooLarge(reason)) => return Ok(Outcome::Permanent { reason }),
                }
            }
        }
        // Parsing results and running the alert command block: keep them off the workers.
        let (spool, owned, cfg) = (self.spool.clone(), rec.clone(), self.config());
        let made = tokio::task::spawn_blocking(move || {
            outputs::action_items(&spool, &owned, baseline.as_deref(), &cfg)
        })
        .await;
        match made {
            Ok(Ok(())) => {
                if let Some(url) = self.config().alerts.webhook.clone() {
                    let dir = self.spool.job_dir(rec.id.as_str());
                    if let Err(e) =
                        crate::actions::webhook::send_once(&dir, rec, scan_ref, &url).await
                    {
                        return Ok(Outcome::Transient {
                            reason: format!("alert webhook: {e}"),
                        });
                    }
                }
                Ok(Outcome::Downloaded)
            }
            Ok(Err(e)) => Ok(Outcome::Transient {
                reason: format!("action items: {e}"),
            }),
            Err(e) => Ok(Outcome::Transient {
                reason: format!("action items did not finish: {e}"),
            }),
        }
    }

    /// Like [`Executor::call`] for downloads, whose errors may also be local IO errors.
    async fn fetch<F>(&self, call: Call, fut: F) -> Result<baseliner_qualys::Download, Fetched>
    where
        F: Future<Output = Result<Reply<baseliner_qualys::Download>, FetchError>>,
    {
        // A local failure (writing the file, the size cap) is not the API's: keep it apart
        // so it is not mistaken for a Qualys answer.
        let local = std::sync::Mutex::new(None);
        let result = self
            .call(call, async {
                match fut.await {
                    Ok(r) => Ok(r),
                    Err(FetchError::Api(e)) => Err(e),
                    Err(e) => {
                        let reason = e.to_string();
                        let failure = match e {
                            FetchError::TooLarge { .. } => {
                                Fetched::TooLarge(format!("{reason} ([limits].max_download)"))
                            }
                            _ => Fetched::Io(reason.clone()),
                        };
                        *local.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
                        Err(ApiError {
                            kind: ErrorKind::Transient,
                            api: self.client.api_for(call),
                            http_status: None,
                            code: None,
                            text: reason,
                            limits: Limits::default(),
                        })
                    }
                }
            })
            .await;
        match result {
            Ok(d) => Ok(d),
            Err(e) => Err(local
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(Fetched::Api(e))),
        }
    }

    /// One scan-list call for every [`Action::PollScan`] in `polls` (other actions are
    /// skipped), listing from the earliest lower bound among them.
    pub async fn poll_scans(&self, polls: &[(JobId, Action)]) -> Vec<(JobId, Outcome)> {
        let wanted: Vec<(&JobId, &str, Timestamp)> = polls
            .iter()
            .filter_map(|(id, a)| match a {
                Action::PollScan {
                    scan_ref,
                    listed_after,
                } => Some((id, scan_ref.as_str(), *listed_after)),
                _ => None,
            })
            .collect();
        let Some(after) = wanted.iter().map(|(_, _, t)| *t).min() else {
            return Vec::new();
        };
        let result = self
            .call(
                Call::ListScans,
                self.client.list_scans_launched_after(&after.to_rfc3339()),
            )
            .await;
        match result {
            Ok(scans) => wanted
                .iter()
                .map(|(id, scan_ref, _)| {
                    let o = match scans.iter().find(|x| x.scan_ref == *scan_ref) {
                        Some(x) => Outcome::ScanPolled {
                            status: ScanStatus {
                                state: adapt::scan_state(x.state.as_ref()),
                                sub_state: x.sub_state.clone(),
                                processed: x.processed,
                            },
                            target: x.target.clone(),
                        },
                        None => Outcome::ScanNotListed,
                    };
                    ((*id).clone(), o)
                })
                .collect(),
            Err(e) => {
                let o = outcome_of_error(&e, Timestamp::now());
                wanted
                    .iter()
                    .map(|(id, _, _)| ((*id).clone(), o.clone()))
                    .collect()
            }
        }
    }

    /// One report-list call for every [`Action::PollReport`] in `polls` (other actions are
    /// skipped).
    pub async fn poll_reports(&self, polls: &[(JobId, Action)]) -> Vec<(JobId, Outcome)> {
        let wanted: Vec<(&JobId, u64)> = polls
            .iter()
            .filter_map(|(id, a)| match a {
                Action::PollReport { report_id } => Some((id, *report_id)),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        // The report list takes one `id` or none: one call covers every report either way.
        let one = match wanted.as_slice() {
            [(_, only)] => Some(*only),
            _ => None,
        };
        match self
            .call(Call::ListReports, self.client.list_reports(one))
            .await
        {
            Ok(reports) => wanted
                .iter()
                .map(|(id, rid)| {
                    let st = reports
                        .iter()
                        .find(|x| x.id == *rid)
                        .map(|x| adapt::report_state(x.state.as_ref()));
                    ((*id).clone(), Outcome::ReportPolled(st))
                })
                .collect(),
            Err(e) => {
                let o = outcome_of_error(&e, Timestamp::now());
                wanted
                    .iter()
                    .map(|(id, _)| ((*id).clone(), o.clone()))
                    .collect()
            }
        }
    }
}

/// A cancel that Qualys refuses (the object finished or is gone) has nothing left to do.
// ApiError is large by design (it carries the limit headers); it is returned once per call.
#[allow(clippy::result_large_err)]
fn already_gone<T>(sent: Result<T, ApiError>, job: &str, what: &str) -> Result<(), ApiError> {
    match sent {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind, ErrorKind::InvalidParameter | ErrorKind::Rejected) => {
            tracing::info!(job_id = job, "{what} not cancelable: {e}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// How a request behind an intent ended short of an error: answered, or provably not
/// applied (not sent in time, or refused with a 409) with the outcome that says so.
enum Sent<T> {
    /// Qualys answered it.
    Answered(T),
    /// It was not applied; the outcome ([`Outcome::NotSent`]) sends the job back.
    Unsent(Outcome),
}

/// A download's failure: the API's, or writing the file.
enum Fetched {
    Api(ApiError),
    Io(String),
    /// The body passed `[limits].max_download`: retrying would fetch it again.
    TooLarge(String),
}

/// Turns a classified API error into the machine's outcome.
pub fn outcome_of_error(e: &ApiError, now: Timestamp) -> Outcome {
    let reason = e.to_string();
    match &e.kind {
        ErrorKind::RateLimited { wait } => {
            let until = now.plus(wait.unwrap_or(DEFAULT_409_WAIT));
            Outcome::Deferred {
                until,
                reason: format!("{reason}; waiting until {until}"),
                scope: DeferScope::Job,
            }
        }
        ErrorKind::ConcurrencyLimited => Outcome::Deferred {
            until: now.plus(CONCURRENCY_WAIT),
            reason,
            scope: DeferScope::Job,
        },
        // Credentials, account, registration: every job waits (the engine pauses).
        k if k.is_account_problem() => Outcome::Deferred {
            until: now.plus(ACCOUNT_PAUSE),
            reason: format!("account problem: {reason}"),
            scope: DeferScope::Daemon,
        },
        // Qualys's CODE and text, as the job's failure reason (`CODE 1905 parameter …`).
        ErrorKind::InvalidParameter | ErrorKind::Rejected => Outcome::Permanent {
            reason: match e.code {
                Some(code) => format!("CODE {code} {}", e.text),
                None => e.text.clone(),
            },
        },
        ErrorKind::NotReady => Outcome::ReportNotReady,
        ErrorKind::Ambiguous => Outcome::Ambiguous { reason },
        _ => Outcome::Transient { reason },
    }
}
