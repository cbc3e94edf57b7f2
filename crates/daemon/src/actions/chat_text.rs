//! Text for chat messages, escaped for the markup each chat renders, so that an
//! organization name or a Qualys title shows as written and cannot format, link or mention:
//!
//! - [`teams`]: Microsoft Teams renders Adaptive Card `TextBlock` and `FactSet` text as a
//!   Markdown subset; every character Markdown gives a meaning — `\ * _ ~ [ ] ( ) # + - . !
//!   | > < `` ` `` and `&` (a character reference) — is escaped with a backslash, so
//!   `[Click here](https://evil…)` is text, not a link, and `**x**` is not bold;
//! - [`slack`]: Slack `mrkdwn` has no backslash escape: `&`, `<` and `>` become `&amp;`,
//!   `&lt;`, `&gt;` (so `<https://…|text>` links and `<!channel>` mentions cannot be
//!   written), and the formatting marks `*`, `_`, `~` and `` ` `` are replaced by look-alike
//!   characters that format nothing (`∗` U+2217, `＿` U+FF3F, `∼` U+223C, `ˋ` U+02CB);
//!   the messages also mark every `mrkdwn` object `verbatim`, so Slack does not turn a bare
//!   URL or a channel name into a link;
//! - [`slack_plain`]: Slack `plain_text` (the header): only `&`, `<` and `>`.
//!
//! Each first passes [`super::cell::line`]: no control, bidirectional or invisible format
//! character reaches a message, and the text stays on one line.

use super::cell;

/// The characters Teams's Markdown gives a meaning, escaped by [`teams`].
pub const TEAMS_SPECIAL: &[char] = &[
    '\\', '*', '_', '~', '[', ']', '(', ')', '#', '+', '-', '.', '!', '|', '>', '<', '`', '&',
];

/// `s` as literal text in a Teams Adaptive Card (see the module documentation).
pub fn teams(s: &str) -> String {
    let s = cell::line(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if TEAMS_SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as literal text in Slack `mrkdwn` (see the module documentation).
pub fn slack(s: &str) -> String {
    let s = cell::line(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' => out.push('\u{2217}'),
            '_' => out.push('\u{FF3F}'),
            '~' => out.push('\u{223C}'),
            '`' => out.push('\u{02CB}'),
            c => out.push(c),
        }
    }
    out
}

/// `s` as Slack `plain_text`: `&`, `<`, `>` escaped, nothing invisible, one line.
pub fn slack_plain(s: &str) -> String {
    cell::line(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a CommonMark reader shows for escaped text: every backslash escape undone.
    fn shown(escaped: &str) -> String {
        let mut out = String::new();
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next().expect("a backslash escapes a character");
                assert!(
                    next.is_ascii_punctuation(),
                    "only punctuation is escaped: {next}"
                );
                out.push(next);
            } else {
                assert!(!TEAMS_SPECIAL.contains(&c), "unescaped {c:?} in {escaped}");
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn teams_markdown_is_escaped_and_reads_back() {
        let hostile = "[Click here](https://evil.example/a_b) **bold** _it_ ~~s~~ `c` # h \
                       + - 1. ! | > <b> &amp; \\ end";
        let e = teams(hostile);
        assert_eq!(
            e,
            "\\[Click here\\]\\(https://evil\\.example/a\\_b\\) \\*\\*bold\\*\\* \\_it\\_ \
             \\~\\~s\\~\\~ \\`c\\` \\# h \\+ \\- 1\\. \\! \\| \\> \\<b\\> \\&amp; \\\\ end"
        );
        assert_eq!(shown(&e), hostile);
        assert_eq!(teams("a\nb\u{202e}c\u{1b}"), "a b\u{FFFD}c\u{FFFD}");
        assert_eq!(teams("Acme 株式会社"), "Acme 株式会社");
    }

    #[test]
    fn slack_mrkdwn_cannot_format_link_or_mention() {
        let e = slack("<https://evil.example|Click> <!channel> <@U123> *b* _i_ ~s~ `c` & x");
        assert_eq!(
            e,
            "&lt;https://evil.example|Click&gt; &lt;!channel&gt; &lt;@U123&gt; ∗b∗ ＿i＿ ∼s∼ ˋcˋ &amp; x"
        );
        for c in ['<', '>', '*', '_', '~', '`'] {
            assert!(!e.contains(c), "{c} in {e}");
        }
        assert_eq!(slack("a\u{2066}b\nc"), "a\u{FFFD}b c");
        assert_eq!(slack_plain("*x* <y> & z\t"), "*x* &lt;y&gt; &amp; z ");
    }
}
