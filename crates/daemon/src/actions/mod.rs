//! Action items made from a finished job's outputs (the "Action items" issue), called by
//! [`crate::outputs::action_items`] once the report and raw results are on disk:
//!
//! - findings from `results.json` ([`findings`], streamed) or an XML report
//!   ([`report_xml`]), kept compact ([`model`]);
//! - `findings.csv` ([`csv`]), `summary.md` ([`summary_md`]) and `summary.html`
//!   ([`summary_html`], [`svg`]), from the facts of [`summary`]; KnowledgeBase HTML made
//!   plain text by one converter ([`kb_text`]), every output cell freed of control and
//!   invisible characters by one rule ([`cell`]);
//! - `information.csv` (information gathered) and `coverage.csv` ([`coverage`]);
//! - the comparison with the organization's previous job ([`delta`]);
//! - the alert, at most once per job ([`alert`], [`command`], the rule in [`once`]), and the webhook's message in
//!   the configured format ([`messages`], its text escaped for the chat by [`chat_text`],
//!   sent by [`webhook`]).
//!
//! Safe to repeat: every file is replaced through a temporary file and a rename, the
//! outputs are pure functions of the inputs (no "generated at" times), the baseline is
//! kept in the job's checkpoint, and the alert is guarded by its intent file.

pub mod alert;
pub mod cell;
pub mod chat_text;
pub mod command;
pub mod coverage;
pub mod csv;
pub mod delta;
pub mod error;
pub mod findings;
pub mod flex;
pub mod kb_text;
pub mod messages;
pub mod model;
pub mod once;
pub mod report_xml;
pub mod summary;
pub mod summary_html;
pub mod summary_md;
pub mod svg;
#[cfg(test)]
pub(crate) mod testutil;
pub mod webhook;

pub use alert::alert_summary;
pub use error::ActionError;

use crate::fsutil;
use crate::spool::Spool;
use alert::Alerted;
use baseliner_core::config::{AlertsConfig, RemediationConfig};
use baseliner_core::ip::IpSet;
use baseliner_core::job::ReportFormat;
use baseliner_core::store::JobRecord;
use model::Findings;
use summary::Summary;

/// What [`run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Which file the findings came from (`None`: no machine-readable results).
    pub source: Option<String>,
    /// How many findings.
    pub findings: u64,
    /// The alert, when one was due.
    pub alert: Option<Alerted>,
}

/// Produces the action items of job `rec` in its spool directory, with the `[alerts]` and
/// `[remediation]` settings; the delta compares against job `baseline` (as kept in the
/// job's `Downloading` checkpoint) when there is one.
pub fn run(
    spool: &Spool,
    rec: &JobRecord,
    baseline: Option<&str>,
    alerts: &AlertsConfig,
    remediation: &RemediationConfig,
) -> Result<Done, ActionError> {
    let id = rec.id.as_str();
    let dir = spool.job_dir(id);
    let found = read_findings(&dir, rec)?;
    let mut delta = None;
    if let Some((f, _)) = &found {
        let mut baseline_keys = None;
        if let Some(base) = baseline {
            let base_csv = spool.job_dir(base).join("findings.csv");
            match delta::compare(base, &base_csv, f, alerts.min_severity) {
                Ok((d, keys)) => {
                    delta = Some(d);
                    baseline_keys = Some(keys);
                }
                Err(e) => tracing::warn!(job_id = id, "baseline delta skipped: {e}"),
            }
        }
        let ctx = csv::RowContext {
            baseline: baseline_keys.as_ref(),
            remediation,
            scan_date: f.meta.launched_at(),
        };
        csv::write_findings(&dir.join("findings.csv"), f, &ctx)?;
        csv::write_information(&dir.join("information.csv"), f)?;
    }
    let cov = coverage::build(
        &rec.job.ips,
        scan_target(rec).as_ref(),
        found.as_ref().map(|(f, _)| f),
    );
    coverage::write(&dir.join("coverage.csv"), &cov)?;
    let s = Summary::build(summary::Inputs {
        rec,
        findings: found.as_ref().map(|(f, name)| (f, *name)),
        coverage: cov,
        delta,
        min_severity: alerts.min_severity,
        remediation,
    });
    let md_path = dir.join("summary.md");
    write(&md_path, summary_md::render(&s).as_bytes())?;
    write(
        &dir.join("summary.html"),
        summary_html::render(&s).as_bytes(),
    )?;
    let alert = match alert_reason(&s) {
        Some(reason) => {
            if alerts.webhook.is_some() {
                let html = dir.join("summary.html");
                let payload = messages::payload(alerts.webhook_format, &s, &reason, &html);
                webhook::write_payload(&dir, &payload)?;
            }
            Some(alert::alert_once(&dir, id, &md_path, &reason, alerts)?)
        }
        None => None,
    };
    Ok(Done {
        source: s.source.clone(),
        findings: s.total,
        alert,
    })
}

/// True when `job` downloads something the action items can read (raw results, or an XML
/// report): only then are its findings known and can it alert.
pub fn has_machine_readable_results(job: &baseliner_core::job::Job) -> bool {
    job.results.raw || (job.results.report && job.report_format == ReportFormat::Xml)
}

/// The scan's target as the job's checkpoint knows it (Qualys's TARGET), when it does.
fn scan_target(_rec: &JobRecord) -> Option<IpSet> {
    // The checkpoint does not keep the scan's TARGET yet; the results' `ips` metadata is
    // used instead (see `coverage::build`).
    None
}

/// The findings from `results.json`, else from `report.xml`, sorted worst first, with
/// the name of the file they come from.
fn read_findings(
    dir: &std::path::Path,
    rec: &JobRecord,
) -> Result<Option<(Findings, &'static str)>, ActionError> {
    let results = dir.join("results.json");
    let report = dir.join("report.xml");
    let mut found = if results.is_file() {
        Some((findings::read_results(&results)?, "results.json"))
    } else if rec.job.report_format == ReportFormat::Xml
        && report.is_file()
        && report_xml::readable_size(&report)
    {
        Some((report_xml::read_report(&report)?, "report.xml"))
    } else {
        None
    };
    if let Some((f, _)) = &mut found {
        f.sort();
    }
    Ok(found)
}

/// Why the alert is due, or `None`: findings at or above the threshold, only new ones
/// when there is a baseline.
fn alert_reason(s: &Summary) -> Option<String> {
    if s.alerting == 0 {
        return None;
    }
    Some(match &s.delta {
        Some(d) => format!(
            "{} new finding(s) at or above severity {} since baseline job {}",
            s.alerting, s.min_severity, d.baseline_id
        ),
        None => format!(
            "{} finding(s) at or above severity {}",
            s.alerting, s.min_severity
        ),
    })
}

/// Replaces `path` atomically.
fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), ActionError> {
    fsutil::write_atomic(path, bytes).map_err(|e| ActionError::io(path, e))
}

#[cfg(test)]
mod tests;
