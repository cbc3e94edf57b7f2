//! Asset endpoints: IPs (v2 and v1), asset groups (v2 and v1) and scanner appliances.

use std::fmt::Write as _;

use crate::clock;
use crate::ctx::{parse_id_list, Ctx};
use crate::ips::IpSet;
use crate::model::Group;
use crate::params::encode;
use crate::reply::Reply;
use crate::xml::{self, cdata, escape, prolog};

/// Text of a successful IP add.
const IPS_ADDED: &str = "IPs successfully added to Vulnerability Management";

/// `/api/2.0/fo/asset/ip/?action=add`.
pub(crate) fn ip_add(c: &mut Ctx<'_>) -> Reply {
    let Some(ips) = c.p.non_empty("ips") else {
        return Reply::missing("ips");
    };
    if !c.p.flag("enable_vm") && !c.p.flag("enable_pc") {
        return Reply::error(
            400,
            1922,
            "Please specify at least one of the following parameters: enable_vm, enable_pc",
        );
    }
    if let Some(t) = c.p.non_empty("tracking_method") {
        if !["IP", "DNS", "NETBIOS"].contains(&t.to_ascii_uppercase().as_str()) {
            return Reply::invalid("tracking_method", t, "expected IP, DNS or NETBIOS");
        }
    }
    match IpSet::parse(ips) {
        Ok(set) if !set.is_empty() => {
            c.model.subscription.extend(&set);
            Reply::ok(IPS_ADDED, &[]).applied()
        }
        Ok(_) => Reply::missing("ips"),
        Err(e) => Reply::invalid("ips", &e.0, "invalid IP or range"),
    }
}

/// `/msp/asset_ip.php?action=add&host_ips=…` (v1: GENERIC_RETURN, always HTTP 200).
pub(crate) fn ip_add_v1(c: &mut Ctx<'_>) -> Reply {
    let failed = |text: String| {
        Reply::xml(
            200,
            xml::generic_return("asset_ip.php", c.user, "FAILED", Some(5000), &text),
            Some(5000),
        )
    };
    let Some(ips) = c.p.non_empty("host_ips") else {
        return failed("Missing required parameter 'host_ips'.".to_owned());
    };
    match IpSet::parse(ips) {
        Ok(set) if !set.is_empty() => {
            c.model.subscription.extend(&set);
            Reply::xml(
                200,
                xml::generic_return("asset_ip.php", c.user, "SUCCESS", None, IPS_ADDED),
                None,
            )
            .applied()
        }
        Ok(_) => failed("Missing required parameter 'host_ips'.".to_owned()),
        Err(e) => failed(format!(
            "Invalid value for 'host_ips' : {}. Invalid IP or range.",
            e.0
        )),
    }
}

/// Parses `appliance_ids`-style lists against the configured appliances.
fn appliance_ids(c: &Ctx<'_>, name: &str) -> Result<Vec<u64>, Reply> {
    let Some(list) = c.p.non_empty(name) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.parse::<u64>() {
            Ok(id) if c.cfg.appliances.iter().any(|(a, _)| *a == id) => out.push(id),
            _ => {
                return Err(Reply::invalid(
                    name,
                    item,
                    "no scanner appliance with this ID",
                ))
            }
        }
    }
    Ok(out)
}

/// Longest asset group title and comments accepted (qualys-api.md §5.1).
const MAX_GROUP_TEXT: usize = 255;

/// The §5.1 rules for a group title given as parameter `name`: at most 255 characters and
/// not the reserved `All` (compared without case: the stricter reading).
fn check_title(name: &str, title: &str) -> Result<(), Reply> {
    if title.chars().count() > MAX_GROUP_TEXT {
        return Err(Reply::invalid(name, title, "longer than 255 characters"));
    }
    if title.trim().eq_ignore_ascii_case("All") {
        return Err(Reply::invalid(name, title, "the title All is reserved"));
    }
    Ok(())
}

/// The §5.1 rule for group comments given as parameter `name`: at most 255 characters.
fn check_comments(name: &str, comments: &str) -> Result<(), Reply> {
    if comments.chars().count() > MAX_GROUP_TEXT {
        return Err(Reply::invalid(name, comments, "longer than 255 characters"));
    }
    Ok(())
}

/// `/api/2.0/fo/asset/group/?action=add`: `title` (required, ≤ 255, not `All`), `ips`,
/// `comments` (≤ 255), `appliance_ids`; a duplicate title → 1905.
pub(crate) fn group_add(c: &mut Ctx<'_>) -> Reply {
    let Some(title) = c.p.non_empty("title") else {
        return Reply::missing("title");
    };
    if let Err(r) = check_title("title", title)
        .and_then(|()| check_comments("comments", c.p.get("comments").unwrap_or("")))
    {
        return r;
    }
    if c.model.group_by_title(title).is_some() {
        return Reply::invalid(
            "title",
            title,
            "an asset group with this title already exists",
        );
    }
    let ips = match IpSet::parse(c.p.get("ips").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return Reply::invalid("ips", &e.0, "invalid IP or range"),
    };
    let appliance_ids = match appliance_ids(c, "appliance_ids") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let id = c.model.group_id();
    c.model.groups.push(Group {
        id,
        title: title.to_owned(),
        ips,
        comments: c.p.get("comments").unwrap_or("").to_owned(),
        appliance_ids,
    });
    Reply::ok("Asset Group successfully added.", &[("ID", id.to_string())]).applied()
}

