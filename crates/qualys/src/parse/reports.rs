//! Report outputs: the launch result, `REPORT_LIST_OUTPUT` and the v1 `REPORT_TEMPLATE_LIST`.

use roxmltree::Document;

use super::simple::Outcome;
use super::xml::{child, child_text, children, expect_root, required_u64};
use super::ParseError;

/// A report's state in the report list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportState {
    /// Accepted, not started.
    Submitted,
    /// Being generated.
    Running,
    /// Ready to fetch.
    Finished,
    /// Canceled.
    Canceled,
    /// Failed (Qualys spells it `Errors`).
    Errors,
    /// Anything else (treat as in progress, and log it).
    Other(String),
}

impl ReportState {
    /// Reads the STATE text.
    pub fn parse(s: &str) -> ReportState {
        match s {
            "Submitted" => ReportState::Submitted,
            "Running" => ReportState::Running,
            "Finished" => ReportState::Finished,
            "Canceled" => ReportState::Canceled,
            "Errors" => ReportState::Errors,
            other => ReportState::Other(other.to_string()),
        }
    }

    /// True for `Finished`, `Canceled` and `Errors`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ReportState::Finished | ReportState::Canceled | ReportState::Errors
        )
    }
}

/// One `REPORT` of a report list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// ID.
    pub id: u64,
    /// TITLE.
    pub title: String,
    /// TYPE, e.g. `Scan`.
    pub report_type: Option<String>,
    /// OUTPUT_FORMAT, e.g. `PDF`.
    pub output_format: Option<String>,
    /// STATUS/STATE (`None` if absent).
    pub state: Option<ReportState>,
    /// STATUS/MESSAGE.
    pub message: Option<String>,
    /// STATUS/PERCENT.
    pub percent: Option<String>,
    /// SIZE as sent, e.g. `129.1 MB`.
    pub size: Option<String>,
    /// LAUNCH_DATETIME as sent.
    pub launched_at: Option<String>,
    /// EXPIRATION_DATETIME as sent.
    pub expires_at: Option<String>,
}

/// One `REPORT_TEMPLATE` of the template list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTemplate {
    /// ID (the `template_id` of a report launch).
    pub id: u64,
    /// TITLE.
    pub title: String,
    /// TYPE (`Auto` or `Manual`).
    pub kind: Option<String>,
    /// TEMPLATE_TYPE (`Scan`, `Patch`, `Compliance`, …).
    pub template_type: Option<String>,
}

/// Reads a successful report launch: the item `ID`.
pub(crate) fn launched_report(outcome: &Outcome) -> Result<u64, ParseError> {
    let value = outcome.item("ID").ok_or(ParseError::Missing {
        parent: "ITEM_LIST",
        field: "ID",
    })?;
    value.parse().map_err(|_| ParseError::Invalid {
        field: "ID",
        value: value.to_string(),
    })
}

/// Reads a `REPORT_LIST_OUTPUT`; no `REPORT_LIST` means no reports.
pub(crate) fn parse_report_list(doc: &Document<'_>) -> Result<Vec<Report>, ParseError> {
    let root = expect_root(doc, "REPORT_LIST_OUTPUT")?;
    let response = child(root, "RESPONSE").ok_or(ParseError::Missing {
        parent: "REPORT_LIST_OUTPUT",
        field: "RESPONSE",
    })?;
    let Some(list) = child(response, "REPORT_LIST") else {
        return Ok(Vec::new());
    };
    let mut reports = Vec::new();
    for node in children(list, "REPORT") {
        let status = child(node, "STATUS");
        reports.push(Report {
            id: required_u64(node, "REPORT", "ID")?,
            title: child_text(node, "TITLE").unwrap_or_default(),
            report_type: child_text(node, "TYPE"),
            output_format: child_text(node, "OUTPUT_FORMAT"),
            state: status
                .and_then(|s| child_text(s, "STATE"))
                .map(|s| ReportState::parse(&s)),
            message: status.and_then(|s| child_text(s, "MESSAGE")),
            percent: status.and_then(|s| child_text(s, "PERCENT")),
            size: child_text(node, "SIZE"),
            launched_at: child_text(node, "LAUNCH_DATETIME"),
            expires_at: child_text(node, "EXPIRATION_DATETIME"),
        });
    }
    Ok(reports)
}

/// Reads a `REPORT_TEMPLATE_LIST`.
pub(crate) fn parse_template_list(doc: &Document<'_>) -> Result<Vec<ReportTemplate>, ParseError> {
    let root = expect_root(doc, "REPORT_TEMPLATE_LIST")?;
    let mut out = Vec::new();
    for node in children(root, "REPORT_TEMPLATE") {
        out.push(ReportTemplate {
            id: required_u64(node, "REPORT_TEMPLATE", "ID")?,
            title: child_text(node, "TITLE").unwrap_or_default(),
            kind: child_text(node, "TYPE"),
            template_type: child_text(node, "TEMPLATE_TYPE"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::samples as s;
    use super::super::simple::parse_return;
    use super::super::xml::parse_doc;
    use super::*;

    #[test]
    fn report_list_with_leading_newline_and_comment() {
        let doc = parse_doc(s::REPORT_LIST.trim_start()).expect("XML");
        let reports = parse_report_list(&doc).expect("parses");
        assert_eq!(reports.len(), 1);
        let r = &reports[0];
        assert_eq!(r.id, 42703);
        assert_eq!(r.title, "Test now");
        assert_eq!(r.state, Some(ReportState::Finished));
        assert_eq!(r.output_format.as_deref(), Some("PDF"));
        assert_eq!(r.size.as_deref(), Some("129.1 MB"));
        assert_eq!(r.expires_at.as_deref(), Some("2017-11-06T17:59:24Z"));
        assert!(ReportState::Finished.is_terminal() && !ReportState::Running.is_terminal());
    }

    #[test]
    fn template_list() {
        let doc = parse_doc(s::TEMPLATE_LIST).expect("XML");
        let t = parse_template_list(&doc).expect("parses");
        assert!(t.len() >= 6, "{}", t.len());
        assert_eq!(t[0].id, 91078694);
        assert_eq!(t[0].title, "Executive Report");
        assert_eq!(t[0].kind.as_deref(), Some("Auto"));
        assert_eq!(t[2].template_type.as_deref(), Some("Patch"));
    }

    #[test]
    fn report_launch_id() {
        let doc = parse_doc(s::REPORT_LAUNCH).expect("XML");
        let o = parse_return(&doc).expect("return").expect("parses");
        assert_eq!(launched_report(&o), Ok(4927942));
        let none = Outcome::default();
        assert!(launched_report(&none).is_err());
    }

    #[test]
    fn empty_report_list() {
        let body = "<REPORT_LIST_OUTPUT><RESPONSE><DATETIME>x</DATETIME></RESPONSE>\
                    </REPORT_LIST_OUTPUT>";
        let doc = parse_doc(body).expect("XML");
        assert_eq!(parse_report_list(&doc), Ok(Vec::new()));
    }
}
