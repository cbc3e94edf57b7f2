//! The start-up (and SIGHUP) check: one cheap authenticated call (a session login and
//! logout), so that a wrong password, an expired account, an unreachable platform or an
//! untrusted certificate shows at once — as a daemon-wide pause with the reason, in the
//! journal and `daemon.json` — and not only when the first job arrives.
//!
//! How a failure is read is the executor's classification
//! ([`crate::exec::outcome_of_error`]): an account problem pauses for its usual time; a
//! login that got no answer at all (connect error, TLS, timeout), after [`ATTEMPTS`] tries,
//! pauses for [`UNREACHABLE_PAUSE`], after which jobs try again with their own backoff; an
//! answer that is a passing server error (5xx, maintenance) pauses nothing — Qualys is
//! there, and jobs retry as usual.

use crate::engine::Pause;
use crate::exec::outcome_of_error;
use baseliner_core::state::{DeferScope, Outcome};
use baseliner_core::time::Timestamp;
use baseliner_qualys::Client;
use std::time::Duration;

/// How long a failed check that is not an account problem holds every job back.
pub const UNREACHABLE_PAUSE: Duration = Duration::from_secs(60);

/// The longest the check may take: it runs before READY, which systemd waits for only
/// `TimeoutStartSec` (90 s by default).
pub const CHECK_LIMIT: Duration = Duration::from_secs(20);

/// Attempts of a check whose login got no answer at all (connect error, TLS, timeout).
pub const ATTEMPTS: u32 = 3;
/// The wait between those attempts.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Logs in (retrying a login that got no answer a few times, within [`CHECK_LIMIT`]);
/// `None` when it worked or Qualys answered with a passing error, else the pause it calls
/// for.
pub async fn check(client: &Client) -> Option<Pause> {
    let started = Timestamp::now();
    match tokio::time::timeout(CHECK_LIMIT, attempts(client)).await {
        Ok(r) => r,
        Err(_) => {
            let pause = Pause {
                until: started.plus(UNREACHABLE_PAUSE),
                reason: format!(
                    "Qualys not reachable: no answer to a login within {}s",
                    CHECK_LIMIT.as_secs()
                ),
            };
            tracing::error!("login check failed, pausing every job: {}", pause.reason);
            Some(pause)
        }
    }
}

async fn attempts(client: &Client) -> Option<Pause> {
    let mut attempt = 1;
    loop {
        let now = Timestamp::now();
        let e = match client.check_login().await {
            Ok(_) => {
                tracing::info!("login check: ok");
                return None;
            }
            Err(e) => e,
        };
        let outcome = outcome_of_error(&e, now);
        let account = matches!(
            &outcome,
            Outcome::Deferred {
                scope: DeferScope::Daemon,
                ..
            }
        );
        if !account && e.http_status.is_some() {
            // Qualys answered (a 5xx, a maintenance page): it is there; jobs retry as usual.
            tracing::warn!("login check: {e}; jobs retry as usual");
            return None;
        }
        if account || attempt >= ATTEMPTS {
            let pause = pause_for(&outcome, now);
            tracing::error!(
                "login check failed, pausing every job until {}: {}",
                pause.until,
                pause.reason
            );
            return Some(pause);
        }
        attempt += 1;
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// The pause a failed check's outcome calls for.
fn pause_for(outcome: &Outcome, now: Timestamp) -> Pause {
    match outcome {
        Outcome::Deferred {
            until,
            reason,
            scope: DeferScope::Daemon,
        } => Pause {
            until: *until,
            reason: reason.clone(),
        },
        other => Pause {
            until: now.plus(UNREACHABLE_PAUSE),
            reason: format!("Qualys not reachable: {}", reason_of(other)),
        },
    }
}

fn reason_of(o: &Outcome) -> String {
    match o {
        Outcome::Deferred { reason, .. }
        | Outcome::Transient { reason }
        | Outcome::Ambiguous { reason }
        | Outcome::Permanent { reason } => reason.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_problems_keep_their_pause_and_others_pause_briefly() {
        let now = Timestamp(1000);
        let p = pause_for(
            &Outcome::Deferred {
                until: Timestamp(1300),
                reason: "account problem: CODE 2000 Bad Login".into(),
                scope: DeferScope::Daemon,
            },
            now,
        );
        assert_eq!(p.until, Timestamp(1300));
        assert!(p.reason.starts_with("account problem: "), "{}", p.reason);
        let p = pause_for(
            &Outcome::Transient {
                reason: "connection refused".into(),
            },
            now,
        );
        assert_eq!(p.until, now.plus(UNREACHABLE_PAUSE));
        assert_eq!(p.reason, "Qualys not reachable: connection refused");
    }
}
