//! Fault injection: the plan ([`Faults`]) and the deterministic draw that applies it.
//!
//! Faults added after the first release (slow apply, 1981, 1999, hostile XML, trickling
//! downloads) consume the PRNG only when their probability is above zero, so an older plan
//! with the same seed still misbehaves exactly as it did.

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
    /// Probability of an extra delay of `slow` before the request reaches the API: a client
    /// that hangs up during it leaves nothing applied (contrast `p_slow_apply`).
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
    /// Probability that a mutation (IP add, group add/edit, scan launch, report launch) is
    /// applied `slow_apply` after it arrived, whether or not the client is still connected
    /// (qualys-api.md §2.4: server-side work outlives the client). 1.0 with `only_apis`
    /// slows every mutation of the chosen APIs.
    pub p_slow_apply: f64,
    /// How long after its arrival a slow-applied mutation takes effect.
    pub slow_apply: Duration,
    /// APIs (`"<path>?action=<action>"`) whose every mutation is slow-applied, whatever
    /// `p_slow_apply` and `only_apis` say (so a test can force it on, e.g., scan launches
    /// while other faults hit every API).
    pub slow_apply_apis: Vec<String>,
    /// Probability of HTTP 400 CODE 1981 "request is being processed" (§3.2), nothing applied.
    pub p_1981: f64,
    /// Probability of HTTP 400 CODE 1999 "scheduled maintenance" (§3.2), nothing applied.
    pub p_1999: f64,
    /// Probability of an XML body with an internal DTD subset and a flat entity expansion
    /// (about 480 KB that would expand to about 5 GB; issue 10 §4), nothing applied.
    pub p_hostile_xml: f64,
    /// Probability that a download (scan fetch, report fetch) body trickles out at
    /// `trickle_bytes_per_sec`.
    pub p_trickle: f64,
    /// Speed of a trickling download (0 means 4 bytes per second).
    pub trickle_bytes_per_sec: u32,
    /// Empty: every API; else only these API keys (`"<path>?action=<action>"`) are faulted.
    pub only_apis: Vec<String>,
}

/// What an API does, for the faults that only hit some APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKind {
    /// A read (list) or a cancel.
    Read,
    /// A mutation that can be slow-applied.
    Mutation,
    /// A download that can trickle.
    Download,
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
    /// 400 / 1981 request is being processed.
    Processing,
    /// 400 / 1999 scheduled maintenance.
    ScheduledMaintenance,
    /// An entity-expansion XML body.
    HostileXml,
}

/// What to do to one request: a fault and an optional extra delay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draw {
    /// The fault.
    pub fault: Fault,
    /// Extra delay (slow response), zero if none.
    pub delay: Duration,
    /// Delay after arrival before a mutation is applied, zero if none.
    pub slow_apply: Duration,
    /// Bytes per second of a trickling download, if this one trickles.
    pub trickle: Option<u32>,
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

    /// Draws the fault for one call of `api`, which is of `kind`.
    pub fn draw(&mut self, api: &str, kind: ApiKind) -> Draw {
        let f = &self.faults;
        let forced_slow = kind == ApiKind::Mutation && f.slow_apply_apis.iter().any(|a| a == api);
        let none = Draw {
            fault: Fault::None,
            delay: Duration::ZERO,
            slow_apply: if forced_slow {
                f.slow_apply
            } else {
                Duration::ZERO
            },
            trickle: None,
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
        let later = [
            (f.p_1981, Fault::Processing),
            (f.p_1999, Fault::ScheduledMaintenance),
            (f.p_hostile_xml, Fault::HostileXml),
        ];
        for (p, kind) in later {
            if p > 0.0 && self.rng.chance(p) && fault == Fault::None {
                fault = kind;
            }
        }
        let slow_apply =
            if kind == ApiKind::Mutation && f.p_slow_apply > 0.0 && self.rng.chance(f.p_slow_apply)
            {
                f.slow_apply
            } else {
                Duration::ZERO
            };
        let trickle =
            (kind == ApiKind::Download && f.p_trickle > 0.0 && self.rng.chance(f.p_trickle))
                .then_some(if f.trickle_bytes_per_sec == 0 {
                    4
                } else {
                    f.trickle_bytes_per_sec
                });
        Draw {
            fault,
            delay,
            slow_apply,
            trickle,
        }
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
        let sa: Vec<Fault> = (0..1000)
            .map(|_| a.draw("x", ApiKind::Read).fault)
            .collect();
        let sb: Vec<Fault> = (0..1000)
            .map(|_| b.draw("x", ApiKind::Read).fault)
            .collect();
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
        assert_eq!(p.draw("/a/?action=y", ApiKind::Read).fault, Fault::None);
        assert_eq!(p.draw("/a/?action=x", ApiKind::Read).fault, Fault::Internal);
    }

    #[test]
    fn new_faults_leave_old_sequences_alone_and_hit_only_their_kind() {
        let old = Faults {
            seed: 9,
            p_5xx: 0.3,
            ..Faults::default()
        };
        let mut a = FaultPlan::new(old.clone());
        let mut b = FaultPlan::new(Faults {
            p_slow_apply: 1.0,
            slow_apply: Duration::from_secs(3),
            p_trickle: 1.0,
            ..old
        });
        for _ in 0..200 {
            let (x, y) = (a.draw("r", ApiKind::Read), b.draw("r", ApiKind::Read));
            assert_eq!(x.fault, y.fault);
            assert_eq!((y.slow_apply, y.trickle), (Duration::ZERO, None));
        }
        let m = b.draw("m", ApiKind::Mutation);
        assert_eq!((m.slow_apply, m.trickle), (Duration::from_secs(3), None));
        let d = b.draw("d", ApiKind::Download);
        assert_eq!((d.slow_apply, d.trickle), (Duration::ZERO, Some(4)));
    }

    #[test]
    fn slow_apply_apis_force_it_whatever_only_apis_says() {
        let mut p = FaultPlan::new(Faults {
            seed: 2,
            p_5xx: 1.0,
            slow_apply: Duration::from_secs(2),
            slow_apply_apis: vec!["/l/?action=launch".into()],
            only_apis: vec!["/o/?action=add".into()],
            ..Faults::default()
        });
        let l = p.draw("/l/?action=launch", ApiKind::Mutation);
        assert_eq!(
            (l.fault, l.slow_apply),
            (Fault::None, Duration::from_secs(2))
        );
        let o = p.draw("/o/?action=add", ApiKind::Mutation);
        assert_eq!(
            (o.fault, o.slow_apply),
            (Fault::ServerError, Duration::ZERO)
        );
        assert_eq!(
            p.draw("/l/?action=launch", ApiKind::Read).slow_apply,
            Duration::ZERO
        );
    }
}
