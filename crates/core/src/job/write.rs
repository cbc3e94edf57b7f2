//! Writing job files: the canonical `jobs/ID/job.toml` of an accepted [`Job`], and the file
//! `baseliner submit --org … --ips …` builds from its flags ([`JobDraft`]).
//!
//! Values are written through `toml::Value`, so quoting and escaping are the TOML crate's,
//! and what is written parses back with [`super::parse_job`].

use super::Job;
use std::fmt::Write as _;
use toml::Value;

/// One `key = value` line per present (already rendered) value, in the given order.
fn render(lines: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (key, value) in lines {
        if let Some(v) = value {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{key} = {v}");
        }
    }
    out
}

/// A TOML string.
fn string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A TOML array of strings.
fn strings<S: AsRef<str>>(items: &[S]) -> String {
    let items = items.iter().map(|s| Value::String(s.as_ref().to_owned()));
    Value::Array(items.collect()).to_string()
}

/// A TOML integer, in decimal. (A value beyond `i64` is written as is: reading it back
/// fails, rather than silently naming another template.)
fn integer(n: u64) -> String {
    n.to_string()
}

/// The canonical TOML job file for `job`: every field explicit (no defaults needed to read it
/// back), addresses as merged ranges, `report_template_id = 0` for "no report".
/// [`super::parse_job`] on the result gives `job` back, given rules that authorize its
/// addresses.
pub fn job_to_toml(job: &Job) -> String {
    let ips: Vec<String> = job.ips.ranges().iter().map(ToString::to_string).collect();
    render(&[
        ("organization", Some(string(&job.organization))),
        ("ips", Some(strings(&ips))),
        ("option_title", Some(string(&job.option_title))),
        ("scan_title", Some(string(&job.scan_title))),
        ("comments", Some(string(&job.comments))),
        (
            "report_template_id",
            Some(integer(job.report_template_id.unwrap_or(0))),
        ),
        ("report_format", Some(string(job.report_format.as_str()))),
        ("results", Some(strings(&job.results.to_list()))),
        (
            "scanner_appliance",
            job.scanner_appliance.as_deref().map(string),
        ),
        (
            "tracking_method",
            Some(string(job.tracking_method.as_str())),
        ),
    ])
}

/// A job as given on the command line, before validation: only the fields set are written,
/// so the config's defaults apply to the rest when the file is parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobDraft {
    /// `organization`.
    pub organization: String,
    /// `ips`: addresses, ranges and CIDRs as typed.
    pub ips: Vec<String>,
    /// `option_title`.
    pub option_title: Option<String>,
    /// `report_template_id`.
    pub report_template_id: Option<u64>,
    /// `report_format`.
    pub report_format: Option<String>,
    /// `results`.
    pub results: Option<Vec<String>>,
    /// `scanner_appliance`.
    pub scanner_appliance: Option<String>,
    /// `tracking_method`.
    pub tracking_method: Option<String>,
    /// `scan_title`.
    pub scan_title: Option<String>,
    /// `comments`.
    pub comments: Option<String>,
}

impl JobDraft {
    /// The job file: `organization` and `ips` always, the other fields when set. Values are
    /// written as given; [`super::parse_job`] validates them.
    pub fn to_toml(&self) -> String {
        let text = |o: &Option<String>| o.as_deref().map(string);
        render(&[
            ("organization", Some(string(&self.organization))),
            ("ips", Some(strings(&self.ips))),
            ("option_title", text(&self.option_title)),
            ("scan_title", text(&self.scan_title)),
            ("comments", text(&self.comments)),
            ("report_template_id", self.report_template_id.map(integer)),
            ("report_format", text(&self.report_format)),
            ("results", self.results.as_deref().map(strings)),
            ("scanner_appliance", text(&self.scanner_appliance)),
            ("tracking_method", text(&self.tracking_method)),
        ])
    }
}
