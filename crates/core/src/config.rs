//! The daemon's TOML config (SPEC.md "Config (TOML)"), read into typed sections.
//!
//! Every key has a default except `[qualys].url`, `[qualys].username` and
//! `[scope].authorized`. Errors name the key as `[section].key` and quote the value; unknown
//! sections and keys are refused by name. The config yields the state machine's timings
//! ([`Config::policy`]) and the job validation rules ([`Config::job_rules`]).

mod read;
mod retention;
mod url;

use crate::ip::{IpError, IpSet};
use crate::job::{JobDefaults, JobRules, ReportFormat, Results, DEFAULT_MAX_ADDRESSES};
use crate::machine::Policy;
use read::Section;
pub use retention::RetentionConfig;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;
use toml::{Table, Value};

/// Why the config was refused. Display names the key (`[qualys].url: …`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// Not valid TOML.
    #[error("invalid TOML: {message}")]
    Syntax {
        /// Where and what, on one line.
        message: String,
    },
    /// A section the config does not have.
    #[error(
        "unknown section [{name}] (known: qualys, paths, polling, limits, scope, defaults, alerts)"
    )]
    UnknownSection {
        /// Its name.
        name: String,
    },
    /// A key its section does not have.
    #[error("unknown key {key}")]
    UnknownKey {
        /// `[section].key`.
        key: String,
    },
    /// A required key is absent.
    #[error("{key}: required")]
    Missing {
        /// `[section].key`.
        key: String,
    },
    /// A value of the wrong type.
    #[error("{key}: expected {expected}, found {found}")]
    WrongType {
        /// `[section].key`.
        key: String,
        /// What it should be.
        expected: &'static str,
        /// The value, shortened.
        found: String,
    },
    /// A value of the right type that is not acceptable.
    #[error("{key} = {value}: {reason}")]
    Invalid {
        /// `[section].key`.
        key: String,
        /// The value, shortened.
        value: String,
        /// Why.
        reason: String,
    },
    /// An entry of `[scope].authorized` does not parse.
    #[error("[scope].authorized: {0}")]
    Authorized(#[from] IpError),
}

/// Which asset API adds IPs and groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetApi {
    /// `/api/2.0/fo/asset/ip/` and `/api/2.0/fo/asset/group/` (default).
    V2,
    /// The original `asset_ip.php` / `asset_group.php`.
    V1,
}

/// Which scan list API polls scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanListApi {
    /// `/api/3.0/fo/scan/` (default).
    V3,
    /// `/api/2.0/fo/scan/`.
    V2,
}

/// `[qualys]`: the API server and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualysConfig {
    /// The platform's API server, without a trailing `/`. https, or http to loopback only.
    pub url: String,
    /// API user name.
    pub username: String,
    /// File holding the password; else `$CREDENTIALS_DIRECTORY/qualys-password`, else
    /// `$BASELINER_QUALYS_PASSWORD` (looked up by the daemon, not here).
    pub password_file: Option<PathBuf>,
    /// Asset API version (`"v2"` default, `"v1"`).
    pub asset_api: AssetApi,
    /// Whole-request timeout (default 120s).
    pub request_timeout: Duration,
    /// Connect timeout (default 30s).
    pub connect_timeout: Duration,
    /// HTTP(S) proxy URL.
    pub proxy: Option<String>,
    /// Extra CA certificate file (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// Scan list API version (`"v3"` default, `"v2"`).
    pub scan_list_api: ScanListApi,
}

/// `[paths]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathsConfig {
    /// The spool (default `/var/spool/baseliner`).
    pub spool: PathBuf,
    /// The state directory (default `/var/lib/baseliner`).
    pub state: PathBuf,
    /// The metrics file (default `STATE/baseliner.prom`); see [`PathsConfig::metrics_file`].
    pub metrics: Option<PathBuf>,
}

impl PathsConfig {
    /// Where the metrics file is written: `[paths].metrics`, else `STATE/baseliner.prom`.
    pub fn metrics_file(&self) -> PathBuf {
        self.metrics
            .clone()
            .unwrap_or_else(|| self.state.join("baseliner.prom"))
    }
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            spool: PathBuf::from("/var/spool/baseliner"),
            state: PathBuf::from("/var/lib/baseliner"),
            metrics: None,
        }
    }
}

