//! The endpoint table: which paths exist, which handler serves each (path, action), what
//! kind of call it is (for the faults that hit only mutations or downloads) and which
//! parameters it accepts.
//!
//! # Parameters (qualys-api.md §0: unknown parameters → HTTP 400 CODE 1901)
//! Each endpoint accepts the parameters its section of qualys-api.md documents **and** the
//! simulator models; anything else (a typo, a documented parameter the simulator does not
//! model, `echo_request`) is answered HTTP 400 CODE 1901 `Unrecognized parameter(s): …`
//! naming every unknown name, before limits are counted and with nothing applied. Refusing a
//! documented-but-unmodelled parameter is the stricter reading: a client never believes an
//! ignored parameter had an effect. The lists are the `params` of [`ROUTES`]; each entry
//! cites its section. The session API (§1.2) takes `username` and `password` on login and
//! nothing besides `action` on logout ([`session_params`]).

use crate::ctx::Ctx;
use crate::faults::ApiKind;
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

/// One endpoint + action.
pub(crate) struct Route {
    /// Path, from [`PATHS`].
    pub path: &'static str,
    /// `action` value (`""` for the template list, which takes none).
    pub action: &'static str,
    /// Handler.
    pub handler: Handler,
    /// Read, mutation or download.
    pub kind: ApiKind,
    /// Accepted parameter names besides `action`.
    pub params: &'static [&'static str],
}

/// §2.4/§6.2 scan list filters the simulator models (v2 and v3 share them).
const SCAN_LIST: &[&str] = &[
    "scan_ref",
    "state",
    "launched_after_datetime",
    "show_ags",
    "show_op",
    "show_status",
];

/// The endpoint table.
pub(crate) const ROUTES: &[Route] = &[
    // §4.1; `enable_pc` and `tracking_method` are modelled, owner/ud*/comment are not.
    Route {
        path: "/api/2.0/fo/asset/ip/",
        action: "add",
        handler: api_asset::ip_add,
        kind: ApiKind::Mutation,
        params: &["ips", "enable_vm", "enable_pc", "tracking_method"],
    },
    // §4.2 (v1).
    Route {
        path: "/msp/asset_ip.php",
        action: "add",
        handler: api_asset::ip_add_v1,
        kind: ApiKind::Mutation,
        params: &["host_ips", "tracking_method"],
    },
    // §5.1.
    Route {
        path: "/api/2.0/fo/asset/group/",
        action: "add",
        handler: api_asset::group_add,
        kind: ApiKind::Mutation,
        params: &["title", "ips", "comments", "appliance_ids"],
    },
    // §5.1 (list: `ids`, `truncation_limit`, `show_attributes`; `title`, `id_min` paging).
    Route {
        path: "/api/2.0/fo/asset/group/",
        action: "list",
        handler: api_asset::group_list,
        kind: ApiKind::Read,
        params: &[
            "ids",
            "title",
            "truncation_limit",
            "id_min",
            "show_attributes",
        ],
    },
    // §5.1 (edit uses different names).
    Route {
        path: "/api/2.0/fo/asset/group/",
        action: "edit",
        handler: api_asset::group_edit,
        kind: ApiKind::Mutation,
        params: &[
            "id",
            "set_title",
            "add_ips",
            "remove_ips",
            "set_ips",
            "add_appliance_ids",
            "set_comments",
        ],
    },
    // §5.2 (v1).
    Route {
        path: "/msp/asset_group.php",
        action: "add",
        handler: api_asset::group_add_v1,
        kind: ApiKind::Mutation,
        params: &["title", "host_ips"],
    },
    // Appliance list: not in qualys-api.md; no filters modelled.
    Route {
        path: "/api/2.0/fo/appliance/",
        action: "list",
        handler: api_asset::appliance_list,
        kind: ApiKind::Read,
        params: &[],
    },
    // §6.1.
    Route {
        path: "/api/2.0/fo/scan/",
        action: "launch",
        handler: api_scan::launch,
        kind: ApiKind::Mutation,
        params: &[
            "scan_title",
            "option_title",
            "option_id",
            "ip",
            "asset_groups",
            "asset_group_ids",
            "iscanner_name",
            "priority",
        ],
    },
    // §6.2.
    Route {
        path: "/api/2.0/fo/scan/",
        action: "list",
        handler: api_scan::list,
        kind: ApiKind::Read,
        params: SCAN_LIST,
    },
    // §0, §6.2 (v3 list).
    Route {
        path: "/api/3.0/fo/scan/",
        action: "list",
        handler: api_scan::list,
        kind: ApiKind::Read,
        params: SCAN_LIST,
    },
    // §6.3.
    Route {
        path: "/api/2.0/fo/scan/",
        action: "cancel",
        handler: api_scan::cancel,
        kind: ApiKind::Read,
        params: &["scan_ref"],
    },
    // §6.4.
    Route {
        path: "/api/2.0/fo/scan/",
        action: "fetch",
        handler: api_scan::fetch,
        kind: ApiKind::Download,
        params: &["scan_ref", "ips", "mode", "output_format"],
    },
    // §7.2.
    Route {
        path: "/api/2.0/fo/report/",
        action: "launch",
        handler: api_report::launch,
        kind: ApiKind::Mutation,
        params: &[
            "template_id",
            "output_format",
            "report_title",
            "report_type",
            "report_refs",
            "ips",
            "asset_group_ids",
        ],
    },
    // §7.3.
    Route {
        path: "/api/2.0/fo/report/",
        action: "list",
        handler: api_report::list,
        kind: ApiKind::Read,
        params: &["id", "state"],
    },
    // §7.4.
    Route {
        path: "/api/2.0/fo/report/",
        action: "fetch",
        handler: api_report::fetch,
        kind: ApiKind::Download,
        params: &["id"],
    },
    // §7.3 (cancel).
    Route {
        path: "/api/2.0/fo/report/",
        action: "cancel",
        handler: api_report::cancel,
        kind: ApiKind::Read,
        params: &["id"],
    },
    // §7.1: the v1 list takes no parameters.
    Route {
        path: TEMPLATES,
        action: "",
        handler: api_report::templates,
        kind: ApiKind::Read,
        params: &[],
    },
];

