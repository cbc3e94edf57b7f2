//! Fault injection: the plan ([`Faults`]) and the deterministic draw that applies it.

use std::time::Duration;

/// A fault plan: each probability is drawn independently per request from a PRNG
/// seeded with `seed`, so a given plan and request sequence always misbehave the same way.
/// Session API calls are never faulted.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Seed of the PRNG (0 is replaced by a fixed non-zero constant).
    pub seed: u64,
    /// Probability of an HTTP 500 with an HTML error page.
    pub p_5xx: f64,
    /// Probability of a `GENERIC_RETURN` CODE 999 internal error (HTTP 500).
    pub p_999: f64,
    /// Probability of an HTTP 503 HTML maintenance page.
    pub p_maintenance: f64,
    /// Probability of an extra delay of `slow` before the response.
    pub p_slow: f64,
    /// The extra delay of a slow response.
    pub slow: Duration,
    /// Probability of applying the request, then closing the connection without a response.
    pub p_drop_after_apply: f64,
    /// Probability of a spurious 409 CODE 1965 (with `X-RateLimit-ToWait-Sec`).
    pub p_409_rate: f64,
    /// Probability of a spurious 409 CODE 1965 without the `X-RateLimit-ToWait-Sec` header.
    pub p_409_rate_no_header: f64,
    /// Probability of a spurious 409 CODE 1960.
    pub p_409_concurrency: f64,
    /// Empty: every API; else only these API keys (`"<path>?action=<action>"`) are faulted.
    pub only_apis: Vec<String>,
}

/// The fault drawn for one request, in the order they are considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No fault.
    None,
    /// HTML 503 maintenance page.
    Maintenance,
    /// HTML 500 page.
    ServerError,
    /// GENERIC_RETURN 999.
    Internal,
    /// 409 / 1960.
    Concurrency,
    /// 409 / 1965 with the ToWait header.
    Rate,
    /// 409 / 1965 without the ToWait header.
    RateNoHeader,
    /// Apply, then drop the connection.
    DropAfterApply,
}

/// What to do to one request: a fault and an optional extra delay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draw {
    /// The fault.
    pub fault: Fault,
    /// Extra delay (slow response), zero if none.
    pub delay: Duration,
}

/// A fault plan with its PRNG state.
#[derive(Debug)]
pub(crate) struct FaultPlan {
    faults: Faults,
    rng: XorShift,
}

impl FaultPlan {
    /// A plan whose PRNG starts from `faults.seed`.
    pub fn new(faults: Faults) -> FaultPlan {
        let rng = XorShift::new(faults.seed);
        FaultPlan { faults, rng }
    }

    /// Draws the fault for one call of `api`.
    pub fn draw(&mut self, api: &str) -> Draw {
        let f = &self.faults;
        let none = Draw {
            fault: Fault::None,
            delay: Duration::ZERO,
        };
        if !f.only_apis.is_empty() && !f.only_apis.iter().any(|a| a == api) {
            return none;
        }
        let delay = if self.rng.chance(f.p_slow) {
            f.slow
        } else {
            Duration::ZERO
        };
        let table = [
            (f.p_maintenance, Fault::Maintenance),
            (f.p_5xx, Fault::ServerError),
            (f.p_999, Fault::Internal),
            (f.p_409_concurrency, Fault::Concurrency),
            (f.p_409_rate, Fault::Rate),
            (f.p_409_rate_no_header, Fault::RateNoHeader),
            (f.p_drop_after_apply, Fault::DropAfterApply),
        ];
        let mut fault = Fault::None;
        for (p, kind) in table {
            // Always draw, so one probability does not shift the others' sequence.
            if self.rng.chance(p) && fault == Fault::None {
                fault = kind;
            }
        }
        Draw { fault, delay }
    }
}

/// xorshift64*: small, fast, deterministic; not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (0 is mapped to a fixed non-zero seed).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `p` (p ≤ 0 never, p ≥ 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_rates_are_roughly_right() {
        let plan = Faults {
            seed: 42,
            p_5xx: 0.25,
            ..Faults::default()
        };
        let mut a = FaultPlan::new(plan.clone());
        let mut b = FaultPlan::new(plan);
        let sa: Vec<Fault> = (0..1000).map(|_| a.draw("x").fault).collect();
        let sb: Vec<Fault> = (0..1000).map(|_| b.draw("x").fault).collect();
        assert_eq!(sa, sb);
        let hits = sa.iter().filter(|f| **f == Fault::ServerError).count();
        assert!((180..320).contains(&hits), "25% of 1000 draws, got {hits}");
    }

    #[test]
    fn only_apis_limits_the_faults() {
        let mut p = FaultPlan::new(Faults {
            seed: 1,
            p_999: 1.0,
            only_apis: vec!["/a/?action=x".into()],
            ..Faults::default()
        });
        assert_eq!(p.draw("/a/?action=y").fault, Fault::None);
        assert_eq!(p.draw("/a/?action=x").fault, Fault::Internal);
    }
}
