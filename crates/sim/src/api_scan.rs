//! Scan endpoints: launch, list (v2 and v3), cancel and fetch.

use std::fmt::Write as _;

use crate::clock;
use crate::ctx::Ctx;
use crate::ips::IpSet;
use crate::model::Scan;
use crate::raw;
use crate::reply::Reply;
use crate::targets;
use crate::xml::{cdata, escape, prolog, CONFIDENTIAL, EVAL_COMMENT};

/// Longest `scan_title` accepted (qualys-api.md §6.1).
const MAX_SCAN_TITLE: usize = 2000;

/// `/api/2.0/fo/scan/?action=launch`: `scan_title` (≤ 2000 characters), `option_title` or
/// `option_id` naming a configured option profile, targets `asset_groups` (titles) or
/// `asset_group_ids` (see [`crate::targets`]) and/or `ip`, scanner `iscanner_name`.
///
/// TARGET is the union of the groups' addresses and `ip`, ∩ the subscription; addresses
/// outside it are dropped silently. When nothing remains the launch fails with HTTP 400 /
/// CODE 1905 naming the addresses that are not in the subscription. Addresses in
/// [`crate::SimConfig::excluded_ips`] stay in TARGET but are not scanned.
pub(crate) fn launch(c: &mut Ctx<'_>) -> Reply {
    let profiles = &c.cfg.option_profiles;
    let option = match (c.p.non_empty("option_title"), c.p.non_empty("option_id")) {
        (Some(_), Some(_)) => {
            return Reply::error(
                400,
                1904,
                "Please specify only one of these parameters: option_title, option_id",
            )
        }
        (Some(t), None) => match profiles.iter().find(|(_, n)| n == t) {
            Some((_, n)) => n.clone(),
            None => return Reply::invalid("option_title", t, "no option profile with this title"),
        },
        (None, Some(id)) => match profiles.iter().find(|(i, _)| i.to_string() == id) {
            Some((_, n)) => n.clone(),
            None => return Reply::invalid("option_id", id, "no option profile with this ID"),
        },
        (None, None) => return Reply::missing("option_title"),
    };
    let title = c.p.get("scan_title").unwrap_or("").to_owned();
    if title.chars().count() > MAX_SCAN_TITLE {
        return Reply::invalid("scan_title", &title, "longer than 2000 characters");
    }
    let groups = match targets::groups(c, true) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let ip_param = c.p.non_empty("ip");
    if groups.is_none() && ip_param.is_none() {
        return Reply::error(400, 1922, "Please specify at least one of the following parameters: ip, asset_groups, asset_group_ids, fqdn");
    }
    let groups = groups.unwrap_or_default();
    let mut requested = groups.ips;
    if let Some(ips) = ip_param {
        match IpSet::parse(ips) {
            Ok(s) => requested.extend(&s),
            Err(e) => return Reply::invalid("ip", &e.0, "invalid IP or range"),
        }
    }
    let appliance = match c.p.non_empty("iscanner_name") {
        Some(name) if c.cfg.appliances.iter().any(|(_, n)| n == name) => Some(name.to_owned()),
        Some(name) => {
            return Reply::invalid("iscanner_name", name, "no scanner appliance with this name")
        }
        None => None,
    };
    if let Some(p) = c.p.non_empty("priority") {
        if !matches!(p.parse::<u8>(), Ok(0..=9)) {
            return Reply::invalid("priority", p, "expected 0 to 9");
        }
    }
    let target = requested.intersect(&c.model.subscription);
    if target.is_empty() {
        let outside = requested.to_list();
        return Reply::error(
            400,
            1905,
            &format!("Cannot launch scan. These IPs are not in your subscription: {outside}"),
        );
    }
    let excluded = target.intersect(&excluded_set(c.cfg));
    let (id, reference) = c.model.scan_id(c.wall);
    c.model.scans.push(Scan {
        id,
        reference: reference.clone(),
        title,
        launched: c.wall,
        launched_at: c.now,
        option_title: option,
        group_titles: groups.titles,
        appliance,
        target,
        excluded,
        forced: None,
    });
    Reply::ok(
        "New vm scan launched",
        &[("ID", id.to_string()), ("REFERENCE", reference)],
    )
    .applied()
}