/// `[polling]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollingConfig {
    /// First scan poll after the launch (default 7m).
    pub scan_first_check: Duration,
    /// Scan polls every (default 5m).
    pub scan_every: Duration,
    /// Report polls every (default 1m).
    pub report_every: Duration,
    /// A scan older than this, or a report running longer, fails its job (default 72h).
    pub give_up_after: Duration,
    /// First retry delay after a transient failure; doubles each attempt (default 5s).
    pub retry_first: Duration,
    /// Longest retry delay while failures are young (default 10m; after an hour of
    /// failures the cap is an hour).
    pub retry_max: Duration,
    /// A lookup that finds nothing after a launch (group create/extend, scan, report)
    /// proves it absent only `[qualys].request_timeout` plus this long after it was sent
    /// (default 90s, qualys-api.md §2.4).
    pub absence_margin: Duration,
}

impl Default for PollingConfig {
    /// The same timings as [`Policy::default`].
    fn default() -> Self {
        let p = Policy::default();
        PollingConfig {
            scan_first_check: p.scan_first_check,
            scan_every: p.scan_every,
            report_every: p.report_every,
            give_up_after: p.give_up_after,
            retry_first: p.retry_base,
            retry_max: p.retry_cap,
            absence_margin: p.absence_margin,
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Jobs in progress at once (default 20, at least 1).
    pub max_active_jobs: usize,
    /// Addresses per job (default 65,536).
    pub max_addresses: u64,
    /// Largest file one download (raw results, a report) may write (default 20 GiB); a
    /// larger body is removed and fails the job, so it cannot fill the disk the store is on.
    pub max_download: u64,
    /// Longest one download (raw results, a report) may take in all (default 4h): a body
    /// trickling in slower is abandoned and retried, so no job waits on it forever.
    pub download_timeout: Duration,
}

/// The default of `[limits].download_timeout`: 4 hours (20 GiB at about 1.5 MB/s).
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

/// The default of `[limits].max_download`: 20 GiB.
pub const DEFAULT_MAX_DOWNLOAD: u64 = 20 << 30;

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_active_jobs: 20,
            max_addresses: DEFAULT_MAX_ADDRESSES,
            max_download: DEFAULT_MAX_DOWNLOAD,
            download_timeout: DEFAULT_DOWNLOAD_TIMEOUT,
        }
    }
}

/// `[scope]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeConfig {
    /// Addresses jobs may scan. Empty: every job is refused.
    pub authorized: IpSet,
    /// Private/reserved addresses allowed for jobs naming a scanner appliance (default false).
    pub allow_private: bool,
}

/// `[defaults]`: the values jobs take when they do not set them.
pub type DefaultsConfig = JobDefaults;

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Alert when a finding reaches this severity (1 to 5, default 4).
    pub min_severity: u8,
    /// Program and arguments to run (the job id and the summary path are appended).
    pub command: Option<Vec<String>>,
    /// URL to POST the alert to.
    pub webhook: Option<String>,
    /// The command is killed after this long (default 60s).
    pub command_timeout: Duration,
    /// The webhook's payload shape (default `json`).
    pub webhook_format: WebhookFormat,
}

// ---- [alerts].webhook_format and [remediation] (action items) ----

/// `[alerts].webhook_format`: the shape of the webhook's POST body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// baseliner's own JSON object (job_id, organization, ips, …).
    #[default]
    Json,
    /// A Slack incoming-webhook message (`text` and `blocks`).
    Slack,
    /// A Microsoft Teams Workflows webhook message with an Adaptive Card attachment.
    Teams,
}

impl WebhookFormat {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
        }
    }
}

/// `[remediation]`: days allowed to fix a finding, by severity (index 1–5; `None`: no
/// deadline). Defaults: 5 → 7 days, 4 → 30, 3 → 90, 2 and 1 none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationConfig {
    /// Days per severity; index 0 (unknown severity) is always `None`.
    pub days: [Option<u32>; 6],
}

impl Default for RemediationConfig {
    fn default() -> Self {
        RemediationConfig {
            days: [None, None, None, Some(90), Some(30), Some(7)],
        }
    }
}

impl RemediationConfig {
    /// The days allowed for `severity` (none for an unknown severity or an unset one).
    pub fn days_for(&self, severity: u8) -> Option<u32> {
        self.days.get(usize::from(severity)).copied().flatten()
    }

    /// The date (`YYYY-MM-DD`, UTC) a finding of `severity` found by a scan at `scan_date`
    /// is due, or `None` when its severity has no deadline.
    pub fn due(&self, severity: u8, scan_date: crate::time::Timestamp) -> Option<String> {
        let days = self.days_for(severity)?;
        let due = scan_date.plus(Duration::from_secs(u64::from(days) * 86_400));
        Some(due.to_rfc3339().chars().take(10).collect())
    }
}

