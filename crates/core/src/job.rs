//! Job files (TOML or JSON, SPEC.md "Job files") and their validation into a [`Job`].
//!
//! [`parse_job`] is the one gate every job passes, both in `baseliner submit` and in the
//! daemon's intake, so a job the CLI accepts is a job the daemon accepts. Its errors are one
//! line each (they are written to `rejected/NAME.error`) and name the field and the value.
//! Writing jobs back out ([`job_to_toml`], [`JobDraft`]) lives in [`write`].

mod fields;
mod write;

pub use write::{job_to_toml, JobDraft};

use crate::ip::{IpError, IpSet};
use crate::scope::{check_scope, ScopeError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use thiserror::Error;

/// A validated job: everything the workflow needs, with defaults from the config applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The organization: the asset group's title and the name in every output.
    pub organization: String,
    /// The addresses, sorted and merged, all inside the authorized scope.
    pub ips: IpSet,
    /// The option profile's title.
    pub option_title: String,
    /// The scan title *without* the ` [ID]` suffix.
    pub scan_title: String,
    /// The asset group's comments.
    pub comments: String,
    /// The report template; `None`: no report.
    pub report_template_id: Option<u64>,
    /// The report's output format.
    pub report_format: ReportFormat,
    /// Which outputs to produce.
    pub results: Results,
    /// The scanner appliance's name: set for internal scans.
    pub scanner_appliance: Option<String>,
    /// How Qualys tracks the hosts.
    pub tracking_method: TrackingMethod,
}

/// Report output formats Qualys accepts for scan reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportFormat {
    /// pdf
    Pdf,
    /// html
    Html,
    /// mht
    Mht,
    /// xml
    Xml,
    /// csv
    Csv,
    /// docx
    Docx,
}

impl ReportFormat {
    /// The parameter value and file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
            ReportFormat::Mht => "mht",
            ReportFormat::Xml => "xml",
            ReportFormat::Csv => "csv",
            ReportFormat::Docx => "docx",
        }
    }
}

/// Which outputs a job produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Results {
    /// A report from the template.
    pub report: bool,
    /// The raw scan results (JSON).
    pub raw: bool,
}

/// Qualys's host tracking methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackingMethod {
    /// IP (default)
    Ip,
    /// DNS
    Dns,
    /// NETBIOS
    Netbios,
}

impl TrackingMethod {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackingMethod::Ip => "IP",
            TrackingMethod::Dns => "DNS",
            TrackingMethod::Netbios => "NETBIOS",
        }
    }
}

impl ReportFormat {
    /// All formats, in the order error messages list them.
    pub const ALL: [ReportFormat; 6] = [
        ReportFormat::Pdf,
        ReportFormat::Html,
        ReportFormat::Mht,
        ReportFormat::Xml,
        ReportFormat::Csv,
        ReportFormat::Docx,
    ];

    /// The format named `s` (case-insensitive), or `None`.
    pub fn parse(s: &str) -> Option<ReportFormat> {
        let s = s.trim();
        ReportFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }
}

