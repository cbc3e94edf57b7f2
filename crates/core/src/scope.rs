//! Which addresses a job may scan: inside the authorized scope, and outside special-purpose
//! IPv4 space (the IANA special-purpose registry, RFC 6890 and successors) unless allowed.
//!
//! Scanning somebody else's addresses is the one mistake this daemon must never make, so the
//! check is strict and its errors name the offending addresses.

use crate::ip::{IpSet, Ipv4Range};
use std::fmt;
use std::net::Ipv4Addr;
use thiserror::Error;

/// The kinds of special-purpose IPv4 space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialKind {
    /// 0.0.0.0/8, "this network" (RFC 791).
    ThisNetwork,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918).
    Private,
    /// 100.64/10, carrier-grade NAT (RFC 6598).
    Shared,
    /// 127/8 (RFC 1122).
    Loopback,
    /// 169.254/16 (RFC 3927).
    LinkLocal,
    /// 192.0.0/24, IETF protocol assignments (RFC 6890).
    IetfProtocol,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737).
    Documentation,
    /// 192.88.99/24, the deprecated 6to4 relay anycast (RFC 7526).
    Relay6to4,
    /// 198.18/15, network device benchmarking (RFC 2544).
    Benchmarking,
    /// 224/4 (RFC 5771).
    Multicast,
    /// 240/4 except the broadcast address (RFC 1112).
    Reserved,
    /// 255.255.255.255 (RFC 919).
    Broadcast,
}

impl SpecialKind {
    /// A short description, as used in "… is private address space".
    pub fn describe(self) -> &'static str {
        match self {
            SpecialKind::ThisNetwork => "\"this network\"",
            SpecialKind::Private => "private",
            SpecialKind::Shared => "shared (carrier-grade NAT)",
            SpecialKind::Loopback => "loopback",
            SpecialKind::LinkLocal => "link-local",
            SpecialKind::IetfProtocol => "IETF protocol assignment",
            SpecialKind::Documentation => "documentation",
            SpecialKind::Relay6to4 => "6to4 relay anycast",
            SpecialKind::Benchmarking => "benchmarking",
            SpecialKind::Multicast => "multicast",
            SpecialKind::Reserved => "reserved",
            SpecialKind::Broadcast => "limited broadcast",
        }
    }
}

impl fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One block of special-purpose space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialBlock {
    /// The block's addresses.
    pub range: Ipv4Range,
    /// What it is.
    pub kind: SpecialKind,
}

/// A block from its first and last address.
const fn block(first: [u8; 4], last: [u8; 4], kind: SpecialKind) -> SpecialBlock {
    SpecialBlock {
        range: Ipv4Range {
            first: Ipv4Addr::new(first[0], first[1], first[2], first[3]),
            last: Ipv4Addr::new(last[0], last[1], last[2], last[3]),
        },
        kind,
    }
}

/// The special-purpose blocks: sorted by address and disjoint.
pub const SPECIAL_BLOCKS: &[SpecialBlock] = &[
    block([0, 0, 0, 0], [0, 255, 255, 255], SpecialKind::ThisNetwork),
    block([10, 0, 0, 0], [10, 255, 255, 255], SpecialKind::Private),
    block([100, 64, 0, 0], [100, 127, 255, 255], SpecialKind::Shared),
    block([127, 0, 0, 0], [127, 255, 255, 255], SpecialKind::Loopback),
    block(
        [169, 254, 0, 0],
        [169, 254, 255, 255],
        SpecialKind::LinkLocal,
    ),
    block([172, 16, 0, 0], [172, 31, 255, 255], SpecialKind::Private),
    block([192, 0, 0, 0], [192, 0, 0, 255], SpecialKind::IetfProtocol),
    block([192, 0, 2, 0], [192, 0, 2, 255], SpecialKind::Documentation),
    block([192, 88, 99, 0], [192, 88, 99, 255], SpecialKind::Relay6to4),
    block([192, 168, 0, 0], [192, 168, 255, 255], SpecialKind::Private),
    block(
        [198, 18, 0, 0],
        [198, 19, 255, 255],
        SpecialKind::Benchmarking,
    ),
    block(
        [198, 51, 100, 0],
        [198, 51, 100, 255],
        SpecialKind::Documentation,
    ),
    block(
        [203, 0, 113, 0],
        [203, 0, 113, 255],
        SpecialKind::Documentation,
    ),
    block([224, 0, 0, 0], [239, 255, 255, 255], SpecialKind::Multicast),
    block([240, 0, 0, 0], [255, 255, 255, 254], SpecialKind::Reserved),
    block(
        [255, 255, 255, 255],
        [255, 255, 255, 255],
        SpecialKind::Broadcast,
    ),
];

/// The kind of special-purpose space `addr` is in; `None` for ordinary public addresses.
pub fn classify(addr: Ipv4Addr) -> Option<SpecialKind> {
    SPECIAL_BLOCKS
        .iter()
        .find(|b| b.range.contains(addr))
        .map(|b| b.kind)
}

/// Why a set of addresses may not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    /// Some addresses are outside `[scope].authorized`; `range` is the first such run.
    #[error("{range} is outside the authorized scope")]
    NotAuthorized {
        /// The first run of addresses outside the scope.
        range: Ipv4Range,
    },
    /// Some addresses are special-purpose space; `range` is the first such run.
    #[error("{range} is {kind} address space")]
    Special {
        /// The first run of special-purpose addresses.
        range: Ipv4Range,
        /// Its kind.
        kind: SpecialKind,
    },
}

