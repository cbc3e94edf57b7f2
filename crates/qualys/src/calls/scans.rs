//! Scan calls: launch, list (by refs, or launched after a date), cancel, fetch results.

use std::path::Path;

use crate::api::Call;
use crate::client::{Client, Reply};
use crate::error::ApiError;
use crate::fetch::{Download, FetchError};
use crate::parse::scans::{launched_scan, parse_scan_list, LaunchedScan, Scan};

use super::assets::join_ids;
use super::success;

impl Client {
    /// Launches a VM scan of asset groups (by id: `asset_group_ids`, never by title, since
    /// `asset_groups` is a comma-separated list of titles that splits `Acme, Inc.`,
    /// qualys-api.md §6.1) with an option profile (by title); `iscanner_name` names a
    /// scanner appliance (internal scan), `None` uses external scanners. Returns the scan
    /// REFERENCE (and ID). Not safe to repeat.
    pub async fn launch_scan(
        &self,
        scan_title: &str,
        asset_group_ids: &[u64],
        option_title: &str,
        iscanner_name: Option<&str>,
    ) -> Result<Reply<LaunchedScan>, ApiError> {
        let mut params = vec![
            ("scan_title", scan_title.to_string()),
            ("asset_group_ids", join_ids(asset_group_ids)),
            ("option_title", option_title.to_string()),
        ];
        if let Some(name) = iscanner_name {
            params.push(("iscanner_name", name.to_string()));
        }
        self.xml_call(Call::LaunchScan, &params, |doc| {
            launched_scan(&success(doc)?)
        })
        .await
    }

    /// Lists the scans with these refs (`scan_ref` comma list, `show_ags=1`, `show_op=1`).
    pub async fn list_scans_by_ref(
        &self,
        scan_refs: &[&str],
    ) -> Result<Reply<Vec<Scan>>, ApiError> {
        let params = [
            ("scan_ref", scan_refs.join(",")),
            ("show_ags", "1".to_string()),
            ("show_op", "1".to_string()),
        ];
        self.xml_call(Call::ListScans, &params, parse_scan_list)
            .await
    }

    /// Lists the scans launched after `after` (`YYYY-MM-DDTHH:MM:SSZ`), with asset groups
    /// and option profile shown: how a launch whose answer was lost is found again.
    pub async fn list_scans_launched_after(
        &self,
        after: &str,
    ) -> Result<Reply<Vec<Scan>>, ApiError> {
        let params = [
            ("launched_after_datetime", after.to_string()),
            ("show_ags", "1".to_string()),
            ("show_op", "1".to_string()),
        ];
        self.xml_call(Call::ListScans, &params, parse_scan_list)
            .await
    }

    /// Cancels a scan. Returns Qualys's TEXT. Not safe to repeat blindly.
    pub async fn cancel_scan(&self, scan_ref: &str) -> Result<Reply<String>, ApiError> {
        let params = [("scan_ref", scan_ref.to_string())];
        self.xml_call(Call::CancelScan, &params, |doc| Ok(success(doc)?.text))
            .await
    }

    /// Downloads a scan's raw results into `dest`, streamed, as full records:
    /// `output_format=json_extended&mode=extended` (§6.4: the default `brief` mode has no
    /// severity, title, port or CVE). The JSON array holds the scan's metadata objects
    /// first, then the findings, then trailing objects (host coverage, scanner distribution).
    pub async fn fetch_scan(
        &self,
        scan_ref: &str,
        dest: &Path,
    ) -> Result<Reply<Download>, FetchError> {
        let params = [
            ("scan_ref", scan_ref.to_string()),
            ("output_format", "json_extended".to_string()),
            ("mode", "extended".to_string()),
        ];
        self.download(Call::FetchScan, &params, dest).await
    }
}
