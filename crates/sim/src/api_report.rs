//! Report endpoints: launch, list, fetch, cancel, and the v1 template list.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;

use crate::clock;
use crate::ctx::Ctx;
use crate::ips::IpSet;
use crate::model::Report;
use crate::reply::Reply;
use crate::report_render;
use crate::targets;
use crate::xml::{cdata, escape, prolog, CONFIDENTIAL, EVAL_COMMENT};

/// Formats the simulator renders.
const FORMATS: &[&str] = &["pdf", "xml", "csv", "html"];

/// Longest `report_title` accepted (qualys-api.md §7.2).
const MAX_REPORT_TITLE: usize = 128;

/// `/api/2.0/fo/report/?action=launch`: `template_id`, `output_format`, `report_title`
/// (≤ 128 characters), `report_type` (`Scan` if given), and the target by template TYPE
/// (qualys-api.md §7.1, §7.2):
/// - `Manual` (scan-based findings): `report_refs` required, each a Finished scan with
///   PROCESSED 1; `ips` / `asset_group_ids` refused (1905). The report covers the scans'
///   scanned addresses.
/// - `Auto` (host-based findings): `ips` and/or `asset_group_ids` required (1922);
///   `report_refs` refused (1905: Qualys's behaviour is undocumented, the simulator takes
///   the strict reading). The report covers exactly the requested addresses ∩ the
///   subscription (none in it → 1905); its findings are those of the hosts a processed
///   scan has scanned (host-based data exists only for scanned hosts).
/// - A template whose TEMPLATE_TYPE is not `Scan` → 1905 (the simulator renders scan
///   reports only).
pub(crate) fn launch(c: &mut Ctx<'_>) -> Reply {
    let Some(tid) = c.p.non_empty("template_id") else {
        return Reply::missing("template_id");
    };
    let Some(template) = tid
        .parse::<u64>()
        .ok()
        .and_then(|id| c.cfg.templates.iter().find(|t| t.id == id))
    else {
        return Reply::invalid("template_id", tid, "no report template with this ID");
    };
    if template.template_type != "Scan" {
        return Reply::invalid(
            "template_id",
            tid,
            &format!("a {} template, not a Scan template", template.template_type),
        );
    }
    let Some(format) = c.p.non_empty("output_format") else {
        return Reply::missing("output_format");
    };
    let format = format.to_ascii_lowercase();
    if !FORMATS.contains(&format.as_str()) {
        return Reply::invalid(
            "output_format",
            &format,
            "the simulator renders pdf, xml, csv and html",
        );
    }
    if let Some(t) = c.p.non_empty("report_type") {
        if t != "Scan" {
            return Reply::invalid("report_type", t, "the simulator only runs Scan reports");
        }
    }
    let title = c.p.get("report_title").unwrap_or("").to_owned();
    if title.chars().count() > MAX_REPORT_TITLE {
        return Reply::invalid("report_title", &title, "longer than 128 characters");
    }
    let target = if template.is_manual() {
        scan_based(c)
    } else {
        host_based(c)
    };
    let (refs, hosts, group_titles) = match target {
        Ok(t) => t,
        Err(r) => return r,
    };
    let with_data = if template.is_manual() {
        hosts.clone()
    } else {
        let mut scanned = IpSet::default();
        for s in &c.model.scans {
            if s.status(c.cfg, c.now).processed {
                scanned.extend(&s.scanned());
            }
        }
        hosts.intersect(&scanned)
    };
    let id = c.model.report_id();
    c.model.reports.push(Report {
        id,
        title,
        template_title: template.title.clone(),
        template_id: template.id,
        format,
        launched: c.wall,
        launched_at: c.now,
        scan_refs: refs,
        hosts,
        with_data,
        group_titles,
        canceled: false,
        content: None,
    });
    Reply::ok("New report launched", &[("ID", id.to_string())]).applied()
}

/// What a report covers: scan refs, hosts and group titles.
type Coverage = (Vec<String>, IpSet, Vec<String>);

/// The target of a `Manual` template: `report_refs` only.
fn scan_based(c: &Ctx<'_>) -> Result<Coverage, Reply> {
    for name in ["ips", "asset_group_ids"] {
        if let Some(v) = c.p.non_empty(name) {
            return Err(Reply::invalid(
                name,
                v,
                "a scan-based (Manual) template takes its target from report_refs",
            ));
        }
    }
    let Some(refs) = c.p.non_empty("report_refs") else {
        return Err(Reply::missing("report_refs"));
    };
    let refs: Vec<String> = refs
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let mut hosts = IpSet::default();
    let mut groups: Vec<String> = Vec::new();
    for r in &refs {
        match c.model.scan(r) {
            None => {
                return Err(Reply::invalid(
                    "report_refs",
                    r,
                    "no scan with this reference",
                ))
            }
            Some(s) if !s.status(c.cfg, c.now).processed => {
                return Err(Reply::invalid(
                    "report_refs",
                    r,
                    "scan results are not processed yet",
                ))
            }
            Some(s) => {
                hosts.extend(&s.scanned());
                for g in &s.group_titles {
                    if !groups.contains(g) {
                        groups.push(g.clone());
                    }
                }
            }
        }
    }
    Ok((refs, hosts, groups))
}

