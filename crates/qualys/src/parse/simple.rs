//! `SIMPLE_RETURN` (v2 results and errors) and `GENERIC_RETURN` (v1 results, CODE 999)
//! read into one [`Outcome`].

use roxmltree::Document;

use super::xml::{child, child_text, children, text};
use super::ParseError;

/// What a `SIMPLE_RETURN` or `GENERIC_RETURN` said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The numeric CODE (v2) or `RETURN@number` of a failed v1 call.
    pub code: Option<u32>,
    /// True when the body reports a failure: a numeric CODE, or v1 `status="FAILED"`.
    /// A CODE with non-numeric text (seen on some successes) is not a failure.
    pub failed: bool,
    /// TEXT (v2) or the RETURN text (v1), trimmed.
    pub text: String,
    /// `ITEM_LIST` key/value pairs, in order.
    pub items: Vec<(String, String)>,
}

impl Outcome {
    /// The value of the first item with this key.
    pub fn item(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the document as a return: `None` when the root is neither `SIMPLE_RETURN` nor
/// `GENERIC_RETURN` (so it is the call's own output).
pub(crate) fn parse_return(doc: &Document<'_>) -> Option<Result<Outcome, ParseError>> {
    let root = doc.root_element();
    match root.tag_name().name() {
        "SIMPLE_RETURN" => Some(parse_simple(doc)),
        "GENERIC_RETURN" => Some(parse_generic(doc)),
        _ => None,
    }
}

fn parse_simple(doc: &Document<'_>) -> Result<Outcome, ParseError> {
    let root = doc.root_element();
    let response = child(root, "RESPONSE").ok_or(ParseError::Missing {
        parent: "SIMPLE_RETURN",
        field: "RESPONSE",
    })?;
    let code_text = child_text(response, "CODE");
    let code = code_text.as_deref().and_then(|c| c.parse::<u32>().ok());
    let mut items = Vec::new();
    if let Some(list) = child(response, "ITEM_LIST") {
        for item in children(list, "ITEM") {
            let key = child_text(item, "KEY").unwrap_or_default();
            let value = child_text(item, "VALUE").unwrap_or_default();
            items.push((key, value));
        }
    }
    Ok(Outcome {
        code,
        failed: code.is_some(),
        text: child_text(response, "TEXT").unwrap_or_default(),
        items,
    })
}

fn parse_generic(doc: &Document<'_>) -> Result<Outcome, ParseError> {
    let root = doc.root_element();
    let ret = child(root, "RETURN").ok_or(ParseError::Missing {
        parent: "GENERIC_RETURN",
        field: "RETURN",
    })?;
    let status = ret.attribute("status").unwrap_or("").trim();
    let code = ret
        .attribute("number")
        .and_then(|n| n.trim().parse::<u32>().ok());
    Ok(Outcome {
        code,
        failed: !status.eq_ignore_ascii_case("SUCCESS"),
        text: text(ret),
        items: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::samples as s;
    use super::super::xml::{parse_doc, without_empty_subset};
    use super::*;

    fn outcome(body: &str) -> Outcome {
        let body = without_empty_subset(body).expect("sample passes the prolog guard");
        let doc = parse_doc(&body).expect("sample is XML");
        parse_return(&doc)
            .expect("sample is a return")
            .expect("sample parses")
    }

    #[test]
    fn success_has_no_code() {
        let o = outcome(s::ASSET_IP_ADD_SUCCESS);
        assert_eq!(o.code, None);
        assert!(!o.failed);
        assert_eq!(o.text, "IPs successfully added to Vulnerability Management");
    }

    #[test]
    fn error_codes_and_items() {
        let o = outcome(s::ERROR_1965);
        assert_eq!(o.code, Some(1965));
        assert!(o.failed);
        assert_eq!(o.item("SECONDS_TO_WAIT"), Some("68928"));
        assert!(o
            .text
            .starts_with("This API cannot be run again for another 23 hours"));
        assert_eq!(outcome(s::ERROR_1960).item("CALLS_TO_FINISH"), Some("2"));
        assert_eq!(
            outcome(s::ERROR_1903).text,
            "Missing required parameter(s): action"
        );
    }

    #[test]
    fn launch_items() {
        let o = outcome(s::SCAN_LAUNCH);
        assert_eq!(o.item("ID"), Some("136992"));
        assert_eq!(o.item("REFERENCE"), Some("scan/1358285558.36992"));
    }

    #[test]
    fn non_numeric_code_is_success() {
        let body = "<SIMPLE_RETURN><RESPONSE><DATETIME>x</DATETIME>\
            <CODE>Scan Report Template(s) Created Successfully [89876]</CODE><TEXT></TEXT>\
            </RESPONSE></SIMPLE_RETURN>";
        let o = outcome(body);
        assert!(!o.failed);
        assert_eq!(o.code, None);
    }

    #[test]
    fn generic_return_v1() {
        let o = outcome(s::V1_ERROR_5000);
        assert!(o.failed);
        assert_eq!(o.code, Some(5000));
        assert!(o.text.contains("Invalid value for 'host_ips'"));
        let ok = outcome(
            "<GENERIC_RETURN><API name=\"asset_ip.php\" username=\"u\" at=\"x\"/>\
             <RETURN status=\"SUCCESS\">IPs added</RETURN></GENERIC_RETURN>",
        );
        assert!(!ok.failed);
        assert_eq!(ok.text, "IPs added");
    }

    #[test]
    fn other_roots_are_not_returns() {
        let doc = parse_doc(s::SCAN_LIST_EMPTY).expect("sample is XML");
        assert!(parse_return(&doc).is_none());
    }
}