/// Checks that every address of `ips` is inside `authorized` and, unless `allow_special`,
/// outside special-purpose space. An empty `authorized` refuses every non-empty set.
pub fn check_scope(ips: &IpSet, authorized: &IpSet, allow_special: bool) -> Result<(), ScopeError> {
    if let Some(range) = ips.difference(authorized).ranges().first() {
        return Err(ScopeError::NotAuthorized { range: *range });
    }
    if allow_special {
        return Ok(());
    }
    // Blocks are sorted and disjoint, ranges too: the first overlap found walking the
    // job's ranges in order is the lowest one.
    for r in ips.ranges() {
        if let Some((range, kind)) = SPECIAL_BLOCKS
            .iter()
            .find_map(|b| b.range.intersection(r).map(|i| (i, b.kind)))
        {
            return Err(ScopeError::Special { range, kind });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::test_ips::{a, set};

    #[test]
    fn blocks_are_sorted_and_disjoint() {
        for w in SPECIAL_BLOCKS.windows(2) {
            assert!(w[0].range.first <= w[0].range.last);
            assert!(w[0].range.last < w[1].range.first, "{:?}", w);
        }
    }

    #[test]
    fn classifies_the_registry() {
        let cases = [
            ("0.1.2.3", Some(SpecialKind::ThisNetwork)),
            ("10.200.0.1", Some(SpecialKind::Private)),
            ("100.63.255.255", None),
            ("100.64.0.0", Some(SpecialKind::Shared)),
            ("100.127.255.255", Some(SpecialKind::Shared)),
            ("100.128.0.0", None),
            ("127.0.0.1", Some(SpecialKind::Loopback)),
            ("169.254.169.254", Some(SpecialKind::LinkLocal)),
            ("172.15.255.255", None),
            ("172.16.0.0", Some(SpecialKind::Private)),
            ("172.31.255.255", Some(SpecialKind::Private)),
            ("172.32.0.0", None),
            ("192.0.0.8", Some(SpecialKind::IetfProtocol)),
            ("192.0.1.1", None),
            ("192.0.2.77", Some(SpecialKind::Documentation)),
            ("192.88.99.1", Some(SpecialKind::Relay6to4)),
            ("192.168.1.1", Some(SpecialKind::Private)),
            ("198.17.255.255", None),
            ("198.19.0.1", Some(SpecialKind::Benchmarking)),
            ("198.51.100.1", Some(SpecialKind::Documentation)),
            ("203.0.113.200", Some(SpecialKind::Documentation)),
            ("223.255.255.255", None),
            ("224.0.0.1", Some(SpecialKind::Multicast)),
            ("239.255.255.255", Some(SpecialKind::Multicast)),
            ("240.0.0.1", Some(SpecialKind::Reserved)),
            ("255.255.255.254", Some(SpecialKind::Reserved)),
            ("255.255.255.255", Some(SpecialKind::Broadcast)),
            ("64.39.106.1", None),
            ("8.8.8.8", None),
        ];
        for (addr, want) in cases {
            assert_eq!(classify(a(addr)), want, "{addr}");
        }
    }

    #[test]
    fn public_inside_scope_passes() {
        let auth = set(&["64.39.106.0/24"]);
        assert_eq!(
            check_scope(&set(&["64.39.106.0-64.39.106.3"]), &auth, false),
            Ok(())
        );
    }

    #[test]
    fn outside_scope_names_first_run() {
        let auth = set(&["64.39.106.0/24"]);
        let err = check_scope(
            &set(&["64.39.106.250-64.39.107.2", "64.39.108.1"]),
            &auth,
            true,
        )
        .expect_err("outside scope");
        assert_eq!(
            err.to_string(),
            "64.39.107.0-64.39.107.2 is outside the authorized scope"
        );
        let err =
            check_scope(&set(&["8.8.8.8"]), &IpSet::default(), true).expect_err("empty scope");
        assert_eq!(err.to_string(), "8.8.8.8 is outside the authorized scope");
    }

    #[test]
    fn special_space_refused_unless_allowed() {
        let auth = set(&["0.0.0.0/0"]);
        let ips = set(&["10.0.0.1-10.0.0.5", "64.39.106.1"]);
        let err = check_scope(&ips, &auth, false).expect_err("private");
        assert_eq!(
            err.to_string(),
            "10.0.0.1-10.0.0.5 is private address space"
        );
        assert_eq!(check_scope(&ips, &auth, true), Ok(()));

        let straddle = set(&["9.255.255.254-10.0.0.1"]);
        let err = check_scope(&straddle, &auth, false).expect_err("straddles 10/8");
        assert_eq!(
            err.to_string(),
            "10.0.0.0-10.0.0.1 is private address space"
        );

        let err = check_scope(&set(&["255.255.255.255"]), &auth, false).expect_err("broadcast");
        assert_eq!(
            err.to_string(),
            "255.255.255.255 is limited broadcast address space"
        );

        let err = check_scope(&set(&["100.64.0.1"]), &auth, false).expect_err("cgnat");
        assert!(
            err.to_string().contains("shared (carrier-grade NAT)"),
            "{err}"
        );
    }

    #[test]
    fn authorization_checked_even_when_special_allowed() {
        let auth = set(&["10.0.0.0/24"]);
        let err = check_scope(&set(&["10.0.1.1"]), &auth, true).expect_err("outside");
        assert_eq!(
            err,
            ScopeError::NotAuthorized {
                range: set(&["10.0.1.1"]).ranges()[0]
            }
        );
    }
}