/// `/msp/asset_group.php?action=add&title=…&host_ips=…` (v1).
pub(crate) fn group_add_v1(c: &mut Ctx<'_>) -> Reply {
    let fail = |text: String| {
        Reply::xml(
            200,
            xml::generic_return("asset_group.php", c.user, "FAILED", Some(5000), &text),
            Some(5000),
        )
    };
    let Some(title) = c.p.non_empty("title") else {
        return fail("Missing required parameter 'title'.".to_owned());
    };
    if check_title("title", title).is_err() {
        return fail(format!(
            "Invalid value for 'title' : {title}. Longer than 255 characters or reserved."
        ));
    }
    if c.model.group_by_title(title).is_some() {
        return fail(format!(
            "Invalid value for 'title' : {title}. An asset group with this title already exists."
        ));
    }
    let ips = match IpSet::parse(c.p.get("host_ips").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "Invalid value for 'host_ips' : {}. Invalid IP or range.",
                e.0
            ))
        }
    };
    let id = c.model.group_id();
    c.model.groups.push(Group {
        id,
        title: title.to_owned(),
        ips,
        comments: String::new(),
        appliance_ids: Vec::new(),
    });
    Reply::xml(
        200,
        xml::generic_return(
            "asset_group.php",
            c.user,
            "SUCCESS",
            None,
            "Asset Group successfully added.",
        ),
        None,
    )
    .applied()
}

/// `/api/2.0/fo/asset/group/?action=edit`: `id` with `add_ips`, `remove_ips`, `set_ips`,
/// `add_appliance_ids`, `set_comments`, `set_title`.
pub(crate) fn group_edit(c: &mut Ctx<'_>) -> Reply {
    let Some(id_s) = c.p.non_empty("id") else {
        return Reply::missing("id");
    };
    let Ok(id) = id_s.parse::<u64>() else {
        return Reply::invalid("id", id_s, "not a positive integer");
    };
    let Some(idx) = c.model.groups.iter().position(|g| g.id == id) else {
        return Reply::invalid("id", id_s, "no asset group with this ID");
    };
    let mut g = c.model.groups[idx].clone();
    for (name, op) in [("set_ips", 0), ("add_ips", 1), ("remove_ips", 2)] {
        if let Some(list) = c.p.get(name) {
            let set = match IpSet::parse(list) {
                Ok(s) => s,
                Err(e) => return Reply::invalid(name, &e.0, "invalid IP or range"),
            };
            match op {
                0 => g.ips = set,
                1 => g.ips.extend(&set),
                _ => g.ips = g.ips.minus(&set),
            }
        }
    }
    match appliance_ids(c, "add_appliance_ids") {
        Ok(ids) => {
            for a in ids {
                if !g.appliance_ids.contains(&a) {
                    g.appliance_ids.push(a);
                }
            }
        }
        Err(r) => return r,
    }
    if let Some(t) = c.p.non_empty("set_title") {
        if let Err(r) = check_title("set_title", t) {
            return r;
        }
        if c.model.groups.iter().any(|o| o.id != id && o.title == t) {
            return Reply::invalid(
                "set_title",
                t,
                "an asset group with this title already exists",
            );
        }
        g.title = t.to_owned();
    }
    if let Some(cm) = c.p.get("set_comments") {
        if let Err(r) = check_comments("set_comments", cm) {
            return r;
        }
        g.comments = cm.to_owned();
    }
    c.model.groups[idx] = g;
    Reply::ok(
        "Asset Group Updated Successfully",
        &[("ID", id.to_string())],
    )
    .applied()
}