// ---- end of the action-items blocks ----

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            min_severity: 4,
            command: None,
            webhook: None,
            command_timeout: Duration::from_secs(60),
            webhook_format: WebhookFormat::Json,
        }
    }
}

/// The whole config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[qualys]`.
    pub qualys: QualysConfig,
    /// `[paths]`.
    pub paths: PathsConfig,
    /// `[polling]`.
    pub polling: PollingConfig,
    /// `[limits]`.
    pub limits: LimitsConfig,
    /// `[scope]`.
    pub scope: ScopeConfig,
    /// `[defaults]`.
    pub defaults: DefaultsConfig,
    /// `[alerts]`.
    pub alerts: AlertsConfig,
    /// `[remediation]`.
    pub remediation: RemediationConfig,
    /// `[retention]`.
    pub retention: RetentionConfig,
}

/// The sections, in the order they are documented.
const SECTIONS: &[&str] = &[
    "qualys",
    "paths",
    "polling",
    "limits",
    "scope",
    "defaults",
    "alerts",
    "remediation",
    "retention",
];

impl Config {
    /// Parses and validates the config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let root: Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            message: syntax_message(text, &e),
        })?;
        if let Some(name) = root.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
            return Err(match root.get(name) {
                Some(Value::Table(_)) => ConfigError::UnknownSection { name: name.clone() },
                _ => ConfigError::UnknownKey { key: name.clone() },
            });
        }
        Ok(Config {
            qualys: qualys(&root)?,
            paths: paths(&root)?,
            polling: polling(&root)?,
            limits: limits(&root)?,
            scope: scope(&root)?,
            defaults: defaults(&root)?,
            alerts: alerts(&root)?,
            remediation: remediation(&root)?,
            retention: retention::retention(&root)?,
        })
    }

    /// A config for `baseliner demo`: the simulator at `url` (user `demo`), the given spool
    /// and state directories, `authorized` as the scope (comma- or blank-separated entries;
    /// if they do not parse the scope is empty and every job is refused), defaults elsewhere.
    /// The caller shortens the timings on the returned value.
    pub fn demo(url: &str, spool: PathBuf, state: PathBuf, authorized: &str) -> Config {
        let entries: Vec<&str> = authorized
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        Config {
            qualys: QualysConfig {
                url: url.trim_end_matches('/').to_owned(),
                username: "demo".to_owned(),
                password_file: None,
                asset_api: AssetApi::V2,
                request_timeout: Duration::from_secs(120),
                connect_timeout: Duration::from_secs(30),
                proxy: None,
                ca_file: None,
                scan_list_api: ScanListApi::V3,
            },
            paths: PathsConfig {
                spool,
                state,
                metrics: None,
            },
            polling: PollingConfig::default(),
            limits: LimitsConfig::default(),
            scope: ScopeConfig {
                authorized: IpSet::parse_entries(&entries).unwrap_or_default(),
                allow_private: false,
            },
            defaults: DefaultsConfig::default(),
            alerts: AlertsConfig::default(),
            remediation: RemediationConfig::default(),
            retention: RetentionConfig::default(),
        }
    }

    /// The state machine's timings: `[polling]`, and built-in values for the rest.
    pub fn policy(&self) -> Policy {
        Policy {
            scan_first_check: self.polling.scan_first_check,
            scan_every: self.polling.scan_every,
            report_every: self.polling.report_every,
            give_up_after: self.polling.give_up_after,
            retry_base: self.polling.retry_first,
            retry_cap: self.polling.retry_max,
            request_timeout: self.qualys.request_timeout,
            absence_margin: self.polling.absence_margin,
            ..Policy::default()
        }
    }

    /// The rules job files are validated against.
    pub fn job_rules(&self) -> JobRules {
        JobRules {
            authorized: self.scope.authorized.clone(),
            allow_private: self.scope.allow_private,
            max_addresses: self.limits.max_addresses,
            defaults: self.defaults.clone(),
        }
    }
}