impl TrackingMethod {
    /// The method named `s` (case-insensitive: `ip`, `DNS`, `NetBIOS` …), or `None`.
    pub fn parse(s: &str) -> Option<TrackingMethod> {
        let s = s.trim();
        [
            TrackingMethod::Ip,
            TrackingMethod::Dns,
            TrackingMethod::Netbios,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

impl Results {
    /// Reads a `results` list: each item `report` or `raw` (case-insensitive), at least one.
    /// `Err` carries the offending item, or the empty string for an empty list.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Results, String> {
        if items.is_empty() {
            return Err(String::new());
        }
        let mut results = Results {
            report: false,
            raw: false,
        };
        for item in items {
            match item.as_ref().trim().to_ascii_lowercase().as_str() {
                "report" => results.report = true,
                "raw" => results.raw = true,
                _ => return Err(item.as_ref().to_owned()),
            }
        }
        Ok(results)
    }

    /// The list form, as written in job files and the config.
    pub fn to_list(self) -> Vec<&'static str> {
        let mut out = Vec::with_capacity(2);
        if self.report {
            out.push("report");
        }
        if self.raw {
            out.push("raw");
        }
        out
    }
}

/// Job ids are at most this many characters; title limits are checked with this length.
pub const JOB_ID_MAX_LEN: usize = 32;
/// Qualys's limit on asset group titles, hence on organizations.
pub const ORGANIZATION_MAX_CHARS: usize = 255;
/// Qualys's limit on scan titles (`scan_title`), including the ` [ID]` suffix.
pub const SCAN_TITLE_MAX_CHARS: usize = 2000;
/// Qualys's limit on report titles (`report_title`), including the ` [ID]` suffix.
pub const REPORT_TITLE_MAX_CHARS: usize = 128;
/// Qualys's limit on asset group comments (`comments`), the default comment included.
pub const COMMENTS_MAX_CHARS: usize = 255;
/// The asset group title Qualys reserves (compared without regard to case).
pub const RESERVED_GROUP_TITLE: &str = "All";
/// Default limit on a job's address count (`[limits].max_addresses`).
pub const DEFAULT_MAX_ADDRESSES: u64 = 65_536;

/// The characters ` [` + id + `]` take at most.
const ID_SUFFIX_MAX_CHARS: usize = JOB_ID_MAX_LEN + 3;
/// The longest scan title a job may give (the id suffix must still fit).
const SCAN_TITLE_BASE_MAX_CHARS: usize = SCAN_TITLE_MAX_CHARS - ID_SUFFIX_MAX_CHARS;
/// Report titles start with this, then the organization.
const REPORT_TITLE_PREFIX: &str = "Baseline of ";

/// The values a job takes from the config's `[defaults]` when it does not set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDefaults {
    /// Option profile title.
    pub option_title: String,
    /// Report template; 0: no report unless the job names one.
    pub report_template_id: u64,
    /// Report format.
    pub report_format: ReportFormat,
    /// Outputs.
    pub results: Results,
}

impl Default for JobDefaults {
    /// SPEC.md's defaults: "New IPs option profile", no template, pdf, report and raw.
    fn default() -> Self {
        JobDefaults {
            option_title: "New IPs option profile".to_owned(),
            report_template_id: 0,
            report_format: ReportFormat::Pdf,
            results: Results {
                report: true,
                raw: true,
            },
        }
    }
}

/// What a job is validated against; built from the config ([`crate::config::Config::job_rules`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRules {
    /// `[scope].authorized`: every address must be inside. Empty: every job is refused.
    pub authorized: IpSet,
    /// `[scope].allow_private`: special-purpose addresses are allowed for jobs that name a
    /// scanner appliance.
    pub allow_private: bool,
    /// `[limits].max_addresses`.
    pub max_addresses: u64,
    /// `[defaults]`.
    pub defaults: JobDefaults,
}

impl JobRules {
    /// Rules with `authorized` as the scope and every other value at its default.
    pub fn new(authorized: IpSet) -> JobRules {
        JobRules {
            authorized,
            allow_private: false,
            max_addresses: DEFAULT_MAX_ADDRESSES,
            defaults: JobDefaults::default(),
        }
    }
}

