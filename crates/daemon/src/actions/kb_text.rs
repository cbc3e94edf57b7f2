//! KnowledgeBase HTML as plain text: the one converter for the HTML Qualys puts in a
//! vulnerability's threat, impact and solution (and sometimes its title), used before that
//! text reaches `findings.csv`, the summaries or a chat message.
//!
//! [`plain_text`] makes text a person can read and no program can run:
//!
//! - tags are dropped; block tags (`<P>`, `<BR>`, `<LI>`, `<DIV>`, `<TR>`, headings …) end a
//!   line, table cells are separated by a space; the contents of `<SCRIPT>` and `<STYLE>`
//!   are dropped with them, comments too; a tag left open at the end of the input is
//!   dropped with the rest of the input (as a browser does);
//! - a link becomes text, `label (url)`, when its URL is absolute `http`, `https` or `ftp`,
//!   and only its label otherwise (`javascript:`, `data:`, `vbscript:`, relative or
//!   obfuscated URLs are dropped): never an active link, whatever reads the output;
//! - character references are decoded once (`&amp;lt;` is the text `&lt;`): the named ones
//!   Qualys uses, and every numeric one (`&#0;`, surrogates and values past U+10FFFF become
//!   U+FFFD); an unknown name stays as it is written; `<![CDATA[…]]>` is kept as text;
//! - whitespace is normalized: runs of blanks become one space, line ends at most one line
//!   break, and the text is trimmed; a text without any tag is not HTML, and keeps its line
//!   breaks (one at most between two lines);
//! - the output is at most [`MAX_CHARS`] characters (a spreadsheet cell holds 32,767), and
//!   the work stops there, so a huge input costs no more than that.
//!
//! Control and bidirectional characters are not its concern: every output cell passes
//! [`super::cell`], which shows them. A `<` that cannot open a tag (`a < b`, `<=`, `<2.4`)
//! is text. Linear time, no recursion, no allocation per tag beyond a link's URL.

/// The longest output, in characters (an ellipsis marks a cut).
pub const MAX_CHARS: usize = 32_000;

/// `html` as plain text (see the module documentation).
pub fn plain_text(html: &str) -> String {
    let mut out = Out {
        keep_newlines: !html.as_bytes().windows(2).any(|w| {
            w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?'))
        }),
        ..Out::default()
    };
    let mut link: Option<Link> = None;
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() && !out.full() {
        let rest = &html[i..];
        match bytes[i] {
            b'<' => {
                if rest.starts_with("<!--") {
                    match rest.find("-->") {
                        Some(end) => i += end + 3,
                        None => break,
                    }
                } else if starts_with_ignore_case(rest, "<![CDATA[") {
                    let body = &rest[9..];
                    let end = body.find("]]>").unwrap_or(body.len());
                    out.text(&body[..end]);
                    i += 9 + (end + 3).min(body.len());
                } else if opens_tag(rest) {
                    let Some(end) = tag_end(rest) else {
                        break; // an unterminated tag: dropped with the rest
                    };
                    let tag = Tag::parse(&rest[1..end]);
                    i += end + 1;
                    match tag.effect() {
                        Effect::Break => out.line_break(),
                        Effect::Space => out.space(),
                        Effect::LinkOpen => {
                            if let Some(l) = link.take() {
                                l.close(&mut out);
                            }
                            link = Some(Link {
                                href: tag.href,
                                start: out.s.len(),
                            });
                        }
                        Effect::LinkClose => {
                            if let Some(l) = link.take() {
                                l.close(&mut out);
                            }
                        }
                        Effect::SkipTo(name) => match find_close(&html[i..], name) {
                            Some(at) => i += at,
                            None => break,
                        },
                        Effect::None => {}
                    }
                } else {
                    out.text("<");
                    i += 1;
                }
            }
            b'&' => {
                let (text, used) = reference(rest);
                out.text(&text);
                i += used;
            }
            _ => {
                let end = rest.find(['<', '&']).unwrap_or(rest.len());
                out.text(&rest[..end]);
                i += end;
            }
        }
    }
    if let Some(l) = link.take() {
        l.close(&mut out);
    }
    out.finish()
}

