//! The rate- and concurrency-limit headers Qualys sends with every (non-session) response.

use reqwest::header::HeaderMap;

/// Limit headers of one response; every field is `None` when its header was absent or unreadable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `X-RateLimit-Limit`: calls allowed per window for this API.
    pub limit: Option<u64>,
    /// `X-RateLimit-Window-Sec`: window length in seconds.
    pub window_sec: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left in the current window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-ToWait-Sec`: seconds to wait before the next call is allowed.
    pub to_wait_sec: Option<u64>,
    /// `X-Concurrency-Limit-Limit`: calls of this API allowed at once.
    pub concurrency_limit: Option<u64>,
    /// `X-Concurrency-Limit-Running`: calls running now, this one included.
    pub concurrency_running: Option<u64>,
}

impl Limits {
    /// Reads the limit headers (names match case-insensitively, as `HeaderMap` does).
    pub fn from_headers(headers: &HeaderMap) -> Limits {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        Limits {
            limit: num("x-ratelimit-limit"),
            window_sec: num("x-ratelimit-window-sec"),
            remaining: num("x-ratelimit-remaining"),
            to_wait_sec: num("x-ratelimit-towait-sec"),
            concurrency_limit: num("x-concurrency-limit-limit"),
            concurrency_running: num("x-concurrency-limit-running"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            let name = HeaderName::from_bytes(k.as_bytes()).expect("valid header name");
            map.insert(name, HeaderValue::from_str(v).expect("valid header value"));
        }
        map
    }

    #[test]
    fn reads_all_headers_any_case() {
        let map = headers(&[
            ("X-Ratelimit-Limit", "300"),
            ("X-RATELIMIT-WINDOW-SEC", "3600"),
            ("x-ratelimit-remaining", "297"),
            ("X-RateLimit-ToWait-Sec", " 181 "),
            ("X-Concurrency-Limit-Limit", "2"),
            ("x-concurrency-limit-running", "1"),
        ]);
        let l = Limits::from_headers(&map);
        assert_eq!(
            l,
            Limits {
                limit: Some(300),
                window_sec: Some(3600),
                remaining: Some(297),
                to_wait_sec: Some(181),
                concurrency_limit: Some(2),
                concurrency_running: Some(1),
            }
        );
    }

    #[test]
    fn absent_or_garbage_is_none() {
        let map = headers(&[
            ("X-RateLimit-Limit", "lots"),
            ("X-RateLimit-Remaining", "-1"),
        ]);
        assert_eq!(Limits::from_headers(&map), Limits::default());
    }
}
