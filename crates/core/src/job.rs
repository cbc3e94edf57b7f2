//! Job files (TOML or JSON, SPEC.md "Job files") and their validation into a [`Job`].
//!
//! NOT BUILT YET: parsing and validation are being written (see the Foundation issue).

use crate::ip::IpSet;
use serde::{Deserialize, Serialize};

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
