//! Scan outputs: the launch result (`SIMPLE_RETURN` items) and `SCAN_LIST_OUTPUT`.

use roxmltree::Document;

use super::simple::Outcome;
use super::xml::{child, child_text, children, expect_root, required_text};
use super::ParseError;

/// A scan's state as the scan list reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanState {
    /// Waiting for a scanner.
    Queued,
    /// Being prepared.
    Loading,
    /// Submitted (not documented for VM scans, tolerated).
    Submitted,
    /// Scanning.
    Running,
    /// Paused (needs a resume).
    Paused,
    /// Done (check `processed` before reporting).
    Finished,
    /// Canceled.
    Canceled,
    /// Failed.
    Error,
    /// A state this client does not know (treat as still in progress, and log it).
    Other(String),
}

impl ScanState {
    /// Reads the STATE text (exact Qualys spelling).
    pub fn parse(s: &str) -> ScanState {
        match s {
            "Queued" => ScanState::Queued,
            "Loading" => ScanState::Loading,
            "Submitted" => ScanState::Submitted,
            "Running" => ScanState::Running,
            "Paused" => ScanState::Paused,
            "Finished" => ScanState::Finished,
            "Canceled" => ScanState::Canceled,
            "Error" => ScanState::Error,
            other => ScanState::Other(other.to_string()),
        }
    }

    /// True for `Finished`, `Canceled` and `Error`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ScanState::Finished | ScanState::Canceled | ScanState::Error
        )
    }
}

/// One `SCAN` of a scan list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// REF, e.g. `scan/1512633905.79357`.
    pub scan_ref: String,
    /// ID, when present.
    pub id: Option<u64>,
    /// TITLE.
    pub title: String,
    /// TYPE (`On-Demand`, `Scheduled`, `API`).
    pub scan_type: Option<String>,
    /// STATUS/STATE; `None` when the list had no status.
    pub state: Option<ScanState>,
    /// STATUS/SUB_STATE, e.g. `No_Host`.
    pub sub_state: Option<String>,
    /// PROCESSED = 1.
    pub processed: bool,
    /// LAUNCH_DATETIME as sent (`YYYY-MM-DDTHH:MM:SSZ`).
    pub launched_at: Option<String>,
    /// DURATION as sent (`HH:MM:SS`).
    pub duration: Option<String>,
    /// TARGET (comma list) as sent.
    pub target: Option<String>,
    /// ASSET_GROUP_TITLE_LIST (with `show_ags=1`).
    pub asset_groups: Vec<String>,
    /// OPTION_PROFILE/TITLE (with `show_op=1`).
    pub option_profile: Option<String>,
}

/// What a scan launch returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchedScan {
    /// Item `ID`, when given.
    pub id: Option<u64>,
    /// Item `REFERENCE`, the scan ref to poll.
    pub scan_ref: String,
}

/// Reads a successful scan launch.
pub(crate) fn launched_scan(outcome: &Outcome) -> Result<LaunchedScan, ParseError> {
    let scan_ref = outcome
        .item("REFERENCE")
        .filter(|r| !r.is_empty())
        .ok_or(ParseError::Missing {
            parent: "ITEM_LIST",
            field: "REFERENCE",
        })?
        .to_string();
    let id = outcome.item("ID").and_then(|v| v.parse().ok());
    Ok(LaunchedScan { id, scan_ref })
}

/// Reads a `SCAN_LIST_OUTPUT`; no `SCAN_LIST` means no scans.
pub(crate) fn parse_scan_list(doc: &Document<'_>) -> Result<Vec<Scan>, ParseError> {
    let root = expect_root(doc, "SCAN_LIST_OUTPUT")?;
    let response = child(root, "RESPONSE").ok_or(ParseError::Missing {
        parent: "SCAN_LIST_OUTPUT",
        field: "RESPONSE",
    })?;
    let Some(list) = child(response, "SCAN_LIST") else {
        return Ok(Vec::new());
    };
    let mut scans = Vec::new();
    for node in children(list, "SCAN") {
        let status = child(node, "STATUS");
        let id = match child_text(node, "ID") {
            Some(v) => Some(v.parse().map_err(|_| ParseError::Invalid {
                field: "ID",
                value: v,
            })?),
            None => None,
        };
        scans.push(Scan {
            scan_ref: required_text(node, "SCAN", "REF")?,
            id,
            title: child_text(node, "TITLE").unwrap_or_default(),
            scan_type: child_text(node, "TYPE"),
            state: status
                .and_then(|s| child_text(s, "STATE"))
                .map(|s| ScanState::parse(&s)),
            sub_state: status.and_then(|s| child_text(s, "SUB_STATE")),
            processed: child_text(node, "PROCESSED").as_deref() == Some("1"),
            launched_at: child_text(node, "LAUNCH_DATETIME"),
            duration: child_text(node, "DURATION"),
            target: child_text(node, "TARGET"),
            asset_groups: child(node, "ASSET_GROUP_TITLE_LIST")
                .map(|l| {
                    children(l, "ASSET_GROUP_TITLE")
                        .map(super::xml::text)
                        .collect()
                })
                .unwrap_or_default(),
            option_profile: child(node, "OPTION_PROFILE").and_then(|o| child_text(o, "TITLE")),
        });
    }
    Ok(scans)
}

