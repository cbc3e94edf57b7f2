//! Asset outputs: `ASSET_GROUP_LIST_OUTPUT` (with its 1980 pagination warning) and
//! `APPLIANCE_LIST_OUTPUT`.

use std::net::Ipv4Addr;

use roxmltree::{Document, Node};

use super::xml::{child, child_text, children, expect_root, required_u64, text};
use super::ParseError;

/// One asset group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetGroup {
    /// ID.
    pub id: u64,
    /// TITLE.
    pub title: String,
    /// IP_SET entries (IP and IP_RANGE) as `(first, last)` IPv4 ranges.
    pub ips: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// IP_SET entries that are not IPv4 addresses or ranges (e.g. IPv6), as sent.
    pub other_ips: Vec<String>,
}

/// One page of an asset group list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetGroupPage {
    /// The groups on this page.
    pub groups: Vec<AssetGroup>,
    /// The WARNING (CODE 1980) URL of the next page, if the list was truncated.
    pub next_url: Option<String>,
}

/// One scanner appliance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appliance {
    /// ID (for `appliance_ids`).
    pub id: u64,
    /// NAME (for `iscanner_name`).
    pub name: String,
}

/// The next-page URL of a list response: `RESPONSE/WARNING` with CODE 1980 and a URL.
fn next_url(response: Node<'_, '_>) -> Option<String> {
    let warning = child(response, "WARNING")?;
    if child_text(warning, "CODE").as_deref() != Some("1980") {
        return None;
    }
    child_text(warning, "URL")
}

/// `a.b.c.d` or `a.b.c.d-e.f.g.h`.
fn parse_range(s: &str) -> Option<(Ipv4Addr, Ipv4Addr)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let ip = s.trim().parse().ok()?;
            Some((ip, ip))
        }
    }
}

/// Reads an `ASSET_GROUP_LIST_OUTPUT` page.
pub(crate) fn parse_asset_group_list(doc: &Document<'_>) -> Result<AssetGroupPage, ParseError> {
    let root = expect_root(doc, "ASSET_GROUP_LIST_OUTPUT")?;
    let response = child(root, "RESPONSE").ok_or(ParseError::Missing {
        parent: "ASSET_GROUP_LIST_OUTPUT",
        field: "RESPONSE",
    })?;
    let mut groups = Vec::new();
    if let Some(list) = child(response, "ASSET_GROUP_LIST") {
        for node in children(list, "ASSET_GROUP") {
            let mut ips = Vec::new();
            let mut other_ips = Vec::new();
            if let Some(set) = child(node, "IP_SET") {
                for entry in set.children().filter(|c| c.is_element()) {
                    let name = entry.tag_name().name();
                    if name != "IP" && name != "IP_RANGE" {
                        continue;
                    }
                    let value = text(entry);
                    match parse_range(&value) {
                        Some(r) => ips.push(r),
                        None => other_ips.push(value),
                    }
                }
            }
            groups.push(AssetGroup {
                id: required_u64(node, "ASSET_GROUP", "ID")?,
                title: child_text(node, "TITLE").unwrap_or_default(),
                ips,
                other_ips,
            });
        }
    }
    Ok(AssetGroupPage {
        groups,
        next_url: next_url(response),
    })
}

