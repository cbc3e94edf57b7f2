//! The XML prolog guard: what may stand before the root element of a body, checked
//! *before* roxmltree sees it, so that no internal DTD subset — and so no `<!ENTITY`
//! declaration and no entity expansion — ever reaches the parser (issue 10 §4).
//!
//! Qualys sends only external DOCTYPEs (`shared/qualys-api.md` §8.1–8.3): an optional XML
//! declaration, comments, and `<!DOCTYPE ROOT SYSTEM "https://…dtd">` with the literal
//! possibly on the next line. That and nothing more is accepted:
//!
//! - processing instructions (the declaration), comments and XML whitespace, any number;
//! - one `<!DOCTYPE NAME>` with an optional `SYSTEM "…"` or `PUBLIC "…" "…"` identifier
//!   whose literals hold no markup characters (`<`, `>`, `[`, `]`, `%`, `&`);
//! - an **empty** internal subset `[]` (only whitespace inside), as a .NET
//!   re-serialization was seen to write (§8.2): it holds no declarations, so it is safe;
//!   [`Prolog::Root::empty_subset`] says where it is so the caller blanks it out and the
//!   parser still never sees a subset.
//!
//! Refused ([`XmlRefused`]): a non-empty internal subset (entity, element, attribute or
//! parameter-entity declarations alike), any other `<!…>` declaration before the root,
//! a second DOCTYPE, a malformed DOCTYPE. The scan looks at each prolog byte once and stops
//! at the first non-whitespace byte inside a subset, so a 500 KB entity bomb costs a few
//! bytes of work. Markup after the root element is the parser's business: roxmltree refuses
//! a DOCTYPE there.

use std::ops::Range;

/// Why a body was refused before parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("XML refused before parsing: {reason} at byte {at}")]
pub struct XmlRefused {
    /// What was found.
    pub reason: &'static str,
    /// Where (byte offset in the checked text).
    pub at: usize,
}

/// What the prolog scan found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Prolog<'a> {
    /// A clean prolog; the root element has this name (empty when `<` is followed by no
    /// name, which the parser then refuses).
    Root {
        /// The root element's name.
        name: &'a str,
        /// The byte range of an empty internal subset (`[` to `]` inclusive), if any.
        empty_subset: Option<Range<usize>>,
    },
    /// The text ends before the root element (a prefix of a longer body).
    Incomplete,
    /// The text is not markup: something other than `<` where a prolog item or the root
    /// should start (JSON, CSV, a PDF…).
    NotMarkup,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// True when `rest` is a proper prefix of `word` (the text was cut inside it).
fn cut_inside(rest: &[u8], word: &[u8]) -> bool {
    rest.len() < word.len() && word.starts_with(rest)
}

/// Scans the prolog of `text` (a whole body or its first bytes; a leading BOM is skipped).
pub(crate) fn scan(text: &str) -> Result<Prolog<'_>, XmlRefused> {
    let b = text.as_bytes();
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut empty_subset = None;
    let mut doctype_seen = false;
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let rest = &b[i..];
        if rest.is_empty() {
            return Ok(Prolog::Incomplete);
        }
        if rest[0] != b'<' {
            return Ok(Prolog::NotMarkup);
        }
        if rest.starts_with(b"<?") {
            match find(&rest[2..], b"?>") {
                Some(end) => i += 2 + end + 2,
                None => return Ok(Prolog::Incomplete),
            }
        } else if rest.starts_with(b"<!--") {
            match find(&rest[4..], b"-->") {
                Some(end) => i += 4 + end + 3,
                None => return Ok(Prolog::Incomplete),
            }
        } else if rest.starts_with(b"<!DOCTYPE") {
            if doctype_seen {
                return Err(XmlRefused {
                    reason: "a second DOCTYPE",
                    at: i,
                });
            }
            doctype_seen = true;
            match doctype(b, i)? {
                Some((end, subset)) => {
                    empty_subset = subset;
                    i = end;
                }
                None => return Ok(Prolog::Incomplete),
            }
        } else if rest.starts_with(b"<!") {
            if cut_inside(rest, b"<!DOCTYPE") || cut_inside(rest, b"<!--") {
                return Ok(Prolog::Incomplete);
            }
            let reason = if rest.starts_with(b"<!ENTITY") {
                "an entity declaration (<!ENTITY) before the root element"
            } else {
                "a markup declaration other than a comment or DOCTYPE before the root element"
            };
            return Err(XmlRefused { reason, at: i });
        } else {
            let name_len = rest[1..]
                .iter()
                .position(|&c| is_ws(c) || matches!(c, b'>' | b'/' | b'<'))
                .unwrap_or(rest.len() - 1);
            if 1 + name_len == rest.len() {
                return Ok(Prolog::Incomplete);
            }
            // The name ends at an ASCII byte, so this is a char boundary.
            let name = &text[i + 1..i + 1 + name_len];
            return Ok(Prolog::Root { name, empty_subset });
        }
    }
}

