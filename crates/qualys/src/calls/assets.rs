//! Asset calls: add IPs (v2 or v1), asset group add (v2 or v1) / list (paginated) / edit,
//! and the scanner appliance list.

use std::net::Ipv4Addr;

use crate::api::Call;
use crate::classify::Ctx;
use crate::client::{read_and_decode, Client, Reply};
use crate::config::AssetApi;
use crate::error::{ApiError, ErrorKind};
use crate::ips::format_ips;
use crate::parse::assets::{parse_appliance_list, parse_asset_group_list};
use crate::parse::assets::{Appliance, AssetGroup, AssetGroupPage};

use super::success;

/// How Qualys tracks a host added by IP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrackingMethod {
    /// By IP address (the default).
    #[default]
    Ip,
    /// By DNS name.
    Dns,
    /// By NetBIOS name.
    Netbios,
}

impl TrackingMethod {
    /// The parameter value (`IP`, `DNS`, `NETBIOS`).
    pub fn as_str(self) -> &'static str {
        match self {
            TrackingMethod::Ip => "IP",
            TrackingMethod::Dns => "DNS",
            TrackingMethod::Netbios => "NETBIOS",
        }
    }
}

/// Upper bound on followed pages, against a server that keeps handing out URLs.
const MAX_PAGES: usize = 10_000;

pub(super) fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

impl Client {
    /// Adds IPs to the subscription for VM: v2 `action=add, ips, enable_vm=1,
    /// tracking_method`, or v1 `asset_ip.php` `action=add, host_ips, tracking_method`.
    /// Returns Qualys's TEXT. Safe to repeat.
    pub async fn add_ips(
        &self,
        ips: &[(Ipv4Addr, Ipv4Addr)],
        tracking: TrackingMethod,
    ) -> Result<Reply<String>, ApiError> {
        let list = format_ips(ips);
        let params = match self.cfg.asset_api {
            AssetApi::V2 => vec![
                ("ips", list),
                ("enable_vm", "1".to_string()),
                ("tracking_method", tracking.as_str().to_string()),
            ],
            AssetApi::V1 => vec![
                ("host_ips", list),
                ("tracking_method", tracking.as_str().to_string()),
            ],
        };
        self.xml_call(Call::AddIps, &params, |doc| Ok(success(doc)?.text))
            .await
    }

    /// Creates an asset group. v2 sends `title, ips, comments, appliance_ids` and returns the
    /// new group's ID when Qualys gives one (item `ID`). v1 (`asset_group.php`) sends `title,
    /// host_ips` only: v1 takes no comments or appliances (add appliances with
    /// [`Client::edit_asset_group`]) and returns no ID (find it with
    /// [`Client::list_asset_groups`]). Not safe to repeat.
    pub async fn add_asset_group(
        &self,
        title: &str,
        ips: &[(Ipv4Addr, Ipv4Addr)],
        comments: Option<&str>,
        appliance_ids: &[u64],
    ) -> Result<Reply<Option<u64>>, ApiError> {
        let mut params = vec![("title", title.to_string())];
        match self.cfg.asset_api {
            AssetApi::V2 => {
                params.push(("ips", format_ips(ips)));
                if let Some(c) = comments {
                    params.push(("comments", c.to_string()));
                }
                if !appliance_ids.is_empty() {
                    params.push(("appliance_ids", join_ids(appliance_ids)));
                }
            }
            AssetApi::V1 => {
                params.push(("host_ips", format_ips(ips)));
                if comments.is_some() || !appliance_ids.is_empty() {
                    tracing::warn!(
                        title,
                        "v1 asset_group.php: comments and appliances not sent"
                    );
                }
            }
        }
        self.xml_call(Call::AddAssetGroup, &params, |doc| {
            Ok(success(doc)?.item("ID").and_then(|v| v.parse().ok()))
        })
        .await
    }