/// The output being built, with whitespace normalized as it is written.
#[derive(Default)]
struct Out {
    s: String,
    chars: usize,
    space: bool,
    newline: bool,
    cut: bool,
    /// Plain text (no tag): a line break in the text is one.
    keep_newlines: bool,
}

impl Out {
    fn full(&self) -> bool {
        self.chars >= MAX_CHARS
    }

    /// Text: whitespace only marks where a space goes.
    fn text(&mut self, t: &str) {
        for c in t.chars() {
            if c.is_whitespace() {
                self.space = true;
                if self.keep_newlines && matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                    self.newline = true;
                }
                continue;
            }
            if self.full() {
                self.cut = true;
                return;
            }
            if !self.s.is_empty() {
                if self.newline {
                    self.s.push('\n');
                    self.chars += 1;
                } else if self.space {
                    self.s.push(' ');
                    self.chars += 1;
                }
            }
            self.space = false;
            self.newline = false;
            self.s.push(c);
            self.chars += 1;
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    fn line_break(&mut self) {
        self.newline = true;
    }

    fn finish(mut self) -> String {
        if self.cut || self.full() {
            self.s.push('…');
        }
        self.s
    }
}

/// An open `<a>`: its URL and where its label starts in the output.
struct Link {
    href: Option<String>,
    start: usize,
}

impl Link {
    /// Ends the link: ` (url)` after its label when the URL is safe to show.
    fn close(self, out: &mut Out) {
        let Some(url) = self.href.filter(|u| shown_url(u)) else {
            return;
        };
        let label = out.s.get(self.start..).unwrap_or("").trim();
        if label == url {
            return;
        }
        if label.is_empty() {
            out.text(&url);
        } else {
            out.space();
            out.text("(");
            out.space = false;
            out.text(&url);
            out.space = false;
            out.text(")");
        }
    }
}

/// Whether a link's URL is shown: absolute `http`, `https` or `ftp`, nothing invisible.
fn shown_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|p| lower.starts_with(p))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What a tag does to the text.
enum Effect {
    None,
    Break,
    Space,
    LinkOpen,
    LinkClose,
    /// Drop everything up to the closing tag of this name.
    SkipTo(&'static str),
}

/// A tag's name (lower case), whether it closes, and its `href`.
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    href: Option<String>,
}

impl Tag {
    /// Parses the inside of `<…>`.
    fn parse(inner: &str) -> Tag {
        let (closing, body) = match inner.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, inner),
        };
        let name_end = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        let name = body[..name_end].to_ascii_lowercase();
        let attrs = &body[name_end..];
        let href = if name == "a" && !closing {
            attribute(attrs, "href")
        } else {
            None
        };
        Tag {
            name,
            closing,
            self_closing: attrs.trim_end().ends_with('/'),
            href,
        }
    }

    fn effect(&self) -> Effect {
        match self.name.as_str() {
            "a" if self.closing => Effect::LinkClose,
            "a" => Effect::LinkOpen,
            "script" if !self.closing && !self.self_closing => Effect::SkipTo("script"),
            "style" if !self.closing && !self.self_closing => Effect::SkipTo("style"),
            "td" | "th" => Effect::Space,
            "p" | "br" | "div" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "tr" | "table"
            | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr" | "pre" | "blockquote" | "section"
            | "article" | "header" | "footer" => Effect::Break,
            _ => Effect::None,
        }
    }
}

/// Whether `rest` (starting with `<`) opens a tag, a closing tag, a declaration or a
/// processing instruction, rather than being a literal `<`.
fn opens_tag(rest: &str) -> bool {
    let mut c = rest[1..].chars();
    match c.next() {
        Some(a) if a.is_ascii_alphabetic() => true,
        Some('/') => c.next().is_some_and(|b| b.is_ascii_alphabetic()),
        Some('!') | Some('?') => true,
        _ => false,
    }
}

/// The index of the `>` that ends the tag at the start of `rest`, outside quoted attribute
/// values; `None` when the tag never ends.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in rest.as_bytes().iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