/// `/api/2.0/fo/asset/group/?action=list`: filters `ids`, `title`; paging by
/// `truncation_limit` (default 1000, 0 = all) and `id_min`, with a WARNING/1980 and the next URL.
pub(crate) fn group_list(c: &mut Ctx<'_>) -> Reply {
    let ids = match c.p.non_empty("ids").map(parse_id_list).transpose() {
        Ok(v) => v,
        Err(item) => {
            return Reply::invalid(
                "ids",
                &item,
                &format!("neither a positive integer nor a range: {item}"),
            )
        }
    };
    let limit = match c
        .p
        .non_empty("truncation_limit")
        .map(str::parse::<usize>)
        .transpose()
    {
        Ok(v) => v.unwrap_or(1000),
        Err(_) => {
            return Reply::invalid(
                "truncation_limit",
                c.p.get("truncation_limit").unwrap_or(""),
                "not a non-negative integer",
            )
        }
    };
    let id_min = match c.p.non_empty("id_min").map(str::parse::<u64>).transpose() {
        Ok(v) => v.unwrap_or(0),
        Err(_) => {
            return Reply::invalid(
                "id_min",
                c.p.get("id_min").unwrap_or(""),
                "not a positive integer",
            )
        }
    };
    let title = c.p.non_empty("title");
    let mut groups: Vec<&Group> = c
        .model
        .groups
        .iter()
        .filter(|g| g.id >= id_min)
        .filter(|g| {
            ids.as_ref()
                .is_none_or(|r| r.iter().any(|&(a, b)| (a..=b).contains(&g.id)))
        })
        .filter(|g| title.is_none_or(|t| g.title == t))
        .collect();
    groups.sort_by_key(|g| g.id);
    let next = (limit > 0 && groups.len() > limit).then(|| groups[limit].id);
    if limit > 0 {
        groups.truncate(limit);
    }
    let mut x = prolog(
        "ASSET_GROUP_LIST_OUTPUT",
        "/api/2.0/fo/asset/group/asset_group_list_output.dtd",
    );
    x.push_str("<ASSET_GROUP_LIST_OUTPUT>\n  <RESPONSE>\n");
    let _ = writeln!(x, "    <DATETIME>{}</DATETIME>", clock::datetime(c.wall));
    if !groups.is_empty() {
        x.push_str("    <ASSET_GROUP_LIST>\n");
        for g in &groups {
            group_xml(&mut x, g);
        }
        x.push_str("    </ASSET_GROUP_LIST>\n");
    }
    if let Some(next_id) = next {
        let mut url = format!("{}{}?action=list", c.base_url, c.path);
        for (k, v) in &c.p.0 {
            if k != "action" && k != "id_min" {
                let _ = write!(url, "&{}={}", encode(k), encode(v));
            }
        }
        let _ = write!(url, "&id_min={next_id}");
        let _ = write!(
            x,
            "    <WARNING>\n      <CODE>1980</CODE>\n      <TEXT>{limit} record limit exceeded. Use URL to get next batch of results.</TEXT>\n      <URL>{}</URL>\n    </WARNING>\n",
            cdata(&url)
        );
    }
    x.push_str("  </RESPONSE>\n</ASSET_GROUP_LIST_OUTPUT>\n");
    Reply::xml(200, x, None)
}

/// One ASSET_GROUP element.
fn group_xml(x: &mut String, g: &Group) {
    let _ = writeln!(
        x,
        "      <ASSET_GROUP>\n        <ID>{}</ID>\n        <TITLE>{}</TITLE>",
        g.id,
        cdata(&g.title)
    );
    if !g.ips.is_empty() {
        x.push_str("        <IP_SET>\n");
        for (a, b) in g.ips.ranges() {
            if a == b {
                let _ = writeln!(x, "          <IP>{a}</IP>");
            } else {
                let _ = writeln!(x, "          <IP_RANGE>{a}-{b}</IP_RANGE>");
            }
        }
        x.push_str("        </IP_SET>\n");
    }
    if !g.appliance_ids.is_empty() {
        let ids: Vec<String> = g.appliance_ids.iter().map(u64::to_string).collect();
        let _ = writeln!(
            x,
            "        <APPLIANCE_IDS>{}</APPLIANCE_IDS>",
            ids.join(",")
        );
    }
    if let Some(&first) = g.appliance_ids.first() {
        let _ = writeln!(
            x,
            "        <DEFAULT_APPLIANCE_ID>{first}</DEFAULT_APPLIANCE_ID>"
        );
    }
    let _ = writeln!(x, "        <COMMENTS>{}</COMMENTS>", cdata(&g.comments));
    x.push_str("      </ASSET_GROUP>\n");
}

/// `/api/2.0/fo/appliance/?action=list`.
pub(crate) fn appliance_list(c: &mut Ctx<'_>) -> Reply {
    let mut x = prolog(
        "APPLIANCE_LIST_OUTPUT",
        "/api/2.0/fo/appliance/appliance_list_output.dtd",
    );
    x.push_str("<APPLIANCE_LIST_OUTPUT>\n  <RESPONSE>\n");
    let _ = writeln!(x, "    <DATETIME>{}</DATETIME>", clock::datetime(c.wall));
    if !c.cfg.appliances.is_empty() {
        x.push_str("    <APPLIANCE_LIST>\n");
        for (id, name) in &c.cfg.appliances {
            let _ = writeln!(
                x,
                "      <APPLIANCE>\n        <ID>{id}</ID>\n        <NAME>{}</NAME>\n        <STATUS>Online</STATUS>\n      </APPLIANCE>",
                escape(name)
            );
        }
        x.push_str("    </APPLIANCE_LIST>\n");
    }
    x.push_str("  </RESPONSE>\n</APPLIANCE_LIST_OUTPUT>\n");
    Reply::xml(200, x, None)
}
