//! Small roxmltree helpers shared by the parsers: safe parsing options, child lookup,
//! trimmed text (CDATA and whitespace tolerant), numbers.

use roxmltree::{Document, Node, ParsingOptions};

use super::ParseError;

/// An upper bound on nodes per document; the largest real outputs (report lists, group
/// lists with 1000 records per page) stay far below it.
const NODES_LIMIT: u32 = 2_000_000;

/// Parses a body (leading whitespace and BOM skipped: one real sample starts with a newline
/// before its declaration): DOCTYPE allowed (Qualys always sends one), never fetched or expanded
/// beyond the internal subset, node count bounded.
pub(crate) fn parse_doc(text: &str) -> Result<Document<'_>, ParseError> {
    let opts = ParsingOptions {
        allow_dtd: true,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    Document::parse_with_options(text, opts).map_err(|e| ParseError::NotXml(e.to_string()))
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
    fn external_entity_is_not_fetched() {
        let body = "<!DOCTYPE A [<!ENTITY e SYSTEM \"http://192.0.2.1/x\">]><A>&e;</A>";
        // Either refused or expanded to nothing: never a network fetch, never a panic.
        if let Ok(doc) = parse_doc(body) {
            assert_eq!(text(doc.root_element()), "");
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