/// Where the closing tag `</name` starts in `rest` (ASCII case ignored).
fn find_close(rest: &str, name: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let n = name.len();
    (0..b.len()).find(|&i| {
        b[i] == b'<'
            && b.get(i + 1) == Some(&b'/')
            && b.get(i + 2..i + 2 + n)
                .is_some_and(|s| s.eq_ignore_ascii_case(name.as_bytes()))
    })
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The value of attribute `wanted` in a tag's attribute text, references decoded.
fn attribute(attrs: &str, wanted: &str) -> Option<String> {
    let b = attrs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'/') {
            i += 1;
        }
        let name = &attrs[name_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (start, end) = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let start = i + 1;
                    let end = attrs[start..]
                        .find(q as char)
                        .map_or(b.len(), |e| start + e);
                    i = (end + 1).min(b.len());
                    (start, end)
                }
                _ => {
                    let start = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    (start, i)
                }
            };
            value = Some(&attrs[start..end]);
        }
        if name.eq_ignore_ascii_case(wanted) {
            return value.map(|v| decode(v).trim().to_owned());
        }
        if name.is_empty() && value.is_none() {
            i += 1;
        }
    }
    None
}

/// `s` with its character references decoded.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (text, used) = reference(&rest[at..]);
        out.push_str(&text);
        rest = &rest[at + used..];
    }
    out.push_str(rest);
    out
}

/// The character reference at the start of `s` (which starts with `&`): its text and how
/// many bytes it used. Not a reference: `&` itself, one byte.
fn reference(s: &str) -> (std::borrow::Cow<'static, str>, usize) {
    use std::borrow::Cow;
    let b = s.as_bytes();
    let literal = (Cow::Borrowed("&"), 1);
    if b.get(1) == Some(&b'#') {
        let hex = matches!(b.get(2), Some(b'x' | b'X'));
        let start = if hex { 3 } else { 2 };
        let digits = b[start.min(b.len())..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return literal;
        }
        let text = &s[start..start + digits];
        let value = if digits > 8 {
            None
        } else {
            u32::from_str_radix(text, if hex { 16 } else { 10 }).ok()
        };
        let c = value
            .filter(|&v| v != 0)
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}');
        let mut used = start + digits;
        if b.get(used) == Some(&b';') {
            used += 1;
        }
        return (Cow::Owned(c.to_string()), used);
    }
    let name_len = b[1..]
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 || b.get(1 + name_len) != Some(&b';') {
        return literal;
    }
    match named(&s[1..1 + name_len]) {
        Some(t) => (Cow::Borrowed(t), name_len + 2),
        None => literal,
    }
}

