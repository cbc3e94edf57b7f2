//! Untrusted text: file names, organizations, titles and the texts Qualys sends back.
//!
//! One copy of each rule, used wherever such text is checked or shown:
//! - [`forbidden_format_char`]: the check job text fields pass — no bidirectional control
//!   and no other invisible format character (Unicode general category Cf, and the line and
//!   paragraph separators U+2028/U+2029), except ZWNJ U+200C and ZWJ U+200D, which real
//!   names in some scripts need (Persian, Indic scripts, emoji sequences);
//! - [`escape_log`]: untrusted text inside a log line — control characters, line breaks,
//!   bidirectional controls and other invisible format characters shown as `\n`, `\u{202e}`
//!   escapes (and `\` as `\\`), so a newline in a file name cannot forge a log line and a
//!   U+202E cannot reorder one;
//! - [`table_cell`]: untrusted text in one cell of a terminal table — no control character,
//!   no bidirectional control, no line break: line breaks and tabs become spaces, everything
//!   else unsafe becomes U+FFFD;
//! - [`one_line`]: a message kept on one line (job errors, systemd's `STATUS=`) — control
//!   characters become blanks and runs of blanks one space.
//!
//! Pure functions over `&str`; no IO.

use std::borrow::Cow;
use std::fmt::Write as _;

/// ZERO WIDTH NON-JOINER: a format character names need (kept).
pub const ZWNJ: char = '\u{200C}';
/// ZERO WIDTH JOINER: a format character names need (kept).
pub const ZWJ: char = '\u{200D}';

/// Whether `c` is a bidirectional control: the embeddings and overrides U+202A–U+202E, the
/// isolates U+2066–U+2069, and the marks U+200E, U+200F and U+061C.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` is an invisible format character a job text field must not hold: every
/// character of Unicode general category Cf (bidirectional controls included; U+200B,
/// U+2060, U+FEFF, U+00AD, tags …) and the separators U+2028/U+2029 — but not ZWNJ and ZWJ.
pub fn is_forbidden_format(c: char) -> bool {
    if c == ZWNJ || c == ZWJ {
        return false;
    }
    is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Unicode general category Cf (format), Unicode 15.1.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// The first character of `s` a job text field must not hold (see [`is_forbidden_format`]),
/// or `None`. Control characters are checked separately (they have their own error).
pub fn forbidden_format_char(s: &str) -> Option<char> {
    s.chars().find(|c| is_forbidden_format(*c))
}

/// Whether `c` must not appear raw in a log line or a terminal: a control character, a
/// bidirectional control, an invisible format character (ZWJ/ZWNJ included: they are
/// harmless in a name but invisible in a log) or a line/paragraph separator.
pub fn is_unsafe_to_show(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `s` made safe for one log line: control characters as `\n`, `\r`, `\t` or `\u{…}`,
/// bidirectional controls and other format characters as `\u{…}`, and `\` as `\\` (so an
/// escape in the output always means an escaped character). Borrowed when nothing needs
/// escaping.
pub fn escape_log(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || is_unsafe_to_show(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_to_show(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` made safe for one cell of a terminal table: line breaks and tabs become spaces,
/// every other control, bidirectional control or format character becomes U+FFFD.
/// Borrowed when nothing needs replacing.
pub fn table_cell(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_to_show) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => ' ',
                c if is_unsafe_to_show(c) => '\u{FFFD}',
                c => c,
            })
            .collect(),
    )
}

/// `message` on one line: every control character (line breaks and tabs included) becomes
/// a blank, and runs of blanks become single spaces, trimmed at both ends.
///
/// The Qualys client keeps a copy of its own (`baseliner-qualys` does not depend on the
/// core); the simulator shares no code with either.
pub fn one_line(message: &str) -> String {
    message
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_lines_and_drops_controls() {
        assert_eq!(one_line("a\n  |\n b"), "a | b");
        assert_eq!(one_line(" x\r\n\ty\u{7}z "), "x y z");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn bidi_controls_and_invisible_format_characters_are_forbidden() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{200E}',
            '\u{200F}',
            '\u{00AD}',
            '\u{2028}',
            '\u{2029}',
            '\u{E0041}',
        ] {
            assert!(
                is_forbidden_format(c),
                "U+{:04X} must be refused",
                u32::from(c)
            );
            let s = format!("Acme{c}Corp");
            assert_eq!(forbidden_format_char(&s), Some(c));
        }
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{061C}', '\u{200F}',
        ] {
            assert!(is_bidi_control(c));
        }
        assert!(!is_bidi_control('\u{200B}'));
    }

    #[test]
    fn zwj_zwnj_and_ordinary_letters_are_kept() {
        // Persian "mi‌khaham" with a ZWNJ; a family emoji joined by ZWJs; Hindi with a ZWJ.
        for name in [
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            "\u{0915}\u{094D}\u{200D}\u{0937}",
            "Acme, Inc. & Söhne \"quoted\" 株式会社",
        ] {
            assert_eq!(forbidden_format_char(name), None, "{name}");
        }
    }

    #[test]
    fn log_escape_keeps_a_line_a_line() {
        let forged = "a.toml\n2026-01-01T00:00:00Z  INFO accepted evil.toml";
        let e = escape_log(forged);
        assert!(!e.contains('\n'), "{e}");
        assert_eq!(e, "a.toml\\n2026-01-01T00:00:00Z  INFO accepted evil.toml");
        assert_eq!(
            escape_log("x\u{202E}y\r\t\u{1b}[2J\u{7}"),
            "x\\u{202e}y\\r\\t\\u{1b}[2J\\u{7}"
        );
        assert_eq!(
            escape_log("a\\nb"),
            "a\\\\nb",
            "a literal backslash is doubled"
        );
        assert_eq!(escape_log("a\u{2028}b\u{200D}c"), "a\\u{2028}b\\u{200d}c");
        assert!(matches!(
            escape_log("Acme, Inc. 株式会社"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn table_cells_hold_no_control_or_bidi_character() {
        let hostile = "bad\nrow | 2 | done\u{1b}[31m\u{202E}x\ty";
        let c = table_cell(hostile);
        assert!(!c.chars().any(is_unsafe_to_show), "{c:?}");
        assert_eq!(c, "bad row | 2 | done\u{FFFD}[31m\u{FFFD}x y");
        assert!(matches!(table_cell("Acme"), Cow::Borrowed(_)));
    }
}
