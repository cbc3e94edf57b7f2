//! Retry delays after transient failures: exponential, capped, with deterministic jitter.
//!
//! Pure: the jitter is a hash of a caller-given seed (derived from the job id) and the
//! attempt number, so the same inputs always give the same delay and two jobs failing
//! together do not retry in lockstep.

use crate::machine::Policy;
use std::time::Duration;

/// The delay before retry number `attempts + 1`, after failing continuously for
/// `failing_for`.
///
/// The nominal delay is `retry_base * 2^attempts`, capped at `retry_cap` while
/// `failing_for < retry_patience` and at `patient_cap` afterwards (the job waits longer; it
/// never fails because of transient errors). The result lies in `[3/4 · nominal, nominal]`:
/// up to a quarter is shaved off by the jitter, so it never exceeds the cap.
pub fn retry_delay(policy: &Policy, attempts: u32, failing_for: Duration, seed: u64) -> Duration {
    let cap = if failing_for >= policy.retry_patience {
        policy.patient_cap
    } else {
        policy.retry_cap
    };
    let factor = 1u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX);
    let nominal = policy.retry_base.saturating_mul(factor).min(cap);
    let nominal_ms = u64::try_from(nominal.as_millis()).unwrap_or(u64::MAX);
    let spread = nominal_ms / 4;
    let shave = if spread == 0 {
        0
    } else {
        mix(seed ^ u64::from(attempts).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % (spread + 1)
    };
    Duration::from_millis(nominal_ms - shave)
}

/// SplitMix64's finalizer: a cheap, well-spread 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::default()
    }

    #[test]
    fn grows_exponentially_within_the_jitter_band() {
        let p = policy();
        for attempts in 0..6u32 {
            let nominal = p.retry_base * 2u32.pow(attempts);
            let d = retry_delay(&p, attempts, Duration::ZERO, 42);
            assert!(d <= nominal, "attempt {attempts}: {d:?} > {nominal:?}");
            assert!(
                d >= nominal * 3 / 4,
                "attempt {attempts}: {d:?} < 3/4 of {nominal:?}"
            );
        }
    }

    #[test]
    fn capped_by_retry_cap_then_by_patient_cap() {
        let p = policy();
        let young = retry_delay(&p, 30, Duration::from_secs(60), 7);
        assert!(
            young <= p.retry_cap && young >= p.retry_cap * 3 / 4,
            "{young:?}"
        );
        let old = retry_delay(&p, 30, p.retry_patience, 7);
        assert!(
            old <= p.patient_cap && old >= p.patient_cap * 3 / 4,
            "{old:?}"
        );
        assert!(
            old > p.retry_cap,
            "patience must lengthen the wait: {old:?}"
        );
        // Huge attempt counts neither overflow nor panic.
        let huge = retry_delay(&p, u32::MAX, Duration::ZERO, 7);
        assert!(huge <= p.retry_cap, "{huge:?}");
    }

    #[test]
    fn deterministic_per_seed_and_varies_across_seeds() {
        let p = policy();
        let a = retry_delay(&p, 5, Duration::ZERO, 1);
        assert_eq!(a, retry_delay(&p, 5, Duration::ZERO, 1));
        let distinct: std::collections::HashSet<Duration> = (0..20u64)
            .map(|seed| retry_delay(&p, 5, Duration::ZERO, seed))
            .collect();
        assert!(distinct.len() > 1, "jitter must depend on the seed");
    }
}