/// The named references KnowledgeBase text uses.
fn named(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" => " ",
        "shy" => "",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "deg" => "°",
        "plusmn" => "±",
        "times" => "×",
        "divide" => "÷",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "sect" => "§",
        "para" => "¶",
        "micro" => "µ",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "rarr" => "→",
        "larr" => "←",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_and_inline_tags() {
        assert_eq!(
            plain_text("<P>First  paragraph\n with <B>bold</B>.</P><P>Second.<BR/>Third</p>"),
            "First paragraph with bold.\nSecond.\nThird"
        );
        assert_eq!(
            plain_text("<UL>\n<LI>one</LI>\n<LI>two <i>2</i></LI></UL>after"),
            "one\ntwo 2\nafter"
        );
        assert_eq!(
            plain_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a b\nc"
        );
        assert_eq!(plain_text("  \n\t "), "");
        assert_eq!(plain_text("plain text, no tags"), "plain text, no tags");
        // Not HTML: its line breaks are kept, blank lines and blanks folded.
        assert_eq!(
            plain_text(" Patch it.\r\n\n\n  Then   reboot. \n"),
            "Patch it.\nThen reboot."
        );
        assert_eq!(
            plain_text("a\nb <br> c"),
            "a b\nc",
            "HTML: a newline is a blank"
        );
    }

    #[test]
    fn links_become_text_and_unsafe_urls_are_dropped() {
        assert_eq!(
            plain_text(r#"See <A HREF="https://kb.example/a?x=1&amp;y=2">the advisory</A>."#),
            "See the advisory (https://kb.example/a?x=1&y=2)."
        );
        assert_eq!(
            plain_text(r#"<a href="javascript:alert(document.cookie)">Click here</a>"#),
            "Click here"
        );
        for hostile in [
            r#"<a href="JaVaScRiPt:alert(1)">x</a>"#,
            r#"<a href="java&#x09;script:alert(1)">x</a>"#,
            r#"<a href=" javascript:alert(1)">x</a>"#,
            r#"<a href='data:text/html;base64,PHNjcmlwdD4='>x</a>"#,
            r#"<a href=vbscript:msgbox(1)>x</a>"#,
            r#"<a href="/relative/path">x</a>"#,
            r#"<a href="&#106;avascript:alert(1)">x</a>"#,
        ] {
            assert_eq!(plain_text(hostile), "x", "{hostile}");
        }
        // Unquoted, single-quoted, upper-case attribute; the label equal to the URL once.
        assert_eq!(
            plain_text("<a title='t' HREF=http://a.example/>http://a.example/</a>"),
            "http://a.example/"
        );
        assert_eq!(
            plain_text("<a href='https://x.example'></a>"),
            "https://x.example"
        );
        // A link left open ends with the text; a second <a> closes the first.
        assert_eq!(
            plain_text("<a href='https://a.example'>A<a href='https://b.example'>B"),
            "A (https://a.example)B (https://b.example)"
        );
    }

    #[test]
    fn nested_and_unterminated_tags() {
        assert_eq!(
            plain_text("<div><div><span><b><i>deep</i></b></span></div></div>text"),
            "deep\ntext"
        );
        assert_eq!(plain_text("before <a href=\"https://x.example"), "before");
        assert_eq!(plain_text("before <img src=x onerror=alert(1)"), "before");
        assert_eq!(plain_text("a <b>c</b"), "a c");
        assert_eq!(
            plain_text("1 < 2, x <= y, versions <2.4 & >1"),
            "1 < 2, x <= y, versions <2.4 & >1"
        );
        assert_eq!(
            plain_text("<p title='a>b'>quoted > inside</p>"),
            "quoted > inside"
        );
        assert_eq!(
            plain_text("x<script>alert('<p>')</script>y<STYLE>p{}</STYLE>z"),
            "xyz"
        );
        assert_eq!(plain_text("x<script>never closed"), "x");
        assert_eq!(plain_text("a<!-- <b>hidden</b> -->b<!-- open"), "ab");
        assert_eq!(plain_text("<?xml version='1.0'?><!DOCTYPE x>t"), "t");
    }

    #[test]
    fn entities_and_cdata() {
        assert_eq!(
            plain_text("&lt;script&gt; &amp;amp; &quot;q&quot; &#39;s&#x27; &nbsp;x&copy;"),
            "<script> &amp; \"q\" 's' x©"
        );
        assert_eq!(
            plain_text("&#0;&#xD800;&#x110000;&#99999999999;"),
            "\u{FFFD}".repeat(4)
        );
        assert_eq!(
            plain_text("&unknown; &amp &#; &#x; AT&T"),
            "&unknown; &amp &#; &#x; AT&T"
        );
        assert_eq!(plain_text("a&shy;b"), "ab");
        assert_eq!(
            plain_text("<![CDATA[<b>kept</b> &amp;]]> after"),
            "<b>kept</b> &amp; after"
        );
        assert_eq!(
            plain_text("<![CDATA[never closed <b>x"),
            "never closed <b>x"
        );
        // Decoded once: a decoded `<` never opens a tag.
        assert_eq!(
            plain_text("&lt;a href=javascript:x&gt;y"),
            "<a href=javascript:x>y"
        );
    }

    #[test]
    fn huge_input_is_bounded_and_linear() {
        let nested = "<b>".repeat(200_000) + "x" + &"</b>".repeat(200_000);
        assert_eq!(plain_text(&nested), "x");
        let words = "word &amp; <i>more</i> ".repeat(500_000);
        let out = plain_text(&words);
        assert_eq!(out.chars().count(), MAX_CHARS + 1);
        assert!(out.ends_with('…'));
        let tags = "<".repeat(1_000_000);
        assert_eq!(plain_text(&tags).chars().count(), MAX_CHARS + 1);
        let open_quotes = "<a href=\"".repeat(100_000);
        assert_eq!(plain_text(&open_quotes), "");
    }
}
