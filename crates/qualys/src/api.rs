//! The calls this client makes, their paths and actions, and the API key of each
//! (`<path>?action=<action>`), which is the unit Qualys counts limits by.

use crate::config::{ApiVersion, AssetApi};

/// The API key of a call: `"<path>?action=<action>"`, e.g. `"/api/3.0/fo/scan/?action=list"`;
/// just `path` when the call has no action parameter (v1 `/msp/report_template_list.php`).
pub fn api_key(path: &str, action: &str) -> String {
    if action.is_empty() {
        path.to_string()
    } else {
        format!("{path}?action={action}")
    }
}

/// Every API call the client makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Session login (used by [`crate::Client::check_login`]; exempt from limits).
    SessionLogin,
    /// Session logout.
    SessionLogout,
    /// Add IPs to the subscription (v2 or v1 by [`AssetApi`]).
    AddIps,
    /// Create an asset group (v2 or v1 by [`AssetApi`]).
    AddAssetGroup,
    /// List asset groups (v2).
    ListAssetGroups,
    /// Add IPs / appliances to an asset group (v2).
    EditAssetGroup,
    /// List scanner appliances (v2).
    ListAppliances,
    /// Launch a VM scan.
    LaunchScan,
    /// List scans (v3 or v2 by config).
    ListScans,
    /// Cancel a scan.
    CancelScan,
    /// Download raw scan results.
    FetchScan,
    /// Launch a report.
    LaunchReport,
    /// List reports.
    ListReports,
    /// Download a report.
    FetchReport,
    /// Cancel a report.
    CancelReport,
    /// List report templates (v1).
    ListReportTemplates,
}

impl Call {
    /// Every call (for metrics: each API shown from the start, with 0).
    pub const ALL: [Call; 16] = [
        Call::SessionLogin,
        Call::SessionLogout,
        Call::AddIps,
        Call::AddAssetGroup,
        Call::ListAssetGroups,
        Call::EditAssetGroup,
        Call::ListAppliances,
        Call::LaunchScan,
        Call::ListScans,
        Call::CancelScan,
        Call::FetchScan,
        Call::LaunchReport,
        Call::ListReports,
        Call::FetchReport,
        Call::CancelReport,
        Call::ListReportTemplates,
    ];