/// Reads an `APPLIANCE_LIST_OUTPUT`.
pub(crate) fn parse_appliance_list(doc: &Document<'_>) -> Result<Vec<Appliance>, ParseError> {
    let root = expect_root(doc, "APPLIANCE_LIST_OUTPUT")?;
    let response = child(root, "RESPONSE").ok_or(ParseError::Missing {
        parent: "APPLIANCE_LIST_OUTPUT",
        field: "RESPONSE",
    })?;
    let mut out = Vec::new();
    if let Some(list) = child(response, "APPLIANCE_LIST") {
        for node in children(list, "APPLIANCE") {
            out.push(Appliance {
                id: required_u64(node, "APPLIANCE", "ID")?,
                name: child_text(node, "NAME").unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples as s;
    use super::super::xml::parse_doc;
    use super::*;

    const GROUPS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n\
        <!DOCTYPE ASSET_GROUP_LIST_OUTPUT SYSTEM\n\
        \"https://qualysapi.qualys.com/api/2.0/fo/asset/group/asset_group_list_output.dtd\">\n\
        <ASSET_GROUP_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z </DATETIME>\
        <ASSET_GROUP_LIST><ASSET_GROUP><ID> 12 </ID><TITLE>\n <![CDATA[Acme Corp]]>\n</TITLE>\
        <IP_SET><IP>10.0.0.1</IP><IP_RANGE>10.0.0.5-10.0.0.9</IP_RANGE><IP>fe80::1</IP>\
        </IP_SET></ASSET_GROUP><ASSET_GROUP><ID>13</ID><TITLE>Empty</TITLE></ASSET_GROUP>\
        </ASSET_GROUP_LIST><WARNING><CODE>1980</CODE><TEXT>1 record limit exceeded.</TEXT>\
        <URL><![CDATA[https://h/api/2.0/fo/asset/group/?action=list&id_min=14]]></URL>\
        </WARNING></RESPONSE></ASSET_GROUP_LIST_OUTPUT>";

    #[test]
    fn groups_with_ip_set_and_warning() {
        let page = parse_asset_group_list(&parse_doc(GROUPS).expect("XML")).expect("parses");
        assert_eq!(page.groups.len(), 2);
        let g = &page.groups[0];
        assert_eq!((g.id, g.title.as_str()), (12, "Acme Corp"));
        assert_eq!(
            g.ips,
            vec![
                (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 1)),
                (Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 9)),
            ]
        );
        assert_eq!(g.other_ips, vec!["fe80::1".to_string()]);
        assert!(page.groups[1].ips.is_empty());
        assert_eq!(
            page.next_url.as_deref(),
            Some("https://h/api/2.0/fo/asset/group/?action=list&id_min=14")
        );
    }

    #[test]
    fn empty_list_element() {
        let body = "<ASSET_GROUP_LIST_OUTPUT><RESPONSE><DATETIME>x</DATETIME>\
                    <ASSET_GROUP_LIST /></RESPONSE></ASSET_GROUP_LIST_OUTPUT>";
        let page = parse_asset_group_list(&parse_doc(body).expect("XML")).expect("parses");
        assert!(page.groups.is_empty() && page.next_url.is_none());
    }

    #[test]
    fn warning_shape_of_host_list_sample() {
        // The only real 1980 sample is a host list: same WARNING block, other root.
        let doc = parse_doc(s::HOST_LIST_1980).expect("XML");
        let response = child(doc.root_element(), "RESPONSE").expect("RESPONSE");
        let url = next_url(response).expect("1980 URL");
        assert!(
            url.starts_with("https://qualysapi.p01.eng.sjc01.qualys.com/api/4.0/fo/asset/host/")
        );
        assert!(url.ends_with("id_min=145359"));
        assert!(parse_asset_group_list(&doc).is_err());
    }

    #[test]
    fn appliances() {
        let body = "<APPLIANCE_LIST_OUTPUT><RESPONSE><DATETIME>x</DATETIME><APPLIANCE_LIST>\
            <APPLIANCE><ID>1001</ID><NAME>scanner-a</NAME></APPLIANCE>\
            <APPLIANCE><ID>1002</ID><NAME><![CDATA[ scanner-b ]]></NAME></APPLIANCE>\
            </APPLIANCE_LIST></RESPONSE></APPLIANCE_LIST_OUTPUT>";
        let list = parse_appliance_list(&parse_doc(body).expect("XML")).expect("parses");
        assert_eq!(
            list,
            vec![
                Appliance {
                    id: 1001,
                    name: "scanner-a".into()
                },
                Appliance {
                    id: 1002,
                    name: "scanner-b".into()
                },
            ]
        );
    }
}