    /// Adds IPs and/or appliances to an existing group (v2 `action=edit, id, add_ips,
    /// add_appliance_ids`). Returns Qualys's TEXT. Not safe to repeat blindly.
    pub async fn edit_asset_group(
        &self,
        id: u64,
        add_ips: &[(Ipv4Addr, Ipv4Addr)],
        add_appliance_ids: &[u64],
    ) -> Result<Reply<String>, ApiError> {
        let mut params = vec![("id", id.to_string())];
        if !add_ips.is_empty() {
            params.push(("add_ips", format_ips(add_ips)));
        }
        if !add_appliance_ids.is_empty() {
            params.push(("add_appliance_ids", join_ids(add_appliance_ids)));
        }
        self.xml_call(Call::EditAssetGroup, &params, |doc| Ok(success(doc)?.text))
            .await
    }

    /// One page of the asset group list: the first page (`next_url` = `None`, filtered by
    /// `title` when given, at most `truncation_limit` groups (server default 1000), showing
    /// ID, TITLE and IP_SET), or the page at a 1980 `next_url` (followed as given, the other
    /// arguments ignored; it must point at the configured server). One API call.
    pub async fn list_asset_groups_page(
        &self,
        title: Option<&str>,
        truncation_limit: Option<u32>,
        next_url: Option<&str>,
    ) -> Result<Reply<AssetGroupPage>, ApiError> {
        let call = Call::ListAssetGroups;
        match next_url {
            None => {
                let mut params = vec![("show_attributes", "ID,TITLE,IP_SET".to_string())];
                if let Some(t) = title {
                    params.push(("title", t.to_string()));
                }
                if let Some(n) = truncation_limit {
                    params.push(("truncation_limit", n.to_string()));
                }
                self.xml_call(call, &params, parse_asset_group_list).await
            }
            Some(url) => {
                let response = self.send_url(call, url).await?;
                let key = self.api_for(call);
                let ctx = Ctx {
                    api: &key,
                    safe: true,
                };
                read_and_decode(ctx, response, parse_asset_group_list).await
            }
        }
    }

    /// Every asset group (titled `title`, when given, as the server filters it), following
    /// the 1980 pagination URLs to the end. Several API calls when the list is truncated;
    /// the limits are those of the last page.
    pub async fn list_asset_groups(
        &self,
        title: Option<&str>,
    ) -> Result<Reply<Vec<AssetGroup>>, ApiError> {
        self.list_asset_groups_paged(title, None).await
    }

    /// [`Client::list_asset_groups`] with pages of at most `truncation_limit` groups.
    pub async fn list_asset_groups_paged(
        &self,
        title: Option<&str>,
        truncation_limit: Option<u32>,
    ) -> Result<Reply<Vec<AssetGroup>>, ApiError> {
        let mut page = self
            .list_asset_groups_page(title, truncation_limit, None)
            .await?;
        let mut groups = std::mem::take(&mut page.value.groups);
        let mut seen = Vec::new();
        while let Some(url) = page.value.next_url.take() {
            if seen.contains(&url) || seen.len() >= MAX_PAGES {
                let key = self.api_for(Call::ListAssetGroups);
                return Err(ApiError {
                    kind: ErrorKind::Protocol,
                    api: key,
                    http_status: None,
                    code: Some(1980),
                    text: format!(
                        "pagination does not end (URL {url:?} repeated or too many pages)"
                    ),
                    limits: page.limits,
                });
            }
            page = self.list_asset_groups_page(None, None, Some(&url)).await?;
            seen.push(url);
            groups.append(&mut page.value.groups);
        }
        Ok(Reply {
            value: groups,
            limits: page.limits,
        })
    }

    /// The scanner appliances (`/api/2.0/fo/appliance/?action=list`), ID and NAME.
    pub async fn list_appliances(&self) -> Result<Reply<Vec<Appliance>>, ApiError> {
        self.xml_call(Call::ListAppliances, &[], parse_appliance_list)
            .await
    }
}
