//! Request parameters: `application/x-www-form-urlencoded` decoding of the query and body.

/// Decodes `a=b&c=d` pairs (`+` is a space, `%XX` an escaped byte); invalid escapes are kept.
pub(crate) fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (unescape(k), unescape(v)),
            None => (unescape(p), String::new()),
        })
        .collect()
}

/// Percent-decodes one component.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Value of one hex digit.
fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Percent-encodes a value for a URL we hand back (the pagination URL).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request's parameters; a repeated name keeps its last value, as Qualys does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// The last value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `name` if present and not blank.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// True if `name` is `1`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).map(str::trim) == Some("1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_and_keeps_last() {
        let p = Params(decode_form("action=list&title=a+b%2Bc%23&title=x%2&k"));
        assert_eq!(p.get("action"), Some("list"));
        assert_eq!(p.get("title"), Some("x%2"));
        assert_eq!(p.0[1].1, "a b+c#");
        assert_eq!(p.get("k"), Some(""));
        assert_eq!(p.non_empty("k"), None);
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