    /// The request path (always with the trailing slash on v2/v3 paths).
    pub fn path(self, asset_api: AssetApi, scan_list: ApiVersion) -> &'static str {
        match (self, asset_api, scan_list) {
            (Call::SessionLogin | Call::SessionLogout, _, _) => "/api/2.0/fo/session/",
            (Call::AddIps, AssetApi::V2, _) => "/api/2.0/fo/asset/ip/",
            (Call::AddIps, AssetApi::V1, _) => "/msp/asset_ip.php",
            (Call::AddAssetGroup, AssetApi::V1, _) => "/msp/asset_group.php",
            (Call::AddAssetGroup | Call::ListAssetGroups | Call::EditAssetGroup, _, _) => {
                "/api/2.0/fo/asset/group/"
            }
            (Call::ListAppliances, _, _) => "/api/2.0/fo/appliance/",
            (Call::ListScans, _, ApiVersion::V3) => "/api/3.0/fo/scan/",
            (Call::ListScans, _, ApiVersion::V2) => "/api/2.0/fo/scan/",
            (Call::LaunchScan | Call::CancelScan | Call::FetchScan, _, _) => "/api/2.0/fo/scan/",
            (
                Call::LaunchReport | Call::ListReports | Call::FetchReport | Call::CancelReport,
                _,
                _,
            ) => "/api/2.0/fo/report/",
            (Call::ListReportTemplates, _, _) => "/msp/report_template_list.php",
        }
    }

    /// The `action` parameter (empty for the template list, which takes none).
    pub fn action(self) -> &'static str {
        match self {
            Call::SessionLogin => "login",
            Call::SessionLogout => "logout",
            Call::AddIps | Call::AddAssetGroup => "add",
            Call::EditAssetGroup => "edit",
            Call::LaunchScan | Call::LaunchReport => "launch",
            Call::CancelScan | Call::CancelReport => "cancel",
            Call::FetchScan | Call::FetchReport => "fetch",
            Call::ListAssetGroups | Call::ListAppliances | Call::ListScans | Call::ListReports => {
                "list"
            }
            Call::ListReportTemplates => "",
        }
    }

    /// The API key of this call under the given config choices.
    pub fn key(self, asset_api: AssetApi, scan_list: ApiVersion) -> String {
        api_key(self.path(asset_api, scan_list), self.action())
    }

    /// True when repeating the call after an unclear failure cannot do harm (reads, and
    /// adding IPs, which is idempotent). Group add/edit, launches and cancels are not.
    ///
    /// The job's rule of what is not safe to repeat (and so needs an intent first) is the
    /// core's `JobState::sent`. This client does not depend on the core, so it keeps this
    /// per-call list for one purpose only: to classify a lost answer as `Ambiguous` (may
    /// have been applied) rather than `Transient`. It also lists the cancels, which the
    /// job's machine treats as safe (a second cancel is refused harmlessly).
    pub fn safe_to_repeat(self) -> bool {
        !matches!(
            self,
            Call::AddAssetGroup
                | Call::EditAssetGroup
                | Call::LaunchScan
                | Call::LaunchReport
                | Call::CancelScan
                | Call::CancelReport
        )
    }

    /// True for calls sent as POST with a form body: every call not safe to repeat (the
    /// mutations), the session, and adding IPs; the others are GET with a query string.
    pub fn is_post(self) -> bool {
        !self.safe_to_repeat()
            || matches!(
                self,
                Call::SessionLogin | Call::SessionLogout | Call::AddIps
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_config() {
        assert_eq!(
            Call::ListScans.key(AssetApi::V2, ApiVersion::V3),
            "/api/3.0/fo/scan/?action=list"
        );
        assert_eq!(
            Call::ListScans.key(AssetApi::V2, ApiVersion::V2),
            "/api/2.0/fo/scan/?action=list"
        );
        assert_eq!(
            Call::AddIps.key(AssetApi::V1, ApiVersion::V3),
            "/msp/asset_ip.php?action=add"
        );
        assert_eq!(
            Call::AddAssetGroup.key(AssetApi::V2, ApiVersion::V3),
            "/api/2.0/fo/asset/group/?action=add"
        );
        assert_eq!(
            Call::ListReportTemplates.key(AssetApi::V2, ApiVersion::V3),
            "/msp/report_template_list.php"
        );
        assert_eq!(
            api_key("/api/2.0/fo/report/", "fetch"),
            "/api/2.0/fo/report/?action=fetch"
        );
    }

    #[test]
    fn all_lists_every_call_once() {
        // An exhaustive match: a new call fails to compile here until ALL lists it.
        let index = |c: Call| match c {
            Call::SessionLogin => 0,
            Call::SessionLogout => 1,
            Call::AddIps => 2,
            Call::AddAssetGroup => 3,
            Call::ListAssetGroups => 4,
            Call::EditAssetGroup => 5,
            Call::ListAppliances => 6,
            Call::LaunchScan => 7,
            Call::ListScans => 8,
            Call::CancelScan => 9,
            Call::FetchScan => 10,
            Call::LaunchReport => 11,
            Call::ListReports => 12,
            Call::FetchReport => 13,
            Call::CancelReport => 14,
            Call::ListReportTemplates => 15,
        };
        for (n, c) in Call::ALL.iter().enumerate() {
            assert_eq!(index(*c), n, "{c:?}");
        }
    }

    #[test]
    fn v2_paths_end_with_slash() {
        let all = [
            Call::SessionLogin,
            Call::AddIps,
            Call::AddAssetGroup,
            Call::ListAssetGroups,
            Call::EditAssetGroup,
            Call::ListAppliances,
            Call::LaunchScan,
            Call::ListScans,
            Call::CancelScan,
            Call::FetchScan,
            Call::LaunchReport,
            Call::ListReports,
            Call::FetchReport,
            Call::CancelReport,
        ];
        for call in all {
            for v in [ApiVersion::V2, ApiVersion::V3] {
                let p = call.path(AssetApi::V2, v);
                assert!(p.starts_with("/api/") && p.ends_with('/'), "{call:?} {p}");
            }
        }
    }

    #[test]
    fn unsafe_calls() {
        assert!(Call::AddIps.safe_to_repeat());
        assert!(Call::ListScans.safe_to_repeat());
        assert!(!Call::LaunchScan.safe_to_repeat());
        assert!(!Call::EditAssetGroup.safe_to_repeat());
        assert!(!Call::CancelReport.safe_to_repeat());
        assert!(Call::LaunchScan.is_post() && !Call::FetchReport.is_post());
        let gets = [
            Call::ListAssetGroups,
            Call::ListAppliances,
            Call::ListScans,
            Call::FetchScan,
            Call::ListReports,
            Call::FetchReport,
            Call::ListReportTemplates,
        ];
        let posts = [
            Call::SessionLogin,
            Call::SessionLogout,
            Call::AddIps,
            Call::AddAssetGroup,
            Call::EditAssetGroup,
            Call::LaunchScan,
            Call::LaunchReport,
            Call::CancelScan,
            Call::CancelReport,
        ];
        assert!(gets.iter().all(|c| !c.is_post() && c.safe_to_repeat()));
        assert!(posts.iter().all(|c| c.is_post()), "{posts:?}");
    }
}