/// The route for `action` on `path` (a path from [`PATHS`] other than the session API),
/// or the error reply for an action the path does not know (HTTP 400 / CODE 1901).
pub(crate) fn route(path: &str, action: &str) -> Result<&'static Route, Reply> {
    let action = if path == TEMPLATES { "" } else { action };
    ROUTES
        .iter()
        .find(|r| r.path == path && r.action == action)
        .ok_or_else(|| {
            Reply::error(
                400,
                1901,
                &format!("Unrecognized parameter(s): action={action}"),
            )
        })
}

/// Parameters of the session API (qualys-api.md §1.2) besides `action`, by action.
pub(crate) fn session_params(action: &str) -> &'static [&'static str] {
    match action {
        "login" => &["username", "password"],
        _ => &[],
    }
}

/// HTTP 400 / 1901 naming every parameter of `names` that is neither in `allowed` nor
/// `action` (when `takes_action`).
pub(crate) fn unknown_params<'a>(
    allowed: &[&str],
    takes_action: bool,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), Reply> {
    let mut unknown: Vec<&str> = Vec::new();
    for n in names {
        let known = (n == "action" && takes_action) || allowed.contains(&n);
        if !known && !unknown.contains(&n) {
            unknown.push(n);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Reply::error(
        400,
        1901,
        &format!("Unrecognized parameter(s): {}", unknown.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_actions_are_1901_and_known_ones_resolve() {
        assert!(route("/api/2.0/fo/scan/", "launch").is_ok());
        assert!(route("/api/3.0/fo/scan/", "list").is_ok());
        let err = route("/api/3.0/fo/scan/", "launch")
            .err()
            .map(|r| (r.status, r.code));
        assert_eq!(err, Some((400, Some(1901))));
    }

    #[test]
    fn every_path_but_the_session_has_a_route_and_unknown_names_are_listed() {
        for p in PATHS.iter().filter(|p| **p != SESSION) {
            assert!(ROUTES.iter().any(|r| r.path == *p), "{p}");
        }
        let launch = route("/api/2.0/fo/scan/", "launch").expect("route");
        let check = |r: &Route, names: &[&str]| {
            unknown_params(r.params, !r.action.is_empty(), names.iter().copied())
        };
        assert!(check(launch, &["action", "scan_title", "asset_group_ids"]).is_ok());
        let err = check(launch, &["action", "fqdn", "Scan_title", "fqdn"]).expect_err("refused");
        assert_eq!((err.status, err.code), (400, Some(1901)));
        let text = String::from_utf8_lossy(&err.body).into_owned();
        assert!(
            text.contains("Unrecognized parameter(s): fqdn, Scan_title</TEXT>"),
            "{text}"
        );
        let templates = route(TEMPLATES, "anything").expect("route");
        assert!(check(templates, &["action"]).is_err());
        assert!(unknown_params(session_params("login"), true, ["action", "username"]).is_ok());
        assert!(unknown_params(session_params("logout"), true, ["username"]).is_err());
    }
}
