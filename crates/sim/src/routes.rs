//! The endpoint table: which paths exist and which handler serves each (path, action).

use crate::ctx::Ctx;
use crate::reply::Reply;
use crate::{api_asset, api_report, api_scan};

/// A request handler.
pub(crate) type Handler = fn(&mut Ctx<'_>) -> Reply;

/// The session API path (exempt from limits).
pub(crate) const SESSION: &str = "/api/2.0/fo/session/";

/// The v1 template list, the only endpoint that needs no `action`.
pub(crate) const TEMPLATES: &str = "/msp/report_template_list.php";

/// Every path the simulator serves.
pub(crate) const PATHS: &[&str] = &[
    SESSION,
    "/api/2.0/fo/asset/ip/",
    "/api/2.0/fo/asset/group/",
    "/api/2.0/fo/appliance/",
    "/api/2.0/fo/scan/",
    "/api/3.0/fo/scan/",
    "/api/2.0/fo/report/",
    "/msp/asset_ip.php",
    "/msp/asset_group.php",
    TEMPLATES,
];

/// The handler for `action` on `path` (a path from [`PATHS`] other than the session API),
/// or the error reply for an action the path does not know (HTTP 400 / CODE 1901).
pub(crate) fn handler(path: &str, action: &str) -> Result<Handler, Reply> {
    let h: Option<Handler> = match (path, action) {
        ("/api/2.0/fo/asset/ip/", "add") => Some(api_asset::ip_add),
        ("/msp/asset_ip.php", "add") => Some(api_asset::ip_add_v1),
        ("/api/2.0/fo/asset/group/", "add") => Some(api_asset::group_add),
        ("/api/2.0/fo/asset/group/", "list") => Some(api_asset::group_list),
        ("/api/2.0/fo/asset/group/", "edit") => Some(api_asset::group_edit),
        ("/msp/asset_group.php", "add") => Some(api_asset::group_add_v1),
        ("/api/2.0/fo/appliance/", "list") => Some(api_asset::appliance_list),
        ("/api/2.0/fo/scan/", "launch") => Some(api_scan::launch),
        ("/api/2.0/fo/scan/" | "/api/3.0/fo/scan/", "list") => Some(api_scan::list),
        ("/api/2.0/fo/scan/", "cancel") => Some(api_scan::cancel),
        ("/api/2.0/fo/scan/", "fetch") => Some(api_scan::fetch),
        ("/api/2.0/fo/report/", "launch") => Some(api_report::launch),
        ("/api/2.0/fo/report/", "list") => Some(api_report::list),
        ("/api/2.0/fo/report/", "fetch") => Some(api_report::fetch),
        ("/api/2.0/fo/report/", "cancel") => Some(api_report::cancel),
        (TEMPLATES, _) => Some(api_report::templates),
        _ => None,
    };
    h.ok_or_else(|| {
        Reply::error(
            400,
            1901,
            &format!("Unrecognized parameter(s): action={action}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_actions_are_1901_and_known_ones_resolve() {
        assert!(handler("/api/2.0/fo/scan/", "launch").is_ok());
        assert!(handler("/api/3.0/fo/scan/", "list").is_ok());
        let err = handler("/api/3.0/fo/scan/", "launch")
            .err()
            .map(|r| (r.status, r.code));
        assert_eq!(err, Some((400, Some(1901))));
    }
}
