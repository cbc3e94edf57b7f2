//! The little URL checking the config needs: scheme, host, port, and whether the host is
//! loopback. Not a general URL parser; the HTTP client parses the URL again when it uses it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The parts of `scheme://[userinfo@]host[:port][/path…]` the config checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// Lower-cased scheme.
    pub scheme: String,
    /// The host, without brackets for IPv6 literals.
    pub host: &'a str,
    /// Whether a `userinfo@` part is present.
    pub has_userinfo: bool,
}

impl UrlParts<'_> {
    /// Whether the host is `localhost`, in 127.0.0.0/8, or `::1`.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
            || self.host.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback())
    }
}

/// Splits `url` into its checked parts; `Err` says what is wrong.
pub(crate) fn parse(url: &str) -> Result<UrlParts<'_>, &'static str> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("not a URL (expected scheme://host)")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    {
        return Err("not a URL (expected scheme://host)");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("blanks and control characters are not allowed in a URL");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (has_userinfo, hostport) = match authority.rsplit_once('@') {
        Some((_, hp)) => (true, hp),
        None => (false, authority),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("unclosed [ in the host")?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address in the host");
        }
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("junk after ]")?)),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("no host");
    }
    if let Some(p) = port {
        if !p.parse::<u16>().is_ok_and(|n| n > 0) {
            return Err("invalid port (expected 1 to 65535)");
        }
    }
    Ok(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        host,
        has_userinfo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts_and_ports() {
        let p = parse("https://qualysapi.qualys.com/api?x=1").expect("valid");
        assert_eq!(
            (p.scheme.as_str(), p.host),
            ("https", "qualysapi.qualys.com")
        );
        assert!(!p.is_loopback());
        let p = parse("HTTP://[::1]:8080/").expect("valid");
        assert_eq!((p.scheme.as_str(), p.host), ("http", "::1"));
        assert!(p.is_loopback());
        let p = parse("http://user:pw@127.3.0.1:9").expect("valid");
        assert!(p.has_userinfo && p.is_loopback());
        assert!(parse("http://LocalHost").expect("valid").is_loopback());
        assert!(!parse("http://127.0.0.1.example.com")
            .expect("valid")
            .is_loopback());
    }

    #[test]
    fn refuses_malformed() {
        for (url, why) in [
            ("qualysapi.qualys.com", "not a URL"),
            ("https://", "no host"),
            ("https://:443", "no host"),
            ("https://h:0", "invalid port"),
            ("https://h:99999", "invalid port"),
            ("https://[::1", "unclosed"),
            ("https://[zz]:1", "invalid IPv6"),
            ("https://a b", "blanks"),
        ] {
            let err = parse(url).expect_err(url);
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
