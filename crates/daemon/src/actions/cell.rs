//! Untrusted text in one output cell — a field of `findings.csv`, `information.csv` or
//! `coverage.csv`, a line of `summary.md`, an element or attribute of `summary.html`, a
//! string of a chat message — shown so that nothing in it is invisible or acts on the
//! reader: every control character and every character the core refuses in job text
//! ([`baseliner_core::text::is_forbidden_format`]: bidirectional controls, zero-width and
//! other invisible format characters; ZWJ and ZWNJ, which names need, are kept) becomes
//! U+FFFD, a visible mark; tabs become spaces; line breaks (CR LF, CR, LF, U+2028/U+2029)
//! become spaces in [`line`] and one `\n` in [`lines`].
//!
//! The rule of what is unsafe is the core's (`crates/core/src/text.rs`), not a copy: this
//! file only decides what an output cell shows instead. Escaping for the cell's format
//! (CSV quoting, Markdown, HTML, Teams, Slack) is applied after, by each writer.

use baseliner_core::text::is_forbidden_format;
use std::borrow::Cow;

/// `s` on one line, with nothing invisible (see the module documentation).
pub fn line(s: &str) -> Cow<'_, str> {
    clean(s, ' ')
}

/// `s` with its line breaks kept as `\n`, with nothing invisible.
pub fn lines(s: &str) -> Cow<'_, str> {
    clean(s, '\n')
}

fn unsafe_char(c: char) -> bool {
    c.is_control() || is_forbidden_format(c)
}

fn clean(s: &str, newline: char) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(newline);
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push(newline),
            '\t' => out.push(' '),
            c if unsafe_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_invisible_characters_are_shown() {
        let hostile = "NB\u{1b}[31mHOST\u{7}\u{0}\u{202e}gpj.exe\u{200b}\u{2066}x\u{feff}\u{e0041}";
        let out = line(hostile);
        assert_eq!(
            out,
            "NB\u{FFFD}[31mHOST\u{FFFD}\u{FFFD}\u{FFFD}gpj.exe\u{FFFD}\u{FFFD}x\u{FFFD}\u{FFFD}"
        );
        assert_eq!(
            line("a\r\nb\rc\nd\te\u{2028}f\u{85}g"),
            "a b c d e f\u{FFFD}g"
        );
        assert_eq!(lines("a\r\nb\rc\nd\te\u{2029}f"), "a\nb\nc\nd e\nf");
    }

    #[test]
    fn names_and_plain_text_are_untouched() {
        for name in [
            "Acme, Inc. & Söhne \"quoted\" 株式会社",
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        ] {
            assert!(matches!(line(name), Cow::Borrowed(_)), "{name}");
        }
    }
}