/// The configured excluded addresses as a set.
fn excluded_set(cfg: &crate::config::SimConfig) -> IpSet {
    let mut set = IpSet::default();
    for &(a, b) in &cfg.excluded_ips {
        let (a, b) = (u32::from(a), u32::from(b));
        set.insert(a.min(b), a.max(b));
    }
    set
}

/// `action=list` on `/api/2.0/fo/scan/` and `/api/3.0/fo/scan/`: filters `scan_ref`
/// (comma list), `state` (comma list), `launched_after_datetime`; `show_ags`, `show_op`.
pub(crate) fn list(c: &mut Ctx<'_>) -> Reply {
    let refs: Option<Vec<&str>> =
        c.p.non_empty("scan_ref")
            .map(|r| r.split(',').map(str::trim).collect());
    let states: Option<Vec<&str>> =
        c.p.non_empty("state")
            .map(|r| r.split(',').map(str::trim).collect());
    let after = match c.p.non_empty("launched_after_datetime") {
        Some(s) => match clock::parse_datetime(s) {
            Some(t) => Some(t),
            None => {
                return Reply::invalid(
                    "launched_after_datetime",
                    s,
                    "expected YYYY-MM-DD[THH:MM:SSZ]",
                )
            }
        },
        None => None,
    };
    let v3 = c.path.starts_with("/api/3.0/");
    let dtd = if v3 {
        "/api/3.0/fo/scan/scan_list_output.dtd"
    } else {
        "/api/2.0/fo/scan/scan_list_output.dtd"
    };
    let mut x = prolog("SCAN_LIST_OUTPUT", dtd);
    x.push_str(EVAL_COMMENT);
    x.push_str("\n<SCAN_LIST_OUTPUT>\n  <RESPONSE>\n");
    let _ = writeln!(x, "    <DATETIME>{}</DATETIME>", clock::datetime(c.wall));
    let mut scans: Vec<&Scan> = c
        .model
        .scans
        .iter()
        .filter(|s| {
            refs.as_ref()
                .is_none_or(|r| r.contains(&s.reference.as_str()))
        })
        .filter(|s| after.is_none_or(|a| s.launched > a))
        .filter(|s| {
            states
                .as_ref()
                .is_none_or(|st| st.contains(&s.status(c.cfg, c.now).state.as_str()))
        })
        .collect();
    scans.sort_by_key(|s| std::cmp::Reverse(s.id));
    if !scans.is_empty() {
        x.push_str("    <SCAN_LIST>\n");
        for s in scans {
            scan_xml(&mut x, s, c);
        }
        x.push_str("    </SCAN_LIST>\n");
    }
    x.push_str("  </RESPONSE>\n</SCAN_LIST_OUTPUT>\n");
    x.push_str(EVAL_COMMENT);
    x.push('\n');
    x.push_str(CONFIDENTIAL);
    x.push('\n');
    Reply::xml(200, x, None)
}

/// One SCAN element.
fn scan_xml(x: &mut String, s: &Scan, c: &Ctx<'_>) {
    let st = s.status(c.cfg, c.now);
    let alive = s.scanned().iter().filter_map(crate::findings::host).count();
    let duration = st.duration.map_or_else(|| "Pending".to_owned(), clock::hms);
    let _ = write!(
        x,
        "      <SCAN>\n        <ID>{}</ID>\n        <REF>{}</REF>\n        <SCAN_TYPE>Scanner</SCAN_TYPE>\n        <TYPE>API</TYPE>\n        <TITLE>{}</TITLE>\n        <USER_LOGIN>{}</USER_LOGIN>\n        <LAUNCH_DATETIME>{}</LAUNCH_DATETIME>\n        <DURATION>{duration}</DURATION>\n        <PROCESSING_PRIORITY>0 - No Priority</PROCESSING_PRIORITY>\n        <PROCESSED>{}</PROCESSED>\n        <STATUS>\n          <STATE>{}</STATE>\n",
        s.id,
        escape(&s.reference),
        cdata(&s.title),
        escape(c.user),
        clock::datetime(s.launched),
        u8::from(st.processed),
        st.state
    );
    if st.state == "Finished" && alive == 0 {
        x.push_str("          <SUB_STATE>No_Host</SUB_STATE>\n");
    }
    let _ = writeln!(
        x,
        "        </STATUS>\n        <TARGET>{}</TARGET>",
        cdata(&s.target.to_list())
    );
    if c.p.flag("show_ags") {
        x.push_str("        <ASSET_GROUP_TITLE_LIST>\n");
        for t in &s.group_titles {
            let _ = writeln!(
                x,
                "          <ASSET_GROUP_TITLE>{}</ASSET_GROUP_TITLE>",
                cdata(t)
            );
        }
        x.push_str("        </ASSET_GROUP_TITLE_LIST>\n");
    }
    if c.p.flag("show_op") {
        let _ = writeln!(
            x,
            "        <OPTION_PROFILE>\n          <TITLE>{}</TITLE>\n        </OPTION_PROFILE>",
            cdata(&s.option_title)
        );
    }
    x.push_str("      </SCAN>\n");
}