/// Reads one `<!DOCTYPE …>` starting at `start`: `Some((end, empty subset))`, `None` when the
/// text ends inside it.
#[allow(clippy::type_complexity, reason = "a private step of one scanner")]
fn doctype(b: &[u8], start: usize) -> Result<Option<(usize, Option<Range<usize>>)>, XmlRefused> {
    let malformed = |at| XmlRefused {
        reason: "a malformed DOCTYPE",
        at,
    };
    let mut j = start + b"<!DOCTYPE".len();
    let skip_ws = |j: &mut usize| {
        let from = *j;
        while *j < b.len() && is_ws(b[*j]) {
            *j += 1;
        }
        *j > from
    };
    if !skip_ws(&mut j) {
        return if j == b.len() {
            Ok(None)
        } else {
            Err(malformed(j))
        };
    }
    let name_start = j;
    while j < b.len() && !is_ws(b[j]) && !matches!(b[j], b'[' | b'>') {
        j += 1;
    }
    if j == b.len() {
        return Ok(None);
    }
    if j == name_start {
        return Err(malformed(j));
    }
    skip_ws(&mut j);
    let literals = if b[j..].starts_with(b"SYSTEM") {
        j += 6;
        1
    } else if b[j..].starts_with(b"PUBLIC") {
        j += 6;
        2
    } else if cut_inside(&b[j..], b"SYSTEM") || cut_inside(&b[j..], b"PUBLIC") {
        return Ok(None);
    } else {
        0
    };
    for n in 0..literals {
        let before = j;
        let had_ws = skip_ws(&mut j);
        if j == b.len() {
            return Ok(None);
        }
        let quote = b[j];
        if n == 1 && !matches!(quote, b'"' | b'\'') {
            // A PUBLIC identifier without a system literal (SGML style, as HTML pages have).
            j = before;
            break;
        }
        if !had_ws || !matches!(quote, b'"' | b'\'') {
            return Err(malformed(j));
        }
        let Some(len) = b[j + 1..].iter().position(|&c| c == quote) else {
            return Ok(None);
        };
        if let Some(bad) = b[j + 1..j + 1 + len]
            .iter()
            .position(|c| matches!(c, b'<' | b'>' | b'[' | b']' | b'%' | b'&'))
        {
            return Err(XmlRefused {
                reason: "markup inside a DOCTYPE identifier literal",
                at: j + 1 + bad,
            });
        }
        j += len + 2;
    }
    skip_ws(&mut j);
    let mut subset = None;
    match b.get(j) {
        None => return Ok(None),
        Some(b'[') => {
            let open = j;
            j += 1;
            skip_ws(&mut j);
            match b.get(j) {
                None => return Ok(None),
                Some(b']') => subset = Some(open..j + 1),
                Some(_) => {
                    let reason = if b[j..].starts_with(b"<!ENTITY") {
                        "an entity declaration (<!ENTITY) in an internal DTD subset"
                    } else {
                        "a non-empty internal DTD subset"
                    };
                    return Err(XmlRefused { reason, at: j });
                }
            }
            j += 1;
            skip_ws(&mut j);
        }
        Some(_) => {}
    }
    match b.get(j) {
        None => Ok(None),
        Some(b'>') => Ok(Some((j + 1, subset))),
        Some(_) => Err(malformed(j)),
    }
}

