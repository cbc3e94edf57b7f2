//! The rate- and concurrency-limit headers Qualys sends with every (non-session) response,
//! with the wait clamped: a hostile or broken `X-RateLimit-ToWait-Sec: 999999999` would
//! otherwise freeze an API for as long as the caller's own cap allows (issue 10). The
//! wait never exceeds the window (`X-RateLimit-Window-Sec`; a sliding window empties by
//! then, §2.1), or [`MAX_TO_WAIT`] when the window is unknown; the raw value stays visible.

use reqwest::header::HeaderMap;

/// The longest wait accepted when the window is unknown: one day (the longest window seen,
/// §2.1: a 2011 sample showed 86400).
pub const MAX_TO_WAIT: u64 = 86_400;

/// Limit headers of one response; every field is `None` when its header was absent or unreadable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `X-RateLimit-Limit`: calls allowed per window for this API.
    pub limit: Option<u64>,
    /// `X-RateLimit-Window-Sec`: window length in seconds.
    pub window_sec: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left in the current window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-ToWait-Sec`: seconds to wait before the next call is allowed, clamped
    /// to `window_sec` when known, else to [`MAX_TO_WAIT`].
    pub to_wait_sec: Option<u64>,
    /// `X-RateLimit-ToWait-Sec` as sent, before clamping (differs from `to_wait_sec` only
    /// when the server asked for more than the window: log that once).
    pub to_wait_raw: Option<u64>,
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
        let raw = num("x-ratelimit-towait-sec");
        let mut limits = Limits {
            limit: num("x-ratelimit-limit"),
            window_sec: num("x-ratelimit-window-sec"),
            remaining: num("x-ratelimit-remaining"),
            to_wait_sec: None,
            to_wait_raw: raw,
            concurrency_limit: num("x-concurrency-limit-limit"),
            concurrency_running: num("x-concurrency-limit-running"),
        };
        limits.to_wait_sec = raw.map(|w| limits.clamp_wait(w));
        limits
    }

    /// `secs` (a header's or a body's wait) clamped to the window when it is known (and
    /// not zero), else to [`MAX_TO_WAIT`].
    pub fn clamp_wait(&self, secs: u64) -> u64 {
        let cap = self
            .window_sec
            .filter(|&w| w > 0)
            .unwrap_or(MAX_TO_WAIT)
            .min(MAX_TO_WAIT);
        secs.min(cap)
    }

    /// True when the server's `X-RateLimit-ToWait-Sec` was clamped.
    pub fn to_wait_clamped(&self) -> bool {
        self.to_wait_raw != self.to_wait_sec
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
                to_wait_raw: Some(181),
                concurrency_limit: Some(2),
                concurrency_running: Some(1),
            }
        );
        assert!(!l.to_wait_clamped());
    }

    #[test]
    fn a_hostile_to_wait_is_clamped_to_the_window_and_kept_raw() {
        let l = Limits::from_headers(&headers(&[
            ("X-RateLimit-Window-Sec", "3600"),
            ("X-RateLimit-ToWait-Sec", "999999999"),
        ]));
        assert_eq!(l.to_wait_sec, Some(3600));
        assert_eq!(l.to_wait_raw, Some(999_999_999));
        assert!(l.to_wait_clamped());

        let l = Limits::from_headers(&headers(&[("X-RateLimit-ToWait-Sec", "999999999")]));
        assert_eq!(
            l.to_wait_sec,
            Some(MAX_TO_WAIT),
            "no window: the one-day cap"
        );
        let l = Limits::from_headers(&headers(&[
            ("X-RateLimit-Window-Sec", "0"),
            ("X-RateLimit-ToWait-Sec", "18446744073709551615"),
        ]));
        assert_eq!(
            l.to_wait_sec,
            Some(MAX_TO_WAIT),
            "a zero window is no window"
        );
        let l = Limits::from_headers(&headers(&[
            ("X-RateLimit-Window-Sec", "999999999"),
            ("X-RateLimit-ToWait-Sec", "999999999"),
        ]));
        assert_eq!(
            l.to_wait_sec,
            Some(MAX_TO_WAIT),
            "a hostile window is capped too"
        );
        let l = Limits::from_headers(&headers(&[
            ("X-RateLimit-Window-Sec", "3600"),
            ("X-RateLimit-ToWait-Sec", "181"),
        ]));
        assert_eq!((l.to_wait_sec, l.to_wait_clamped()), (Some(181), false));
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
