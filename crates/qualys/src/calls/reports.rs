//! Report calls: launch, list, fetch, cancel, and the v1 template list.

use std::path::Path;

use crate::api::Call;
use crate::client::{Client, Reply};
use crate::error::ApiError;
use crate::fetch::{Download, FetchError};
use crate::parse::reports::{launched_report, parse_report_list, parse_template_list};
use crate::parse::reports::{Report, ReportTemplate};

use super::success;
use crate::ips::format_ips;
use std::net::Ipv4Addr;

/// What a report covers: the scans of a scan-based template, or the addresses of a
/// host-based one.
#[derive(Debug, Clone, Copy)]
pub enum ReportTarget<'a> {
    /// `report_refs`: scan references (`Manual` templates).
    Scans(&'a [&'a str]),
    /// `ips`: address ranges (`Auto` templates).
    Ips(&'a [(Ipv4Addr, Ipv4Addr)]),
}

impl Client {
    /// Launches a scan report (`report_type=Scan`) from `template_id` on `target`: scans
    /// (`report_refs`, for a scan-based `Manual` template) or addresses (`ips`, for a
    /// host-based `Auto` template; qualys-api.md §7.1, §7.2). Returns the report ID. Not
    /// safe to repeat.
    pub async fn launch_report(
        &self,
        template_id: u64,
        target: ReportTarget<'_>,
        output_format: &str,
        report_title: &str,
    ) -> Result<Reply<u64>, ApiError> {
        let target = match target {
            ReportTarget::Scans(refs) => ("report_refs", refs.join(",")),
            ReportTarget::Ips(ips) => ("ips", format_ips(ips)),
        };
        let params = [
            ("template_id", template_id.to_string()),
            target,
            ("output_format", output_format.to_string()),
            ("report_title", report_title.to_string()),
            ("report_type", "Scan".to_string()),
        ];
        self.xml_call(Call::LaunchReport, &params, |doc| {
            launched_report(&success(doc)?)
        })
        .await
    }

    /// Lists reports: one (`id`) or all.
    pub async fn list_reports(&self, id: Option<u64>) -> Result<Reply<Vec<Report>>, ApiError> {
        let params: Vec<(&str, String)> = id.map(|i| ("id", i.to_string())).into_iter().collect();
        self.xml_call(Call::ListReports, &params, parse_report_list)
            .await
    }

    /// Downloads a finished report into `dest`, streamed. A report that is not finished
    /// yields [`crate::ErrorKind::NotReady`] (CODE 7001) and leaves `dest` untouched. The
    /// result's [`Download::kind`] says what the body is, whatever format was asked for
    /// (a zipped HTML report is [`crate::BodyKind::Zip`], §7.4).
    pub async fn fetch_report(&self, id: u64, dest: &Path) -> Result<Reply<Download>, FetchError> {
        let params = [("id", id.to_string())];
        self.download(Call::FetchReport, &params, dest).await
    }

    /// Cancels a running report. Returns Qualys's TEXT. Not safe to repeat blindly.
    pub async fn cancel_report(&self, id: u64) -> Result<Reply<String>, ApiError> {
        let params = [("id", id.to_string())];
        self.xml_call(Call::CancelReport, &params, |doc| Ok(success(doc)?.text))
            .await
    }

    /// Lists report templates (v1 `/msp/report_template_list.php`).
    pub async fn list_report_templates(&self) -> Result<Reply<Vec<ReportTemplate>>, ApiError> {
        self.xml_call(Call::ListReportTemplates, &[], parse_template_list)
            .await
    }
}
