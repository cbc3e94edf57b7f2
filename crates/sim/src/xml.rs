//! XML writing helpers: escaping, CDATA, the document envelope, SIMPLE_RETURN and
//! GENERIC_RETURN bodies shaped like the real service's.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::clock;

/// Host named in DOCTYPE system identifiers (never fetched by anyone).
pub(crate) const DTD_HOST: &str = "https://qualysapi.qualys.com";

/// Comment the real service puts before and after the root of evaluation-account output.
pub(crate) const EVAL_COMMENT: &str =
    "<!-- This report was generated with an evaluation version of Qualys //-->";

/// Trailer comment after the root element, in the real service's style (simulator wording).
pub(crate) const CONFIDENTIAL: &str = "<!-- CONFIDENTIAL AND PROPRIETARY INFORMATION. \
    Simulated Qualys output produced by qualys-sim for testing; it describes no real host. //-->";

/// Escapes text for element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps free text in CDATA, splitting any `]]>` so the section stays well-formed.
pub(crate) fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// XML declaration and DOCTYPE for `root`, whose DTD lives at `DTD_HOST` + `dtd_path`.
pub(crate) fn prolog(root: &str, dtd_path: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE {root} SYSTEM \"{DTD_HOST}{dtd_path}\">\n"
    )
}

/// The DTD path of SIMPLE_RETURN.
const SIMPLE_DTD: &str = "/api/2.0/simple_return.dtd";

/// A SIMPLE_RETURN body: optional CODE, TEXT, and ITEM_LIST of (KEY, VALUE).
pub(crate) fn simple_return(code: Option<u32>, text: &str, items: &[(&str, String)]) -> String {
    let mut x = prolog("SIMPLE_RETURN", SIMPLE_DTD);
    x.push_str("<SIMPLE_RETURN>\n  <RESPONSE>\n");
    let _ = writeln!(
        x,
        "    <DATETIME>{}</DATETIME>",
        clock::datetime(SystemTime::now())
    );
    if let Some(c) = code {
        let _ = writeln!(x, "    <CODE>{c}</CODE>");
    }
    let _ = writeln!(x, "    <TEXT>{}</TEXT>", escape(text));
    if !items.is_empty() {
        x.push_str("    <ITEM_LIST>\n");
        for (k, v) in items {
            let _ = writeln!(
                x,
                "      <ITEM>\n        <KEY>{}</KEY>\n        <VALUE>{}</VALUE>\n      </ITEM>",
                escape(k),
                escape(v)
            );
        }
        x.push_str("    </ITEM_LIST>\n");
    }
    x.push_str("  </RESPONSE>\n</SIMPLE_RETURN>\n");
    x
}

/// A GENERIC_RETURN body (v1 API and internal errors): `status` is `SUCCESS` or `FAILED`.
pub(crate) fn generic_return(
    api_name: &str,
    user: &str,
    status: &str,
    number: Option<u32>,
    text: &str,
) -> String {
    let mut x = prolog("GENERIC_RETURN", "/generic_return.dtd");
    x.push_str(EVAL_COMMENT);
    x.push_str("\n<GENERIC_RETURN>\n");
    let _ = writeln!(
        x,
        "  <API name=\"{}\" username=\"{}\" at=\"{}\" />",
        escape(api_name),
        escape(user),
        clock::datetime(SystemTime::now())
    );
    match number {
        Some(n) => {
            let _ = writeln!(
                x,
                "  <RETURN status=\"{status}\" number=\"{n}\">{}</RETURN>",
                escape(text)
            );
        }
        None => {
            let _ = writeln!(x, "  <RETURN status=\"{status}\">{}</RETURN>", escape(text));
        }
    }
    x.push_str("</GENERIC_RETURN>\n");
    x.push_str(EVAL_COMMENT);
    x.push('\n');
    x.push_str(CONFIDENTIAL);
    x.push('\n');
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_cdata() {
        assert_eq!(
            escape("a<b & 'c' \"d\">"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;"
        );
        assert_eq!(cdata("x]]>y"), "<![CDATA[x]]]]><![CDATA[>y]]>");
    }

    #[test]
    fn simple_return_has_code_and_items() {
        let x = simple_return(Some(1965), "wait", &[("SECONDS_TO_WAIT", "12".into())]);
        assert!(x.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE SIMPLE_RETURN SYSTEM"
        ));
        assert!(x.contains("<CODE>1965</CODE>"));
        assert!(x.contains("<KEY>SECONDS_TO_WAIT</KEY>\n        <VALUE>12</VALUE>"));
        let ok = simple_return(None, "Logged in", &[]);
        assert!(!ok.contains("<CODE>") && !ok.contains("ITEM_LIST"));
    }
}