/// A TOML error as `line L, column C: message`, on one line.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// `[qualys]`.
fn qualys(root: &Table) -> Result<QualysConfig, ConfigError> {
    let s = Section::new(
        root,
        "qualys",
        &[
            "url",
            "username",
            "password_file",
            "asset_api",
            "request_timeout",
            "connect_timeout",
            "proxy",
            "ca_file",
            "scan_list_api",
        ],
    )?;
    let url = s.string("url")?.ok_or_else(|| s.missing("url"))?;
    check_qualys_url(&s, &url)?;
    let proxy = s.string("proxy")?;
    if let Some(p) = &proxy {
        check_url(&s, "proxy", p, &["http", "https", "socks5", "socks5h"])?;
    }
    Ok(QualysConfig {
        url: url.trim_end_matches('/').to_owned(),
        username: s.string("username")?.ok_or_else(|| s.missing("username"))?,
        password_file: s.path("password_file")?,
        asset_api: choice(
            &s,
            "asset_api",
            &[("v2", AssetApi::V2), ("v1", AssetApi::V1)],
        )?
        .unwrap_or(AssetApi::V2),
        request_timeout: s
            .duration("request_timeout")?
            .unwrap_or(Duration::from_secs(120)),
        connect_timeout: s
            .duration("connect_timeout")?
            .unwrap_or(Duration::from_secs(30)),
        proxy,
        ca_file: s.path("ca_file")?,
        scan_list_api: choice(
            &s,
            "scan_list_api",
            &[("v3", ScanListApi::V3), ("v2", ScanListApi::V2)],
        )?
        .unwrap_or(ScanListApi::V3),
    })
}

/// The API URL: https, or plain http to a loopback host (the simulator); no credentials.
fn check_qualys_url(s: &Section<'_>, url: &str) -> Result<(), ConfigError> {
    let parts = check_url(s, "url", url, &["https", "http"])?;
    let value = Value::String(url.to_owned());
    if parts.has_userinfo {
        return Err(s.invalid(
            "url",
            &value,
            "credentials do not belong in the URL (use username and password_file)",
        ));
    }
    if parts.scheme == "http" && !parts.is_loopback() {
        return Err(s.invalid(
            "url",
            &value,
            "plain http is allowed only to a loopback host (127.0.0.0/8, ::1, localhost); use https",
        ));
    }
    Ok(())
}

/// Checks `url` is a URL with one of `schemes`; returns its parts.
fn check_url<'u>(
    s: &Section<'_>,
    key: &str,
    url: &'u str,
    schemes: &[&str],
) -> Result<url::UrlParts<'u>, ConfigError> {
    let value = Value::String(url.to_owned());
    let parts = url::parse(url).map_err(|why| s.invalid(key, &value, why))?;
    if !schemes.contains(&parts.scheme.as_str()) {
        return Err(s.invalid(
            key,
            &value,
            format!("scheme must be one of {}", schemes.join(", ")),
        ));
    }
    Ok(parts)
}

/// A string key with a fixed set of values.
fn choice<T: Copy>(
    s: &Section<'_>,
    key: &str,
    options: &[(&str, T)],
) -> Result<Option<T>, ConfigError> {
    let Some(v) = s.string(key)? else {
        return Ok(None);
    };
    match options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&v))
    {
        Some((_, t)) => Ok(Some(*t)),
        None => {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("{n:?}")).collect();
            Err(s.invalid(
                key,
                &Value::String(v),
                format!("must be {}", names.join(" or ")),
            ))
        }
    }
}

/// `[paths]`.
fn paths(root: &Table) -> Result<PathsConfig, ConfigError> {
    let s = Section::new(root, "paths", &["spool", "state", "metrics"])?;
    let d = PathsConfig::default();
    Ok(PathsConfig {
        spool: s.path("spool")?.unwrap_or(d.spool),
        state: s.path("state")?.unwrap_or(d.state),
        metrics: s.path("metrics")?,
    })
}

/// `[polling]`.
fn polling(root: &Table) -> Result<PollingConfig, ConfigError> {
    let s = Section::new(
        root,
        "polling",
        &[
            "scan_first_check",
            "scan_every",
            "report_every",
            "give_up_after",
            "retry_first",
            "retry_max",
            "absence_margin",
        ],
    )?;
    let d = PollingConfig::default();
    Ok(PollingConfig {
        scan_first_check: s
            .duration("scan_first_check")?
            .unwrap_or(d.scan_first_check),
        scan_every: s.duration("scan_every")?.unwrap_or(d.scan_every),
        report_every: s.duration("report_every")?.unwrap_or(d.report_every),
        give_up_after: s.duration("give_up_after")?.unwrap_or(d.give_up_after),
        retry_first: s.duration("retry_first")?.unwrap_or(d.retry_first),
        retry_max: s.duration("retry_max")?.unwrap_or(d.retry_max),
        absence_margin: s.duration("absence_margin")?.unwrap_or(d.absence_margin),
    })
}