/// The target of an `Auto` template: `ips` and/or `asset_group_ids`, ∩ the subscription.
fn host_based(c: &Ctx<'_>) -> Result<Coverage, Reply> {
    if let Some(r) = c.p.non_empty("report_refs") {
        return Err(Reply::invalid(
            "report_refs",
            r,
            "a host-based (Auto) template takes its target from ips or asset_group_ids",
        ));
    }
    let groups = targets::groups(c, false)?;
    let ips = c.p.non_empty("ips");
    if groups.is_none() && ips.is_none() {
        return Err(Reply::error(
            400,
            1922,
            "Please specify at least one of the following parameters: ips, asset_group_ids",
        ));
    }
    let groups = groups.unwrap_or_default();
    let mut requested = groups.ips;
    if let Some(list) = ips {
        match IpSet::parse(list) {
            Ok(s) => requested.extend(&s),
            Err(e) => return Err(Reply::invalid("ips", &e.0, "invalid IP or range")),
        }
    }
    let hosts = requested.intersect(&c.model.subscription);
    if hosts.is_empty() {
        return Err(Reply::invalid(
            "ips",
            &requested.to_list(),
            "none of these hosts is in your subscription",
        ));
    }
    Ok((Vec::new(), hosts, groups.titles))
}

/// Renders and caches the file of report `idx` if it is Finished and not rendered yet.
fn ensure_content(c: &mut Ctx<'_>, idx: usize) -> Option<Bytes> {
    let r = c.model.reports.get(idx)?;
    if r.state(c.cfg, c.now) != "Finished" {
        return None;
    }
    if let Some(b) = &r.content {
        return Some(b.clone());
    }
    let bytes = Bytes::from(report_render::render(r, c.user));
    if let Some(r) = c.model.reports.get_mut(idx) {
        r.content = Some(bytes.clone());
    }
    Some(bytes)
}

/// `"129.1 MB"`-style size.
fn size_text(n: usize) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.1} MB", n / 1024.0 / 1024.0)
    } else if n >= 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

/// `/api/2.0/fo/report/?action=list`: filters `id`, `state`.
pub(crate) fn list(c: &mut Ctx<'_>) -> Reply {
    let id = match c.p.non_empty("id").map(str::parse::<u64>).transpose() {
        Ok(v) => v,
        Err(_) => {
            return Reply::invalid("id", c.p.get("id").unwrap_or(""), "not a positive integer")
        }
    };
    let state = c.p.non_empty("state").map(str::to_owned);
    let mut x = prolog(
        "REPORT_LIST_OUTPUT",
        "/api/2.0/fo/report/report_list_output.dtd",
    );
    x.push_str("<REPORT_LIST_OUTPUT>\n  <RESPONSE>\n");
    let _ = writeln!(x, "    <DATETIME>{}</DATETIME>", clock::datetime(c.wall));
    let mut rows = String::new();
    for idx in (0..c.model.reports.len()).rev() {
        let (rid, st) = match c.model.reports.get(idx) {
            Some(r) => (r.id, r.state(c.cfg, c.now)),
            None => continue,
        };
        if id.is_some_and(|i| i != rid) || state.as_deref().is_some_and(|s| s != st) {
            continue;
        }
        let size = ensure_content(c, idx).map_or_else(String::new, |b| size_text(b.len()));
        let Some(r) = c.model.reports.get(idx) else {
            continue;
        };
        let _ = write!(
            rows,
            "      <REPORT>\n        <ID>{}</ID>\n        <TITLE>{}</TITLE>\n        <TYPE>Scan</TYPE>\n        <USER_LOGIN>{}</USER_LOGIN>\n        <LAUNCH_DATETIME>{}</LAUNCH_DATETIME>\n        <OUTPUT_FORMAT>{}</OUTPUT_FORMAT>\n        <SIZE>{size}</SIZE>\n        <STATUS>\n          <STATE>{st}</STATE>\n",
            r.id,
            cdata(&r.title),
            escape(c.user),
            clock::datetime(r.launched),
            r.format.to_ascii_uppercase()
        );
        if st == "Running" {
            let done = c.now.saturating_duration_since(r.launched_at).as_secs_f64();
            let pct =
                (done / c.cfg.report_running.as_secs_f64().max(0.001) * 100.0).min(99.0) as u32;
            let _ = writeln!(rows, "          <PERCENT>{pct}</PERCENT>");
        }
        let expires = r.launched + Duration::from_secs(7 * 86_400);
        let _ = writeln!(rows, "        </STATUS>\n        <EXPIRATION_DATETIME>{}</EXPIRATION_DATETIME>\n      </REPORT>", clock::datetime(expires));
    }
    if !rows.is_empty() {
        x.push_str("    <REPORT_LIST>\n");
        x.push_str(&rows);
        x.push_str("    </REPORT_LIST>\n");
    }
    x.push_str("  </RESPONSE>\n</REPORT_LIST_OUTPUT>\n");
    Reply::xml(200, x, None)
}