#[cfg(test)]
mod tests {
    use super::super::samples as s;
    use super::super::xml::parse_doc;
    use super::*;

    fn list(body: &str) -> Result<Vec<Scan>, ParseError> {
        parse_scan_list(&parse_doc(body).expect("XML"))
    }

    #[test]
    fn empty_list_has_no_scans() {
        assert_eq!(list(s::SCAN_LIST_EMPTY), Ok(Vec::new()));
    }

    #[test]
    fn mixed_list() {
        let scans = list(s::SCAN_LIST_MIXED).expect("parses");
        assert!(scans.len() >= 4, "{}", scans.len());
        assert_eq!(scans[0].scan_ref, "scan/1512633905.79357");
        assert_eq!(scans[0].state, Some(ScanState::Error));
        assert_eq!(scans[0].title, "shellshock 20171207");
        assert_eq!(scans[0].target.as_deref(), Some("47.69.112.62"));
        assert!(scans[0].processed);
        assert_eq!(scans[1].state, Some(ScanState::Finished));
        assert_eq!(scans[1].duration.as_deref(), Some("00:07:02"));
        assert_eq!(scans[3].scan_type.as_deref(), Some("On-Demand"));
    }

    #[test]
    fn v3_no_host_with_cdata_whitespace() {
        let scans = list(s::SCAN_LIST_V3_NO_HOST).expect("parses");
        assert_eq!(scans.len(), 1);
        let scan = &scans[0];
        assert_eq!(scan.title, "Azure Scan Internal Test");
        assert_eq!(scan.sub_state.as_deref(), Some("No_Host"));
        assert_eq!(scan.state, Some(ScanState::Finished));
        assert!(scan
            .target
            .as_deref()
            .is_some_and(|t| t.starts_with("65188eb1")));
    }

    #[test]
    fn show_ags_and_op() {
        let body = "<SCAN_LIST_OUTPUT><RESPONSE><SCAN_LIST><SCAN><ID>7</ID>\
            <REF>scan/1.2</REF><STATUS><STATE>Queued</STATE></STATUS><PROCESSED>0</PROCESSED>\
            <ASSET_GROUP_TITLE_LIST><ASSET_GROUP_TITLE><![CDATA[Acme [J1]]]></ASSET_GROUP_TITLE>\
            </ASSET_GROUP_TITLE_LIST><OPTION_PROFILE><TITLE><![CDATA[Opt]]></TITLE>\
            <DEFAULT_FLAG>0</DEFAULT_FLAG></OPTION_PROFILE></SCAN></SCAN_LIST></RESPONSE>\
            </SCAN_LIST_OUTPUT>";
        let scans = list(body).expect("parses");
        assert_eq!(scans[0].id, Some(7));
        assert_eq!(scans[0].asset_groups, vec!["Acme [J1]".to_string()]);
        assert_eq!(scans[0].option_profile.as_deref(), Some("Opt"));
        assert!(!scans[0].processed);
        assert!(!ScanState::Queued.is_terminal() && ScanState::Canceled.is_terminal());
    }

    #[test]
    fn missing_ref_is_an_error() {
        let body = "<SCAN_LIST_OUTPUT><RESPONSE><SCAN_LIST><SCAN><TITLE>x</TITLE></SCAN>\
            </SCAN_LIST></RESPONSE></SCAN_LIST_OUTPUT>";
        assert_eq!(
            list(body),
            Err(ParseError::Missing {
                parent: "SCAN",
                field: "REF"
            })
        );
    }

    #[test]
    fn wrong_root() {
        assert!(matches!(
            list(s::REPORT_LIST),
            Err(ParseError::UnexpectedRoot { .. })
        ));
    }
}