/// `/api/2.0/fo/scan/?action=cancel&scan_ref=…`: TEXT `Cancelling scan`; a scan already
/// in a terminal state answers 400 / 1905.
pub(crate) fn cancel(c: &mut Ctx<'_>) -> Reply {
    let Some(r) = c.p.non_empty("scan_ref") else {
        return Reply::missing("scan_ref");
    };
    let (cfg, now) = (c.cfg, c.now);
    let Some(scan) = c.model.scans.iter_mut().find(|s| s.reference == r) else {
        return Reply::invalid("scan_ref", r, "no scan with this reference");
    };
    let state = scan.status(cfg, now).state;
    if ["Finished", "Canceled", "Error"].contains(&state.as_str()) {
        return Reply::invalid("scan_ref", r, &format!("scan is already {state}"));
    }
    scan.forced = Some("Canceled".to_owned());
    Reply::ok("Cancelling scan", &[]).applied()
}

/// `/api/2.0/fo/scan/?action=fetch&scan_ref=…`, `ips`, `mode`, `output_format` (shapes in
/// [`crate::raw`], qualys-api.md §6.4). Results exist once the scan is Finished, and also
/// for a scan that is Canceled, Paused or Error (partial results, §6.4: the first half of
/// the addresses it was to scan); in any other state the answer is 400 / 1905 (the real
/// code is not documented).
pub(crate) fn fetch(c: &mut Ctx<'_>) -> Reply {
    let Some(r) = c.p.non_empty("scan_ref") else {
        return Reply::missing("scan_ref");
    };
    let Some(scan) = c.model.scan(r) else {
        return Reply::invalid("scan_ref", r, "no scan with this reference");
    };
    let st = scan.status(c.cfg, c.now);
    if !["Finished", "Canceled", "Paused", "Error"].contains(&st.state.as_str()) {
        return Reply::invalid(
            "scan_ref",
            r,
            &format!("scan is {}, results are not available", st.state),
        );
    }
    let filter = match c.p.non_empty("ips").map(IpSet::parse).transpose() {
        Ok(f) => f,
        Err(e) => return Reply::invalid("ips", &e.0, "invalid IP or range"),
    };
    let format = c.p.non_empty("output_format").unwrap_or("csv");
    let extended_format = match format {
        "csv" | "json" => false,
        "csv_extended" | "json_extended" => true,
        other => {
            return Reply::invalid(
                "output_format",
                other,
                "expected csv, json, csv_extended or json_extended",
            )
        }
    };
    let extended_mode = match c.p.non_empty("mode").unwrap_or("brief") {
        "brief" => false,
        "extended" => true,
        other => return Reply::invalid("mode", other, "expected brief or extended"),
    };
    let ctx = raw::RawCtx {
        scan,
        user: c.user,
        filter: filter.as_ref(),
        cfg: c.cfg,
        extended_mode,
        extended_format,
        state: &st.state,
    };
    if format.starts_with("json") {
        Reply::raw(200, "application/json", raw::json(&ctx).into())
    } else {
        Reply::raw(200, "text/csv", raw::csv(&ctx).into())
    }
}