/// Why a job file was refused. Display is one line naming the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JobError {
    /// The file name ends in neither `.toml` nor `.json`.
    #[error("job file {file_name:?}: name must end in .toml or .json")]
    UnsupportedFormat {
        /// The file name.
        file_name: String,
    },
    /// The file is not UTF-8.
    #[error("job file {file_name:?}: not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The file name.
        file_name: String,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The file does not parse as its format.
    #[error("job file {file_name:?}: invalid {format}: {message}")]
    Syntax {
        /// The file name.
        file_name: String,
        /// `TOML` or `JSON`.
        format: &'static str,
        /// The parser's message, on one line.
        message: String,
    },
    /// The document is not a table (TOML) / object (JSON).
    #[error("a job must be a table of fields, found {found}")]
    NotATable {
        /// The document, shortened.
        found: String,
    },
    /// A field that job files do not have.
    #[error("unknown field {field:?} (known fields: organization, ips, option_title, scan_title, comments, report_template_id, report_format, results, scanner_appliance, tracking_method)")]
    UnknownField {
        /// The field's name.
        field: String,
    },
    /// A required field is absent.
    #[error("{field}: required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field of the wrong type.
    #[error("{field}: expected {expected}, found {found}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is, shortened.
        found: String,
    },
    /// A field that is empty or blank.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A text field holding a control character (tab, newline …).
    #[error("{field}: control characters are not allowed, found {value}")]
    ControlCharacter {
        /// The field.
        field: &'static str,
        /// The value, escaped and shortened.
        value: String,
    },
    /// A text field holding a bidirectional control or another invisible format character
    /// (ZWJ and ZWNJ are allowed).
    #[error("{field}: invisible format character U+{code:04X} is not allowed (bidirectional controls and zero-width characters other than ZWJ/ZWNJ), found {value}")]
    FormatCharacter {
        /// The field.
        field: &'static str,
        /// The character's code point.
        code: u32,
        /// The value, escaped and shortened.
        value: String,
    },
    /// A title holding `[` or `]`: those mark the job id baseliner appends (` [ID]`), so no
    /// job may carry another job's tag.
    #[error("{field}: '[' and ']' are reserved for the job id baseliner appends, found {value}")]
    Bracket {
        /// The field.
        field: &'static str,
        /// The value, escaped and shortened.
        value: String,
    },
    /// A scanner appliance name holding a comma: Qualys reads `iscanner_name` as a
    /// comma-separated list of names (qualys-api.md §6.1), so the scan would use others.
    #[error("{field}: a comma would make Qualys read {value} as several appliance names")]
    Comma {
        /// The field.
        field: &'static str,
        /// The value, escaped and shortened.
        value: String,
    },
    /// An asset group title Qualys reserves.
    #[error("{field}: {value:?} is reserved by Qualys (the group of all assets)")]
    Reserved {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// No `comments` given, and the default comment built from the organization is longer
    /// than Qualys allows.
    #[error("comments: the default comment \"Created via automation for ORGANIZATION.\" is {len} characters, at most {max} allowed: set comments in the job")]
    DefaultCommentTooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A text field longer than Qualys allows.
    #[error("{field}: {len} characters, at most {max} allowed: {value}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The value's first characters, quoted.
        value: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value outside a fixed set.
    #[error("{field}: {value:?} is not one of {allowed}")]
    NotOneOf {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// The allowed values.
        allowed: &'static str,
    },
    /// `report_template_id` beyond what a TOML integer holds.
    #[error("report_template_id: {value} is too large")]
    TemplateIdTooLarge {
        /// The value.
        value: u64,
    },
    /// `results` names only a report, and no template is set: the job would produce nothing.
    #[error("results: [\"report\"] needs a report_template_id (none in the job, 0 in [defaults]): the job would produce nothing")]
    NothingToProduce,
    /// An entry of `ips` does not parse.
    #[error("ips: {0}")]
    Ips(#[from] IpError),
    /// `ips` lists no address.
    #[error("ips: must list at least one address")]
    NoAddresses,
    /// More addresses than `[limits].max_addresses`.
    #[error("ips: {count} addresses, more than the limit of {max} ([limits].max_addresses)")]
    TooManyAddresses {
        /// The job's address count.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// Addresses outside the authorized scope, or special-purpose addresses not allowed.
    #[error("ips: {source}{hint}")]
    Scope {
        /// The scope check's finding.
        source: ScopeError,
        /// How such addresses could be allowed, or empty.
        hint: &'static str,
    },
}

/// Parses and validates a job file. The format comes from `file_name`'s extension (`.toml`
/// or `.json`); defaults come from `rules.defaults`; every address must pass
/// [`check_scope`] — special-purpose space only for jobs that name a scanner appliance
/// when `rules.allow_private`.
pub fn parse_job(file_name: &str, bytes: &[u8], rules: &JobRules) -> Result<Job, JobError> {
    let doc = parse_document(file_name, bytes)?;
    let map = fields::fields(&doc)?;

    let organization = required_text(map, "organization")?;
    check_len("organization", &organization, ORGANIZATION_MAX_CHARS)?;
    check_title("organization", &organization)?;
    if organization.eq_ignore_ascii_case(RESERVED_GROUP_TITLE) {
        return Err(JobError::Reserved {
            field: "organization",
            value: organization,
        });
    }

    let entries = fields::text_list(map, "ips")?.ok_or(JobError::Missing { field: "ips" })?;
    let ips = IpSet::parse_entries(&entries)?;
    if ips.is_empty() {
        return Err(JobError::NoAddresses);
    }
    if ips.len() > rules.max_addresses {
        return Err(JobError::TooManyAddresses {
            count: ips.len(),
            max: rules.max_addresses,
        });
    }

    let option_title = optional_nonblank(map, "option_title")?
        .unwrap_or_else(|| rules.defaults.option_title.clone());
    let scan_title = optional_nonblank(map, "scan_title")?
        .unwrap_or_else(|| format!("Acquisition scan of {organization}"));
    check_len("scan_title", &scan_title, SCAN_TITLE_BASE_MAX_CHARS)?;
    check_title("scan_title", &scan_title)?;
    let comments = match fields::text(map, "comments")? {
        Some(c) => {
            check_len("comments", &c, COMMENTS_MAX_CHARS)?;
            c
        }
        None => {
            let c = format!("Created via automation for {organization}.");
            let len = c.chars().count();
            if len > COMMENTS_MAX_CHARS {
                return Err(JobError::DefaultCommentTooLong {
                    len,
                    max: COMMENTS_MAX_CHARS,
                });
            }
            c
        }
    };
    let scanner_appliance = optional_nonblank(map, "scanner_appliance")?;
    if let Some(name) = scanner_appliance.as_deref().filter(|n| n.contains(',')) {
        return Err(JobError::Comma {
            field: "scanner_appliance",
            value: fields::shorten(&format!("{name:?}")),
        });
    }

    let template =
        fields::unsigned(map, "report_template_id")?.unwrap_or(rules.defaults.report_template_id);
    if i64::try_from(template).is_err() {
        return Err(JobError::TemplateIdTooLarge { value: template });
    }
    let report_template_id = (template != 0).then_some(template);

    let report_format = match fields::text(map, "report_format")? {
        None => rules.defaults.report_format,
        Some(s) => ReportFormat::parse(&s).ok_or(JobError::NotOneOf {
            field: "report_format",
            value: s,
            allowed: "pdf, html, mht, xml, csv, docx",
        })?,
    };
    let results = match fields::text_list(map, "results")? {
        None => rules.defaults.results,
        Some(items) => Results::parse(&items).map_err(|value| JobError::NotOneOf {
            field: "results",
            value,
            allowed: "report, raw (at least one)",
        })?,
    };
    if !results.raw && report_template_id.is_none() {
        return Err(JobError::NothingToProduce);
    }
    let tracking_method = match fields::text(map, "tracking_method")? {
        None => TrackingMethod::Ip,
        Some(s) => TrackingMethod::parse(&s).ok_or(JobError::NotOneOf {
            field: "tracking_method",
            value: s,
            allowed: "IP, DNS, NETBIOS",
        })?,
    };

    let allow_special = scanner_appliance.is_some() && rules.allow_private;
    check_scope(&ips, &rules.authorized, allow_special).map_err(|source| {
        let hint = match (&source, scanner_appliance.is_some()) {
            (ScopeError::Special { .. }, false) => {
                " (allowed only for internal scans: set scanner_appliance, and [scope].allow_private = true)"
            }
            (ScopeError::Special { .. }, true) => " ([scope].allow_private is false)",
            (ScopeError::NotAuthorized { .. }, _) => " ([scope].authorized)",
        };
        JobError::Scope { source, hint }
    })?;

    Ok(Job {
        organization,
        ips,
        option_title,
        scan_title,
        comments,
        report_template_id,
        report_format,
        results,
        scanner_appliance,
        tracking_method,
    })
}

impl Job {
    /// Whether a report is launched: `results` has `report` and a template is set.
    pub fn plan_report(&self) -> bool {
        self.results.report && self.report_template_id.is_some()
    }

    /// The scan title sent to Qualys: `SCAN_TITLE [ID]`, never over
    /// [`SCAN_TITLE_MAX_CHARS`] (validation leaves room for an id of [`JOB_ID_MAX_LEN`];
    /// anything longer cuts the title, never the id).
    pub fn scan_title_with_id(&self, id: &str) -> String {
        fit_with_suffix(&self.scan_title, &format!(" [{id}]"), SCAN_TITLE_MAX_CHARS)
    }

    /// The report title sent to Qualys: `Baseline of ORGANIZATION [ID]`, never over
    /// [`REPORT_TITLE_MAX_CHARS`]. Organizations may be longer than fits (up to 255
    /// characters, the asset group limit): the organization is then cut, never the id.
    pub fn report_title_with_id(&self, id: &str) -> String {
        let base = format!("{REPORT_TITLE_PREFIX}{}", self.organization);
        fit_with_suffix(&base, &format!(" [{id}]"), REPORT_TITLE_MAX_CHARS)
    }
}

/// `base + suffix`, with `base` cut (and trailing blanks dropped) so the whole is at most
/// `max` characters; if the suffix alone is longer, the suffix cut to `max`.
fn fit_with_suffix(base: &str, suffix: &str, max: usize) -> String {
    let suffix_len = suffix.chars().count();
    if suffix_len >= max {
        return suffix.trim_start().chars().take(max).collect();
    }
    let room = max - suffix_len;
    let cut: String = base.chars().take(room).collect();
    let cut = if cut.len() < base.len() {
        cut.trim_end()
    } else {
        &cut
    };
    format!("{cut}{suffix}")
}

/// Parses the bytes as TOML or JSON (by extension) into a generic document.
fn parse_document(file_name: &str, bytes: &[u8]) -> Result<Value, JobError> {
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let is_toml = ext.eq_ignore_ascii_case("toml");
    if !is_toml && !ext.eq_ignore_ascii_case("json") {
        return Err(JobError::UnsupportedFormat {
            file_name: file_name.to_owned(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| JobError::NotUtf8 {
        file_name: file_name.to_owned(),
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if is_toml {
        toml::from_str::<Value>(text).map_err(|e| JobError::Syntax {
            file_name: file_name.to_owned(),
            format: "TOML",
            message: toml_message(text, &e),
        })
    } else {
        serde_json::from_str::<Value>(text).map_err(|e| JobError::Syntax {
            file_name: file_name.to_owned(),
            format: "JSON",
            message: crate::text::one_line(&e.to_string()),
        })
    }
}

/// A TOML error as `line L, column C: message`, on one line.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let message = crate::text::one_line(e.message());
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

/// A required text field, trimmed, not blank.
fn required_text(
    map: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<String, JobError> {
    optional_nonblank(map, field)?.ok_or(JobError::Missing { field })
}

/// An optional text field, trimmed; present but blank is an error.
fn optional_nonblank(
    map: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, JobError> {
    match fields::text(map, field)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Err(JobError::Empty { field }),
        Some(s) => Ok(Some(s.trim().to_owned())),
    }
}

/// Refuses `[` and `]` in a user-supplied title: the only brackets in a title baseliner
/// sends are those of its own ` [ID]` suffix.
fn check_title(field: &'static str, value: &str) -> Result<(), JobError> {
    if value.contains(['[', ']']) {
        return Err(JobError::Bracket {
            field,
            value: fields::shorten(&format!("{value:?}")),
        });
    }
    Ok(())
}

/// Refuses `value` when longer than `max` characters.
fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), JobError> {
    let len = value.chars().count();
    if len > max {
        return Err(JobError::TooLong {
            field,
            value: format!("{:?}…", value.chars().take(40).collect::<String>()),
            len,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
