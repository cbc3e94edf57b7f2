//! Per-API rate limiting (sliding window) and concurrency limiting, with the
//! `X-RateLimit-*` / `X-Concurrency-Limit-*` headers the real service sends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The verdict on one arriving call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Allowed; `remaining` calls left in the window.
    Allowed {
        /// Calls left in the window after this one.
        remaining: u32,
    },
    /// Too many calls of this API in flight (409 / 1960).
    Concurrency,
    /// The window is full (409 / 1965): wait this many seconds.
    Rate {
        /// Seconds until the oldest call leaves the window.
        to_wait: u64,
    },
}

/// What the limiter decided about one arriving call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    /// The verdict.
    pub verdict: Verdict,
    /// Calls of this API in flight on arrival, including this one.
    pub in_flight: u32,
    /// A ToWait window announced to the client was open on arrival.
    pub during_wait: bool,
}

#[derive(Debug, Default)]
struct ApiState {
    calls: VecDeque<Instant>,
    in_flight: u32,
    max_in_flight: u32,
    wait_until: Option<Instant>,
}

/// The limiter for every API of the subscription.
#[derive(Debug)]
pub(crate) struct Limits {
    /// Calls per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
    /// Concurrent calls per API.
    pub concurrency: u32,
    apis: HashMap<String, ApiState>,
}

impl Limits {
    /// A limiter with these settings.
    pub fn new(limit: u32, window: Duration, concurrency: u32) -> Limits {
        Limits {
            limit,
            window,
            concurrency,
            apis: HashMap::new(),
        }
    }

    /// Registers a call of `api` arriving at `now` and decides on it. The call counts as
    /// in flight until [`Limits::leave`], whatever the verdict.
    pub fn arrive(&mut self, api: &str, now: Instant) -> Admission {
        let (limit, window, concurrency) = (self.limit, self.window, self.concurrency);
        let st = self.apis.entry(api.to_owned()).or_default();
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        let in_flight = st.in_flight;
        let during_wait = st.wait_until.is_some_and(|w| now < w);
        if in_flight > concurrency {
            return Admission {
                verdict: Verdict::Concurrency,
                in_flight,
                during_wait,
            };
        }
        while st
            .calls
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= window)
        {
            st.calls.pop_front();
        }
        let verdict = match st.calls.front() {
            Some(&oldest) if st.calls.len() >= limit as usize => {
                let left = (oldest + window).saturating_duration_since(now);
                let to_wait = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                let to_wait = to_wait.max(1);
                st.wait_until = Some(now + Duration::from_secs(to_wait));
                Verdict::Rate { to_wait }
            }
            _ if limit == 0 => {
                st.wait_until = Some(now + window);
                Verdict::Rate {
                    to_wait: window.as_secs().max(1),
                }
            }
            _ => {
                st.calls.push_back(now);
                Verdict::Allowed {
                    remaining: limit.saturating_sub(st.calls.len() as u32),
                }
            }
        };
        Admission {
            verdict,
            in_flight,
            during_wait,
        }
    }

    /// Records that the client was told to wait `secs` (a spurious 1965 from a fault).
    pub fn told_to_wait(&mut self, api: &str, now: Instant, secs: u64) {
        self.apis.entry(api.to_owned()).or_default().wait_until =
            Some(now + Duration::from_secs(secs));
    }

    /// A call of `api` finished.
    pub fn leave(&mut self, api: &str) {
        if let Some(st) = self.apis.get_mut(api) {
            st.in_flight = st.in_flight.saturating_sub(1);
        }
    }

    /// The most calls of `api` ever in flight at once.
    pub fn max_in_flight(&self, api: &str) -> u32 {
        self.apis.get(api).map_or(0, |st| st.max_in_flight)
    }
}

/// Keeps one call counted in flight until dropped (also when the connection is dropped).
#[derive(Debug)]
pub(crate) struct InFlight {
    limits: Arc<Mutex<Limits>>,
    api: String,
    released: bool,
}

impl InFlight {
    /// Counts `api` as in flight in `limits` until the guard is released or dropped.
    pub fn new(limits: Arc<Mutex<Limits>>, api: String) -> InFlight {
        InFlight {
            limits,
            api,
            released: false,
        }
    }

    /// Stops counting the call now.
    pub fn release(&mut self) {
        if !self.released {
            self.released = true;
            self.limits
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .leave(&self.api);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.release();
    }
}

/// `"23 hours, 57 minutes and 54 seconds"`.
pub(crate) fn wait_words(secs: u64) -> String {
    format!(
        "{} hours, {} minutes and {} seconds",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_blocks_then_frees_one_slot_at_a_time() {
        let mut l = Limits::new(2, Duration::from_secs(10), 5);
        let t0 = Instant::now();
        let a = l.arrive("x", t0);
        l.leave("x");
        assert_eq!(a.verdict, Verdict::Allowed { remaining: 1 });
        l.arrive("x", t0 + Duration::from_secs(4));
        l.leave("x");
        let blocked = l.arrive("x", t0 + Duration::from_secs(5));
        l.leave("x");
        assert_eq!(blocked.verdict, Verdict::Rate { to_wait: 5 });
        let during = l.arrive("x", t0 + Duration::from_secs(6));
        l.leave("x");
        assert!(during.during_wait);
        assert_eq!(during.verdict, Verdict::Rate { to_wait: 4 });
        // The first call leaves the window at t0+10, the second at t0+14.
        assert_eq!(
            l.arrive("x", t0 + Duration::from_secs(10)).verdict,
            Verdict::Allowed { remaining: 0 }
        );
        l.leave("x");
        assert_eq!(
            l.arrive("x", t0 + Duration::from_secs(11)).verdict,
            Verdict::Rate { to_wait: 3 }
        );
        l.leave("x");
        // Another API has its own counter.
        assert_eq!(
            l.arrive("y", t0 + Duration::from_secs(11)).verdict,
            Verdict::Allowed { remaining: 1 }
        );
    }

    #[test]
    fn concurrency_checked_first_and_max_recorded() {
        let mut l = Limits::new(100, Duration::from_secs(10), 2);
        let t0 = Instant::now();
        assert!(matches!(l.arrive("x", t0).verdict, Verdict::Allowed { .. }));
        assert!(matches!(l.arrive("x", t0).verdict, Verdict::Allowed { .. }));
        let third = l.arrive("x", t0);
        assert_eq!((third.verdict, third.in_flight), (Verdict::Concurrency, 3));
        l.leave("x");
        l.leave("x");
        assert!(matches!(l.arrive("x", t0).verdict, Verdict::Allowed { .. }));
        assert_eq!(l.max_in_flight("x"), 3);
        assert_eq!(
            wait_words(68_928 - 54),
            "19 hours, 7 minutes and 54 seconds"
        );
    }
}
