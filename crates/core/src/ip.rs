//! IPv4 address sets: parsing single addresses, `a-b` ranges and CIDR blocks into a sorted,
//! merged list of inclusive ranges, and writing them back as Qualys wants them (`a-b`).
//!
//! NOT BUILT YET: parsing is being written (see the Foundation issue).

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// An inclusive range of IPv4 addresses, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ipv4Range {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address (inclusive).
    pub last: Ipv4Addr,
}

/// A sorted list of disjoint, non-adjacent ranges (adjacent ranges are merged).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct IpSet {
    ranges: Vec<Ipv4Range>,
}

impl IpSet {
    /// The ranges, sorted and merged.
    pub fn ranges(&self) -> &[Ipv4Range] {
        &self.ranges
    }
}
