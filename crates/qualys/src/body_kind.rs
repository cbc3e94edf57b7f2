//! What a downloaded body is, decided from its first bytes and never from the format that
//! was asked for (`shared/qualys-api.md` §7.4: reports over 1 GB and some HTML reports
//! arrive zipped, whatever `output_format` said).

/// The kind of a downloaded body, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// `PK\x03\x04`: a zip archive (e.g. a zipped HTML report: keep it as `report.html.zip`).
    Zip,
    /// `%PDF`.
    Pdf,
    /// Markup that is not an HTML page: an XML report (or an API answer, which a download
    /// never saves).
    Xml,
    /// An HTML page (`<!DOCTYPE html`, `<html`): an HTML report, or an error page.
    Html,
    /// Anything else: JSON or CSV raw results, a CSV report, an empty body.
    Other,
}

impl BodyKind {
    /// Sniffs `prefix` (the first bytes of a body; a BOM and leading whitespace are skipped
    /// before looking for markup, never before the zip and PDF magic).
    pub fn sniff(prefix: &[u8]) -> BodyKind {
        if prefix.starts_with(b"PK\x03\x04") {
            return BodyKind::Zip;
        }
        if prefix.starts_with(b"%PDF") {
            return BodyKind::Pdf;
        }
        let text = String::from_utf8_lossy(&prefix[..prefix.len().min(256)]);
        let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if !start.starts_with('<') {
            BodyKind::Other
        } else if looks_html(start) {
            BodyKind::Html
        } else {
            BodyKind::Xml
        }
    }

    /// A short lower-case name (`zip`, `pdf`, `xml`, `html`, `other`), for logs.
    pub fn name(self) -> &'static str {
        match self {
            BodyKind::Zip => "zip",
            BodyKind::Pdf => "pdf",
            BodyKind::Xml => "xml",
            BodyKind::Html => "html",
            BodyKind::Other => "other",
        }
    }
}

/// An HTML page (redirect, maintenance, gateway error, or an HTML report) rather than XML.
pub(crate) fn looks_html(start: &str) -> bool {
    let head: String = start
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples as s;

    #[test]
    fn kinds_from_first_bytes() {
        assert_eq!(BodyKind::sniff(b"PK\x03\x04\x14\x00rest"), BodyKind::Zip);
        assert_eq!(BodyKind::sniff(b"%PDF-1.4\n"), BodyKind::Pdf);
        assert_eq!(BodyKind::sniff(s::REPORT_XML.as_bytes()), BodyKind::Xml);
        assert_eq!(BodyKind::sniff(s::REPORT_LIST.as_bytes()), BodyKind::Xml);
        assert_eq!(BodyKind::sniff(s::REDIRECT_301.as_bytes()), BodyKind::Html);
        assert_eq!(
            BodyKind::sniff(b"\xef\xbb\xbf\n<!DOCTYPE html><html>"),
            BodyKind::Html
        );
        assert_eq!(BodyKind::sniff(b"  <HTML><body>"), BodyKind::Html);
        assert_eq!(BodyKind::sniff(b"[{\"ip\":\"1.2.3.4\"}]"), BodyKind::Other);
        assert_eq!(BodyKind::sniff(b"\"IP\",\"QID\"\n"), BodyKind::Other);
        assert_eq!(BodyKind::sniff(b""), BodyKind::Other);
        // Magic only counts at the very start.
        assert_eq!(BodyKind::sniff(b" PK\x03\x04"), BodyKind::Other);
    }
}
