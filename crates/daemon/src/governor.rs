//! Rate-limit governors: one per Qualys API (path + action), shared by every job.
//!
//! Rate limits are state, fed by the `X-RateLimit-*` / `X-Concurrency-Limit-*` headers of
//! every response and by 409s:
//! - never more calls of one API in flight than its concurrency limit (2 until a response
//!   says otherwise);
//! - nothing sent while a wait (`X-RateLimit-ToWait-Sec`, a 409, `Remaining = 0`) is open;
//!   the wait's end is a wall-clock time persisted through [`WaitStore`], so a restart
//!   honours it.
//!
//! A wait that opens (or moves more than [`ANNOUNCE_EXTENSION`] later) is logged once at
//! warning level with its end, and with the server's raw `ToWait` when the client clamped
//! it to the window (a `X-RateLimit-ToWait-Sec: 999999999` must not freeze an API for a
//! day when the window is an hour, issue 10); calls waiting inside it are not logged.
//! The open waits (API, end, why) are published in `daemon.json` ([`Governors::open_waits`]).

use baseliner_core::text::escape_log;
use baseliner_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// The longest wait a response can impose (Express subscriptions have a one-day window).
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// The concurrency limit assumed until Qualys tells us (the Standard service level's).
pub const DEFAULT_CONCURRENCY: u32 = 2;

/// An open wait whose end moves later by more than this is logged again.
pub const ANNOUNCE_EXTENSION: Duration = Duration::from_secs(60);