/// Checks a whole XML body's prolog as every parse in this crate does: `Err` for an
/// internal DTD subset with anything in it, an entity or other declaration, a malformed or
/// second DOCTYPE. An external DOCTYPE and an empty `[]` pass. For callers that parse XML
/// themselves (a downloaded XML report) with roxmltree's `allow_dtd`.
pub fn check_xml_prolog(text: &str) -> Result<(), XmlRefused> {
    scan(text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')).map(|_| ())
}

/// The root element's name of a document prefix, `None` when the prefix is not markup,
/// ends before the root, or is refused.
#[cfg(test)]
pub(crate) fn root_name(text: &str) -> Option<&str> {
    match scan(text) {
        Ok(Prolog::Root { name, .. }) => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples::ALL;

    fn root(text: &str) -> Prolog<'_> {
        scan(text).unwrap_or_else(|e| panic!("refused {text:?}: {e}"))
    }

    fn refused(text: &str) -> XmlRefused {
        match scan(text) {
            Err(e) => e,
            Ok(p) => panic!("accepted {text:?} as {p:?}"),
        }
    }

    #[test]
    fn every_real_sample_passes() {
        for sample in ALL {
            let found = scan(sample.trim_start());
            assert!(
                matches!(found, Ok(Prolog::Root { .. })),
                "{found:?}: {}",
                &sample[..sample.len().min(200)]
            );
        }
    }

    #[test]
    fn external_doctypes_are_accepted() {
        for text in [
            "<?xml version=\"1.0\"?>\n\n<!DOCTYPE A SYSTEM\n  \"https://h/a.dtd\">\n<A/>",
            "<!DOCTYPE A PUBLIC '-//Q//DTD A//EN' 'a.dtd' ><A/>",
            "<!DOCTYPE A><A/>",
            "\u{feff}<?xml version=\"1.0\"?><!-- c --><!DOCTYPE A SYSTEM \"a.dtd\"><!-- d --><A/>",
            " \t\r\n<A/>",
        ] {
            assert_eq!(
                root(text),
                Prolog::Root {
                    name: "A",
                    empty_subset: None
                },
                "{text:?}"
            );
        }
        assert!(matches!(root("<!DOCTYPE SIMPLE_RETURN SYSTEM\n\"https://h/api/2.0/simple_return.dtd\"><SIMPLE_RETURN/>"),
            Prolog::Root { name: "SIMPLE_RETURN", .. }));
    }

    #[test]
    fn an_empty_subset_is_accepted_and_located() {
        let text = "<!DOCTYPE X SYSTEM \"a.dtd\" [ \n ]><X/>";
        let Prolog::Root { name, empty_subset } = root(text) else {
            panic!("not a root");
        };
        assert_eq!(name, "X");
        let range = empty_subset.expect("an empty subset");
        assert_eq!(&text[range], "[ \n ]");
        assert!(matches!(
            root("<!DOCTYPE X []><X/>"),
            Prolog::Root {
                empty_subset: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn hostile_shapes_are_refused() {
        let bomb = "<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">";
        let cases = [
            format!("<!DOCTYPE X [{bomb}]><X>&b;</X>"),
            format!("<?xml version=\"1.0\"?>\n<!DOCTYPE X [\n{bomb}\n]><X>&b;</X>"),
            format!("<!DOCTYPE X SYSTEM \"a.dtd\" [{bomb}]><X/>"),
            format!("<!DOCTYPE X SYSTEM\n\"a.dtd\"\n[\n  {bomb}]><X/>"),
            format!("<!DOCTYPE X PUBLIC \"p\" \"s\"[{bomb}]><X/>"),
            format!("<!-- a -->\n<!-- b --><!DOCTYPE X [{bomb}]><X/>"),
            format!("\u{feff}<!DOCTYPE X [{bomb}]><X/>"),
            format!("\u{feff} \r\n\t<!DOCTYPE X\t[ \n{bomb}]><X/>"),
            format!("<!-- c -->{bomb}<X/>"),
            "<!DOCTYPE X [<!-- only a comment -->]><X/>".to_string(),
            "<!DOCTYPE X [%pe;]><X/>".to_string(),
            "<!DOCTYPE X [<!ELEMENT X ANY>]><X/>".to_string(),
            "<!DOCTYPE X [<!ATTLIST X a CDATA \"v\">]><X/>".to_string(),
            "<!DOCTYPE X SYSTEM \"<!ENTITY a 'b'>\"><X/>".to_string(),
            "<!DOCTYPE X SYSTEM \"a.dtd\" <!ENTITY a \"b\">><X/>".to_string(),
            "<!DOCTYPE X SYSTEM \"a.dtd\"><!DOCTYPE Y [<!ENTITY a \"b\">]><X/>".to_string(),
            "<!DOCTYPE X SYSTEM a.dtd><X/>".to_string(),
            "<!DOCTYPEX><X/>".to_string(),
            "<!doctype x [<!ENTITY a \"b\">]><x/>".to_string(),
        ];
        for text in &cases {
            let e = refused(text);
            assert!(e.at < text.len(), "{text:?}: {e}");
        }
        assert!(refused(&cases[0]).reason.contains("<!ENTITY"));
        assert!(refused(&cases[8]).reason.contains("<!ENTITY"));
    }

    #[test]
    fn prefixes_are_incomplete_never_refused() {
        let text = "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n\
                    <!DOCTYPE SIMPLE_RETURN SYSTEM\n \"https://h/x.dtd\" [ ]>\n<SIMPLE_RETURN>";
        for cut in (0..text.len() - 1).filter(|&c| text.is_char_boundary(c)) {
            assert_eq!(scan(&text[..cut]), Ok(Prolog::Incomplete), "cut at {cut}");
        }
        assert!(matches!(
            scan(text),
            Ok(Prolog::Root {
                name: "SIMPLE_RETURN",
                ..
            })
        ));
    }

    #[test]
    fn the_public_check_agrees() {
        assert!(check_xml_prolog("\n<!DOCTYPE X SYSTEM \"x\" []><X/>").is_ok());
        assert!(check_xml_prolog("\n<!DOCTYPE X [<!ENTITY a \"b\">]><X/>").is_err());
    }

    #[test]
    fn non_markup_and_roots() {
        assert_eq!(scan("[{\"ip\": 1}]"), Ok(Prolog::NotMarkup));
        assert_eq!(scan("%PDF-1.4"), Ok(Prolog::NotMarkup));
        assert_eq!(scan("PK\u{3}\u{4}"), Ok(Prolog::NotMarkup));
        assert_eq!(root_name("<?xml version=\"1.0\""), None);
        assert_eq!(root_name("<GENERIC_RETURN><API"), Some("GENERIC_RETURN"));
    }

    #[test]
    fn a_flat_entity_bomb_is_refused_after_a_few_bytes() {
        let mut body = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE SCAN_LIST_OUTPUT [\n");
        body.push_str(&format!("<!ENTITY e \"{}\">\n", "x".repeat(10_000)));
        body.push_str("]>\n<SCAN_LIST_OUTPUT>");
        while body.len() < 500_000 {
            body.push_str("&e;");
        }
        body.push_str("</SCAN_LIST_OUTPUT>");
        let e = refused(&body);
        assert!(e.at < 100, "{e}");
    }
}
