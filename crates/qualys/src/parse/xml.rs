//! Small roxmltree helpers shared by the parsers: the one entry to roxmltree (prolog guard
//! first, safe parsing options), child lookup, trimmed text (CDATA and whitespace
//! tolerant), numbers.

use std::borrow::Cow;

use roxmltree::{Document, Node, ParsingOptions};

use super::prolog::{self, Prolog, XmlRefused};
use super::ParseError;

/// An upper bound on nodes per document; the largest real outputs (report lists, group
/// lists with 1000 records per page) stay far below it.
const NODES_LIMIT: u32 = 2_000_000;

/// Parses a body (leading whitespace and BOM skipped: one real sample starts with a newline
/// before its declaration). The prolog guard runs first and refuses any internal subset,
/// even an empty one (the caller blanks an empty one out with [`without_empty_subset`]), so
/// roxmltree's `allow_dtd` only ever meets an external DOCTYPE, which it never fetches.
/// Node count bounded.
pub(crate) fn parse_doc(text: &str) -> Result<Document<'_>, ParseError> {
    let opts = ParsingOptions {
        allow_dtd: true,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    let text = trim_start(text);
    if let Prolog::Root {
        empty_subset: Some(range),
        ..
    } = prolog::scan(text)?
    {
        return Err(XmlRefused {
            reason: "an internal DTD subset (even an empty one) reached the parser",
            at: range.start,
        }
        .into());
    }
    Document::parse_with_options(text, opts).map_err(|e| ParseError::NotXml(e.to_string()))
}

/// `text` without leading whitespace and byte-order marks.
pub(crate) fn trim_start(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Checks the prolog of a whole body and blanks an empty internal subset (`[]` becomes
/// spaces, byte offsets unchanged), so that [`parse_doc`] accepts it. Refuses what the guard
/// refuses.
pub(crate) fn without_empty_subset(text: &str) -> Result<Cow<'_, str>, XmlRefused> {
    let text = trim_start(text);
    match prolog::scan(text)? {
        Prolog::Root {
            empty_subset: Some(range),
            ..
        } => {
            let mut owned = text.to_string();
            owned.replace_range(range.clone(), &" ".repeat(range.len()));
            Ok(Cow::Owned(owned))
        }
        _ => Ok(Cow::Borrowed(text)),
    }
}

/// Checks the root element's name.
pub(crate) fn expect_root<'a, 'i>(
    doc: &'a Document<'i>,
    expected: &'static str,
) -> Result<Node<'a, 'i>, ParseError> {
    let root = doc.root_element();
    if root.tag_name().name() == expected {
        Ok(root)
    } else {
        Err(ParseError::UnexpectedRoot {
            found: root.tag_name().name().to_string(),
            expected,
        })
    }
}

/// The first child element with this name.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element with this name.
pub(crate) fn children<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The element's text (all text and CDATA below it), trimmed.
pub(crate) fn text(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for d in node.descendants() {
        if d.is_text() {
            if let Some(t) = d.text() {
                out.push_str(t);
            }
        }
    }
    out.trim().to_string()
}

/// The trimmed text of a child element, `None` when absent or empty.
pub(crate) fn child_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(text).filter(|t| !t.is_empty())
}

/// The trimmed text of a required child element.
pub(crate) fn required_text(
    node: Node<'_, '_>,
    parent: &'static str,
    field: &'static str,
) -> Result<String, ParseError> {
    child_text(node, field).ok_or(ParseError::Missing { parent, field })
}

/// A required child element read as an unsigned number.
pub(crate) fn required_u64(
    node: Node<'_, '_>,
    parent: &'static str,
    field: &'static str,
) -> Result<u64, ParseError> {
    let value = required_text(node, parent, field)?;
    value
        .parse()
        .map_err(|_| ParseError::Invalid { field, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_cdata_and_whitespace() {
        let doc = parse_doc("<A><T>\n  <![CDATA[ hello ]]>\n </T><D>2017-04-12T14:52:39Z </D></A>")
            .expect("well-formed");
        let root = doc.root_element();
        assert_eq!(child_text(root, "T").as_deref(), Some("hello"));
        assert_eq!(
            child_text(root, "D").as_deref(),
            Some("2017-04-12T14:52:39Z")
        );
        assert_eq!(child_text(root, "X"), None);
    }

    #[test]
    fn external_entity_is_refused_before_parsing() {
        let body = "<!DOCTYPE A [<!ENTITY e SYSTEM \"http://192.0.2.1/x\">]><A>&e;</A>";
        assert!(matches!(parse_doc(body), Err(ParseError::Refused(_))));
    }

    #[test]
    fn an_empty_subset_is_blanked_then_parsed() {
        let body = "<?xml version=\"1.0\"?><!DOCTYPE X SYSTEM \"a.dtd\" [ ]><X><T>v</T></X>";
        assert!(matches!(parse_doc(body), Err(ParseError::Refused(_))));
        let clean = without_empty_subset(body).expect("an empty subset is accepted");
        assert!(!clean.contains('['), "{clean}");
        let doc = parse_doc(&clean).expect("parses once blanked");
        assert_eq!(child_text(doc.root_element(), "T").as_deref(), Some("v"));
    }

    #[test]
    fn a_doctype_after_the_root_is_a_parse_error() {
        for body in [
            "<X/><!DOCTYPE Y [<!ENTITY a \"b\">]>",
            "<X><!DOCTYPE Y [<!ENTITY a \"b\">]></X>",
            "<X><!ENTITY a \"b\"></X>",
        ] {
            assert!(
                matches!(parse_doc(body), Err(ParseError::NotXml(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn numbers() {
        let doc = parse_doc("<A><N> 42 </N><B>x</B></A>").expect("well-formed");
        let root = doc.root_element();
        assert_eq!(required_u64(root, "A", "N"), Ok(42));
        assert!(matches!(
            required_u64(root, "A", "B"),
            Err(ParseError::Invalid { .. })
        ));
        assert!(matches!(
            required_u64(root, "A", "C"),
            Err(ParseError::Missing { .. })
        ));
    }
}
