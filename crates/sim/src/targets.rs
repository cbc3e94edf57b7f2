//! Asset-group targets of scan and report launches, resolved against the model.
//!
//! # Rules
//! - `asset_groups` is a comma-separated list of titles (qualys-api.md §6.1): the value is
//!   split at every comma and each trimmed part must be an existing group's exact title,
//!   else HTTP 400 / 1905 naming that part. So `Acme, Inc.` fails (no group `Acme`) and
//!   `Victim,Acme` targets both groups — as Qualys does.
//! - `asset_group_ids` is a comma-separated list of group IDs (§6.1, §7.2); an item that is
//!   not a positive integer or names no group → 1905 naming it.
//! - Titles and IDs together → 1904 (§6.1 "don't mix AG titles and ids").

use crate::ctx::Ctx;
use crate::ips::IpSet;
use crate::reply::Reply;

/// The groups a launch names: their addresses (union) and titles, in request order.
#[derive(Debug, Default)]
pub(crate) struct GroupTarget {
    /// Union of the groups' IP sets.
    pub ips: IpSet,
    /// Titles of the groups, without repeats.
    pub titles: Vec<String>,
}

impl GroupTarget {
    fn add(&mut self, ips: &IpSet, title: &str) {
        self.ips.extend(ips);
        if !self.titles.iter().any(|t| t == title) {
            self.titles.push(title.to_owned());
        }
    }
}

/// Resolves `asset_groups` (when `titles_allowed`) and `asset_group_ids`; `Ok(None)` when
/// neither is given.
pub(crate) fn groups(c: &Ctx<'_>, titles_allowed: bool) -> Result<Option<GroupTarget>, Reply> {
    let titles = c.p.non_empty("asset_groups").filter(|_| titles_allowed);
    let ids = c.p.non_empty("asset_group_ids");
    let mut out = GroupTarget::default();
    match (titles, ids) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(Reply::error(
                400,
                1904,
                "Please specify only one of these parameters: asset_groups, asset_group_ids",
            ))
        }
        (Some(list), None) => {
            for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let g = c.model.group_by_title(t).ok_or_else(|| {
                    Reply::invalid("asset_groups", t, "no asset group with this title")
                })?;
                out.add(&g.ips, &g.title);
            }
        }
        (None, Some(list)) => {
            for item in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let g = item
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| c.model.group_by_id(id))
                    .ok_or_else(|| {
                        Reply::invalid("asset_group_ids", item, "no asset group with this ID")
                    })?;
                out.add(&g.ips, &g.title);
            }
        }
    }
    Ok(Some(out))
}