/// What a response said about the limits (every field optional: headers may be missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Window-Sec`.
    pub window_sec: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-ToWait-Sec`, as the client clamped it (to the window).
    pub to_wait_sec: Option<u64>,
    /// `X-RateLimit-ToWait-Sec` as the server sent it, before clamping.
    pub to_wait_raw: Option<u64>,
    /// `X-Concurrency-Limit-Limit`.
    pub concurrency_limit: Option<u64>,
}

/// Whether a wait whose end went from `before` to `after` at `now` is announced: when it
/// opens (nothing open before) or moves more than [`ANNOUNCE_EXTENSION`] later. Calls that
/// were in flight when the wait opened bring the same wait back: not announced again.
pub fn announce(before: Option<Timestamp>, after: Option<Timestamp>, now: Timestamp) -> bool {
    match (before.filter(|b| *b > now), after) {
        (_, None) => false,
        (None, Some(a)) => a > now,
        (Some(b), Some(a)) => a > b.plus(ANNOUNCE_EXTENSION),
    }
}

/// The warning for a wait on `api` until `until`, naming the server's raw `ToWait` when it
/// was clamped.
pub fn wait_message(api: &str, until: Timestamp, seen: &Observed, now: Timestamp) -> String {
    let mut msg = format!(
        "rate limit: no call of {} until {until} ({}s)",
        escape_log(api),
        now.until(until).as_secs()
    );
    if let (Some(raw), Some(used)) = (seen.to_wait_raw, seen.to_wait_sec) {
        if raw != used {
            let window = seen.window_sec.map_or_else(
                || "the one-day maximum".to_owned(),
                |w| format!("the {w}s window"),
            );
            msg.push_str(&format!(
                "; the server asked for X-RateLimit-ToWait-Sec {raw}, clamped to {window}"
            ));
        }
    }
    msg
}

/// Where wait-until times are persisted (the store's metadata in the daemon).
pub trait WaitStore: Send + Sync {
    /// Persists `until` for `api` (None clears it).
    fn save_wait(&self, api: &str, until: Option<Timestamp>);
    /// Every persisted wait.
    fn load_waits(&self) -> Vec<(String, Timestamp)>;
}

#[derive(Debug, Default)]
struct ApiState {
    in_flight: u32,
    concurrency: Option<u32>,
    wait_until: Option<Timestamp>,
    /// Why the open wait was opened (or last moved later), for `daemon.json`.
    wait_why: String,
    calls: u64,
    conflicts: u64,
    waited_ms: u64,
    failures: BTreeMap<&'static str, u64>,
}

/// Counters per API, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiStats {
    /// Calls sent.
    pub calls: u64,
    /// 409s received.
    pub conflicts: u64,
    /// Milliseconds callers spent waiting on this API's limits.
    pub waited_ms: u64,
    /// Calls that failed, by error class (`ErrorKind::class`).
    pub failures: BTreeMap<&'static str, u64>,
}

struct Inner {
    apis: Mutex<HashMap<String, ApiState>>,
    notify: Notify,
    store: Option<Box<dyn WaitStore>>,
}

/// The governors of every API. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Governors {
    inner: Arc<Inner>,
}

/// Permission to send one call of an API; dropping it frees the concurrency slot.
pub struct Permit {
    inner: Arc<Inner>,
    api: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut apis = lock(&self.inner.apis);
            if let Some(s) = apis.get_mut(&self.api) {
                s.in_flight = s.in_flight.saturating_sub(1);
            }
        }
        self.inner.notify.notify_waiters();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind: still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Governors {
    /// Governors with waits persisted in `store` (and restored from it now).
    pub fn new(store: Option<Box<dyn WaitStore>>) -> Governors {
        let mut apis = HashMap::new();
        if let Some(s) = &store {
            for (api, until) in s.load_waits() {
                apis.insert(
                    api,
                    ApiState {
                        wait_until: Some(until),
                        wait_why: "a wait kept from before the restart".into(),
                        ..ApiState::default()
                    },
                );
            }
        }
        Governors {
            inner: Arc::new(Inner {
                apis: Mutex::new(apis),
                notify: Notify::new(),
                store,
            }),
        }
    }

    /// The earliest time a call of `api` may be sent (None: now).
    pub fn wait_until(&self, api: &str) -> Option<Timestamp> {
        lock(&self.inner.apis).get(api).and_then(|s| s.wait_until)
    }

    /// Waits until a call of `api` may be sent, then takes a slot. Cancel-safe.
    pub async fn acquire(&self, api: &str) -> Permit {
        let started = Timestamp::now();
        loop {
            let notified = self.inner.notify.notified();
            let sleep_for = {
                let mut apis = lock(&self.inner.apis);
                let s = apis.entry(api.to_string()).or_default();
                let now = Timestamp::now();
                match s.wait_until {
                    Some(t) if t > now => Some(now.until(t)),
                    _ => {
                        let limit = s.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
                        if s.in_flight < limit {
                            s.in_flight += 1;
                            s.calls += 1;
                            s.waited_ms +=
                                u64::try_from(started.until(now).as_millis()).unwrap_or(u64::MAX);
                            return Permit {
                                inner: self.inner.clone(),
                                api: api.to_string(),
                            };
                        }
                        None
                    }
                }
            };
            match sleep_for {
                // Re-check at least every second: a wait may be shortened or lifted.
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d.min(Duration::from_secs(1))) => {}
                        _ = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Feeds what a response (success or error) said about `api`'s limits, observed at `now`.
    /// `conflict` is true for a 409 (rate or concurrency). Returns the wait now in force.
    pub fn observe(
        &self,
        api: &str,
        seen: &Observed,
        conflict: bool,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let (until, changed, announced) = {
            let mut apis = lock(&self.inner.apis);
            let s = apis.entry(api.to_string()).or_default();
            if let Some(c) = seen.concurrency_limit {
                s.concurrency = Some(u32::try_from(c).unwrap_or(u32::MAX).max(1));
            }
            if conflict {
                s.conflicts += 1;
            }
            let wait = wait_from(seen);
            let new_until = wait.map(|w| now.plus(w));
            let before = s.wait_until;
            match new_until {
                Some(t) if s.wait_until.is_none_or(|u| u < t) => {
                    s.wait_until = Some(t);
                    s.wait_why = wait_why(seen, conflict);
                }
                _ => {}
            }
            if s.wait_until.is_some_and(|u| u <= now) {
                s.wait_until = None;
            }
            (
                s.wait_until,
                before != s.wait_until,
                announce(before, s.wait_until, now),
            )
        };
        if let (true, Some(t)) = (announced, until) {
            tracing::warn!("{}", wait_message(api, t, seen, now));
        }
        if changed {
            if let Some(store) = &self.inner.store {
                store.save_wait(api, until);
            }
        }
        self.inner.notify.notify_waiters();
        until
    }

    /// Counts one failed call of `api`, of error class `class` (`ErrorKind::class`).
    pub fn count_failure(&self, api: &str, class: &'static str) {
        let mut apis = lock(&self.inner.apis);
        let s = apis.entry(api.to_string()).or_default();
        *s.failures.entry(class).or_default() += 1;
    }

    /// The waits open at `now`: each API that may send nothing until a later time, and why.
    pub fn open_waits(&self, now: Timestamp) -> Vec<(String, Timestamp, String)> {
        let apis = lock(&self.inner.apis);
        let mut v: Vec<_> = apis
            .iter()
            .filter_map(|(api, s)| {
                let until = s.wait_until.filter(|u| *u > now)?;
                Some((api.clone(), until, s.wait_why.clone()))
            })
            .collect();
        v.sort();
        v
    }

    /// Counters of every API seen so far.
    pub fn stats(&self) -> Vec<(String, ApiStats)> {
        let apis = lock(&self.inner.apis);
        let mut v: Vec<_> = apis
            .iter()
            .map(|(k, s)| {
                (
                    k.clone(),
                    ApiStats {
                        calls: s.calls,
                        conflicts: s.conflicts,
                        waited_ms: s.waited_ms,
                        failures: s.failures.clone(),
                    },
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Why the headers (and a 409) opened a wait, in words.
fn wait_why(seen: &Observed, conflict: bool) -> String {
    let refused = if conflict { "a 409 from Qualys, " } else { "" };
    match (seen.to_wait_sec.filter(|w| *w > 0), seen.remaining) {
        (Some(w), _) => format!("{refused}X-RateLimit-ToWait-Sec {w}"),
        (None, Some(0)) => format!(
            "{refused}X-RateLimit-Remaining 0 (of {} calls per {}s)",
            seen.limit.map_or_else(|| "?".into(), |l| l.to_string()),
            seen.window_sec.unwrap_or(3600)
        ),
        _ => format!("{refused}the API's rate limit"),
    }
}

/// How long the headers say to wait: `ToWait` when positive; `Remaining = 0` without a
/// `ToWait` waits one average slot of the window (window / limit, at least one second).
fn wait_from(seen: &Observed) -> Option<Duration> {
    if let Some(w) = seen.to_wait_sec.filter(|w| *w > 0) {
        // A server-given wait is obeyed, but never beyond a day: a garbled header must
        // not block an API for good (the wait is persisted across restarts).
        return Some(Duration::from_secs(w).min(MAX_WAIT));
    }
    if seen.remaining == Some(0) {
        let window = seen.window_sec.unwrap_or(3600);
        let limit = seen.limit.unwrap_or(1).max(1);
        return Some(Duration::from_secs((window / limit).max(1)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Remaining = 0` of a 300-per-hour window, no `ToWait`.
    fn exhausted() -> Observed {
        Observed {
            remaining: Some(0),
            window_sec: Some(3600),
            limit: Some(300),
            ..Observed::default()
        }
    }

    #[test]
    fn to_wait_opens_a_wait_and_remaining_zero_counts_as_one() {
        let g = Governors::new(None);
        let now = Timestamp(1_000_000);
        let until = g.observe(
            "a",
            &Observed {
                to_wait_sec: Some(30),
                ..Observed::default()
            },
            true,
            now,
        );
        assert_eq!(until, Some(Timestamp(1_030_000)));
        // A later, shorter wait does not shorten the open one.
        let until = g.observe("a", &exhausted(), false, now);
        assert_eq!(until, Some(Timestamp(1_030_000)));
        let until = g.observe("b", &exhausted(), false, now);
        assert_eq!(until, Some(Timestamp(1_012_000)));
        assert_eq!(g.stats()[0].1.conflicts, 1);
        assert_eq!(
            g.open_waits(now),
            [
                (
                    "a".to_string(),
                    Timestamp(1_030_000),
                    "a 409 from Qualys, X-RateLimit-ToWait-Sec 30".to_string()
                ),
                (
                    "b".to_string(),
                    Timestamp(1_012_000),
                    "X-RateLimit-Remaining 0 (of 300 calls per 3600s)".to_string()
                ),
            ]
        );
        assert!(g.open_waits(Timestamp(1_030_000)).is_empty(), "ended");
    }

    #[test]
    fn absurd_waits_are_capped_at_a_day() {
        let g = Governors::new(None);
        let now = Timestamp(0);
        let until = g.observe(
            "a",
            &Observed {
                to_wait_sec: Some(99_999_999_999),
                ..Observed::default()
            },
            true,
            now,
        );
        assert_eq!(until, Some(now.plus(MAX_WAIT)));
    }

    #[test]
    fn a_wait_is_announced_once_when_it_opens() {
        let now = Timestamp(1_000_000);
        let t = |s: i64| Timestamp(1_000_000 + s * 1000);
        assert!(announce(None, Some(t(30)), now), "opens");
        assert!(
            announce(Some(t(-5)), Some(t(30)), now),
            "an expired wait is none"
        );
        assert!(!announce(Some(t(30)), Some(t(30)), now), "unchanged");
        assert!(
            !announce(Some(t(30)), Some(t(31)), now),
            "an in-flight call's echo"
        );
        assert!(
            announce(Some(t(30)), Some(t(3600)), now),
            "moved an hour later"
        );
        assert!(!announce(Some(t(30)), None, now));
        assert!(!announce(None, None, now));
    }

    #[test]
    fn the_wait_message_names_the_end_and_the_clamped_value() {
        let now = Timestamp(0);
        let seen = Observed {
            to_wait_sec: Some(3600),
            to_wait_raw: Some(999_999_999),
            window_sec: Some(3600),
            ..Observed::default()
        };
        let until = now.plus(Duration::from_secs(3600));
        let m = wait_message("/api/2.0/fo/scan/?action=list", until, &seen, now);
        assert!(m.contains(&until.to_string()), "{m}");
        assert!(m.contains("(3600s)"), "{m}");
        assert!(
            m.contains("X-RateLimit-ToWait-Sec 999999999, clamped to the 3600s window"),
            "{m}"
        );
        let plain = Observed {
            to_wait_sec: Some(30),
            to_wait_raw: Some(30),
            ..Observed::default()
        };
        assert!(
            !wait_message("a", now.plus(Duration::from_secs(30)), &plain, now).contains("clamped")
        );
        assert!(wait_message("a\nforged", until, &plain, now).contains("a\\nforged"));
    }

    #[test]
    fn a_huge_to_wait_clamped_to_the_window_waits_the_window() {
        let g = Governors::new(None);
        let now = Timestamp(0);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "X-RateLimit-ToWait-Sec",
            "999999999".parse().expect("value"),
        );
        headers.insert("X-RateLimit-Window-Sec", "3600".parse().expect("value"));
        let limits = baseliner_qualys::Limits::from_headers(&headers);
        let until = g.observe("a", &Observed::from(&limits), true, now);
        assert_eq!(until, Some(now.plus(Duration::from_secs(3600))));
    }

    #[tokio::test]
    async fn concurrency_limit_bounds_permits() {
        let g = Governors::new(None);
        g.observe(
            "x",
            &Observed {
                concurrency_limit: Some(1),
                ..Observed::default()
            },
            false,
            Timestamp::now(),
        );
        let p1 = g.acquire("x").await;
        let g2 = g.clone();
        let second = tokio::spawn(async move { g2.acquire("x").await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !second.is_finished(),
            "a second call must wait for the slot"
        );
        drop(p1);
        let p2 = tokio::time::timeout(Duration::from_secs(2), second)
            .await
            .expect("slot freed")
            .expect("task");
        drop(p2);
    }

    struct MemWaits(Mutex<Vec<(String, Option<Timestamp>)>>);
    impl WaitStore for Arc<MemWaits> {
        fn save_wait(&self, api: &str, until: Option<Timestamp>) {
            lock(&self.0).push((api.to_string(), until));
        }
        fn load_waits(&self) -> Vec<(String, Timestamp)> {
            let v = lock(&self.0);
            let mut out: HashMap<String, Option<Timestamp>> = HashMap::new();
            for (a, u) in v.iter() {
                out.insert(a.clone(), *u);
            }
            out.into_iter()
                .filter_map(|(a, u)| u.map(|u| (a, u)))
                .collect()
        }
    }

    #[test]
    fn waits_survive_a_restart() {
        let mem = Arc::new(MemWaits(Mutex::new(Vec::new())));
        let g = Governors::new(Some(Box::new(mem.clone())));
        let far = Timestamp::now().plus(Duration::from_secs(600));
        g.observe(
            "scan",
            &Observed {
                to_wait_sec: Some(600),
                ..Observed::default()
            },
            true,
            Timestamp::now(),
        );
        let g2 = Governors::new(Some(Box::new(mem)));
        let restored = g2.wait_until("scan").expect("restored wait");
        assert!(restored.millis() >= far.millis() - 1000);
    }
}