/// `[limits]`.
fn limits(root: &Table) -> Result<LimitsConfig, ConfigError> {
    let s = Section::new(
        root,
        "limits",
        &[
            "max_active_jobs",
            "max_addresses",
            "max_download",
            "download_timeout",
        ],
    )?;
    let d = LimitsConfig::default();
    let max_active_jobs = match s.integer("max_active_jobs", 1..=10_000)? {
        // The range keeps the value small enough for any usize.
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => d.max_active_jobs,
    };
    Ok(LimitsConfig {
        max_active_jobs,
        max_addresses: s
            .integer("max_addresses", 1..=1 << 32)?
            .unwrap_or(d.max_addresses),
        max_download: s.size("max_download")?.unwrap_or(d.max_download),
        download_timeout: s
            .duration("download_timeout")?
            .unwrap_or(d.download_timeout),
    })
}

/// `[scope]`.
fn scope(root: &Table) -> Result<ScopeConfig, ConfigError> {
    let s = Section::new(root, "scope", &["authorized", "allow_private"])?;
    let entries = s
        .strings("authorized")?
        .ok_or_else(|| s.missing("authorized"))?;
    Ok(ScopeConfig {
        authorized: IpSet::parse_entries(&entries)?,
        allow_private: s.boolean("allow_private")?.unwrap_or(false),
    })
}

/// `[defaults]`.
fn defaults(root: &Table) -> Result<DefaultsConfig, ConfigError> {
    let s = Section::new(
        root,
        "defaults",
        &[
            "option_title",
            "report_template_id",
            "report_format",
            "results",
        ],
    )?;
    let d = DefaultsConfig::default();
    let report_format = match s.string("report_format")? {
        None => d.report_format,
        Some(f) => ReportFormat::parse(&f).ok_or_else(|| {
            s.invalid(
                "report_format",
                &Value::String(f),
                "must be one of pdf, html, mht, xml, csv, docx",
            )
        })?,
    };
    let results = match s.strings("results")? {
        None => d.results,
        Some(items) => Results::parse(&items).map_err(|_| {
            let raw = s
                .raw("results")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            s.invalid("results", &raw, "must list \"report\", \"raw\" or both")
        })?,
    };
    Ok(DefaultsConfig {
        option_title: s.string("option_title")?.unwrap_or(d.option_title),
        report_template_id: s
            .integer("report_template_id", 0..=i64::MAX.unsigned_abs())?
            .unwrap_or(0),
        report_format,
        results,
    })
}

/// `[alerts]`.
fn alerts(root: &Table) -> Result<AlertsConfig, ConfigError> {
    let s = Section::new(
        root,
        "alerts",
        &[
            "min_severity",
            "command",
            "webhook",
            "command_timeout",
            "webhook_format",
        ],
    )?;
    let d = AlertsConfig::default();
    let command = s.strings("command")?;
    if let Some(c) = &command {
        if c.first().is_none_or(|p| p.trim().is_empty()) {
            let raw = s
                .raw("command")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            return Err(s.invalid(
                "command",
                &raw,
                "the first item must name the program to run",
            ));
        }
    }
    let webhook = s.string("webhook")?;
    if let Some(w) = &webhook {
        check_url(&s, "webhook", w, &["https", "http"])?;
    }
    Ok(AlertsConfig {
        min_severity: match s.integer("min_severity", 1..=5)? {
            Some(n) => u8::try_from(n).unwrap_or(5),
            None => d.min_severity,
        },
        command,
        webhook,
        command_timeout: s.duration("command_timeout")?.unwrap_or(d.command_timeout),
        webhook_format: webhook_format(&s)?,
    })
}

/// `[alerts].webhook_format`: `json` (default), `slack` or `teams`.
fn webhook_format(s: &Section<'_>) -> Result<WebhookFormat, ConfigError> {
    let Some(text) = s.string("webhook_format")? else {
        return Ok(WebhookFormat::Json);
    };
    match text.as_str() {
        "json" => Ok(WebhookFormat::Json),
        "slack" => Ok(WebhookFormat::Slack),
        "teams" => Ok(WebhookFormat::Teams),
        _ => Err(s.invalid(
            "webhook_format",
            &Value::String(text.clone()),
            "must be \"json\", \"slack\" or \"teams\"",
        )),
    }
}

/// `[remediation]`: keys `"1"` to `"5"` (severities), values days 0 to 3650 (0: no
/// deadline); unset severities keep their default.
fn remediation(root: &Table) -> Result<RemediationConfig, ConfigError> {
    let s = Section::new(root, "remediation", &["1", "2", "3", "4", "5"])?;
    let mut r = RemediationConfig::default();
    for sev in 1..=5u8 {
        if let Some(n) = s.integer(&sev.to_string(), 0..=3650)? {
            r.days[usize::from(sev)] = u32::try_from(n).ok().filter(|&d| d > 0);
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests;