/// `/api/2.0/fo/report/?action=fetch&id=…`: the file, or HTTP 200 / 7001 before it is
/// Finished (or for an unknown id).
pub(crate) fn fetch(c: &mut Ctx<'_>) -> Reply {
    let Some(id_s) = c.p.non_empty("id") else {
        return Reply::missing("id");
    };
    let not_ready = || Reply::error(200, 7001, "Report cannot be fetched.");
    let Some(idx) = id_s
        .parse::<u64>()
        .ok()
        .and_then(|id| c.model.reports.iter().position(|r| r.id == id))
    else {
        return not_ready();
    };
    let Some(body) = ensure_content(c, idx) else {
        return not_ready();
    };
    let Some(r) = c.model.reports.get(idx) else {
        return not_ready();
    };
    let ctype = match r.format.as_str() {
        "xml" => "application/xml",
        "csv" => "text/csv",
        "html" => "text/html",
        _ => "application/pdf",
    };
    let safe: String = r
        .title
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect();
    let name = format!(
        "Scan_Report_{safe}_{}_{}.{}",
        c.user,
        clock::compact_date(r.launched),
        r.format
    );
    Reply::raw(200, ctype, body).header(
        "Content-Disposition",
        format!("attachment; filename={name}"),
    )
}

/// `/api/2.0/fo/report/?action=cancel&id=…`: only a Running report can be canceled.
pub(crate) fn cancel(c: &mut Ctx<'_>) -> Reply {
    let Some(id_s) = c.p.non_empty("id") else {
        return Reply::missing("id");
    };
    let (cfg, now) = (c.cfg, c.now);
    let Some(r) = id_s
        .parse::<u64>()
        .ok()
        .and_then(|id| c.model.reports.iter_mut().find(|r| r.id == id))
    else {
        return Reply::invalid("id", id_s, "no report with this ID");
    };
    let st = r.state(cfg, now);
    if st != "Running" {
        return Reply::invalid("id", id_s, &format!("report is {st}, not Running"));
    }
    r.canceled = true;
    Reply::ok("Report cancelled", &[("ID", r.id.to_string())]).applied()
}

/// `/msp/report_template_list.php`: the configured templates, as REPORT_TEMPLATE_LIST.
pub(crate) fn templates(c: &mut Ctx<'_>) -> Reply {
    let mut x = prolog("REPORT_TEMPLATE_LIST", "/report_template_list.dtd");
    x.push_str(EVAL_COMMENT);
    x.push_str("\n<REPORT_TEMPLATE_LIST>\n");
    for t in &c.cfg.templates {
        let _ = writeln!(
            x,
            "  <REPORT_TEMPLATE>\n    <ID>{}</ID>\n    <TYPE>{}</TYPE>\n    <TEMPLATE_TYPE>{}</TEMPLATE_TYPE>\n    <TITLE>{}</TITLE>\n    <USER>\n      <LOGIN>{}</LOGIN>\n      <FIRSTNAME>{}</FIRSTNAME>\n      <LASTNAME>{}</LASTNAME>\n    </USER>\n    <LAST_UPDATE>{}</LAST_UPDATE>\n    <GLOBAL>1</GLOBAL>\n  </REPORT_TEMPLATE>",
            t.id,
            escape(&t.kind),
            escape(&t.template_type),
            cdata(&t.title),
            cdata("System"),
            cdata("System"),
            cdata("System"),
            clock::datetime(c.wall)
        );
    }
    x.push_str("</REPORT_TEMPLATE_LIST>\n");
    x.push_str(EVAL_COMMENT);
    x.push('\n');
    x.push_str(CONFIDENTIAL);
    x.push('\n');
    Reply::xml(200, x, None)
}
