//! IPv4 address sets: parsing single addresses, `a-b` ranges and CIDR blocks into a sorted,
//! merged list of inclusive ranges, and writing them back as Qualys wants them (`a-b`).
//!
//! Overlapping, duplicate and adjacent entries are merged, not refused: an upstream script
//! that lists `10.0.0.1` and `10.0.0.0/30` means the four addresses. What is refused, with
//! the entry named: syntax errors, reversed ranges, CIDR blocks with host bits set (the
//! intended block is ambiguous) and IPv6.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use thiserror::Error;

/// An inclusive range of IPv4 addresses, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ipv4Range {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address (inclusive).
    pub last: Ipv4Addr,
}

impl Ipv4Range {
    /// The range `first..=last`, or `None` when `first > last`.
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> Option<Ipv4Range> {
        (first <= last).then_some(Ipv4Range { first, last })
    }

    /// The range holding the single address `addr`.
    pub fn single(addr: Ipv4Addr) -> Ipv4Range {
        Ipv4Range {
            first: addr,
            last: addr,
        }
    }

    /// How many addresses the range holds (1 ..= 2^32).
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.last)).saturating_sub(u64::from(u32::from(self.first))) + 1
    }

    /// Always `false`: a range holds at least one address. (Present for symmetry with `len`.)
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.first <= addr && addr <= self.last
    }

    /// The addresses both ranges hold, if any.
    pub fn intersection(&self, other: &Ipv4Range) -> Option<Ipv4Range> {
        Ipv4Range::new(self.first.max(other.first), self.last.min(other.last))
    }
}

impl fmt::Display for Ipv4Range {
    /// `a` for a single address, `a-b` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Why an address entry was refused. Every variant names the entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IpError {
    /// An empty (or all-blank) entry.
    #[error("empty address entry at position {index}")]
    Empty {
        /// Zero-based position of the entry in the list.
        index: usize,
    },
    /// An IPv6 address, range or block.
    #[error("IPv6 is not supported: {entry:?}")]
    Ipv6 {
        /// The entry as written.
        entry: String,
    },
    /// Not an IPv4 address (a side of a range, or the address of a CIDR block).
    #[error("invalid IPv4 address {part:?} in entry {entry:?}")]
    BadAddress {
        /// The entry as written.
        entry: String,
        /// The part that does not parse.
        part: String,
    },
    /// A range whose first address is after its last.
    #[error("reversed range {entry:?}: {first} is after {last}")]
    Reversed {
        /// The entry as written.
        entry: String,
        /// Its first address.
        first: Ipv4Addr,
        /// Its last address.
        last: Ipv4Addr,
    },
    /// A CIDR prefix length that is not a number in 0..=32.
    #[error("invalid CIDR prefix length {prefix:?} in entry {entry:?} (expected 0 to 32)")]
    BadPrefix {
        /// The entry as written.
        entry: String,
        /// The prefix as written.
        prefix: String,
    },
    /// A CIDR block whose address has bits set beyond the prefix.
    #[error("CIDR entry {entry:?} has host bits set (the block is {network}/{prefix})")]
    HostBits {
        /// The entry as written.
        entry: String,
        /// The block's network address.
        network: Ipv4Addr,
        /// The prefix length.
        prefix: u8,
    },
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

    /// Parses addresses (`64.39.106.1`), ranges (`64.39.106.0-64.39.106.3`) and CIDR blocks
    /// (`64.39.106.0/30`) into one merged set. Blanks around entries and around `-` / `/`
    /// are allowed.
    pub fn parse_entries<S: AsRef<str>>(entries: &[S]) -> Result<IpSet, IpError> {
        let ranges = entries
            .iter()
            .enumerate()
            .map(|(index, e)| parse_entry(index, e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IpSet::from_ranges(ranges))
    }

    /// The set holding exactly the addresses of `ranges`: sorted, with overlapping,
    /// duplicate and adjacent ranges merged.
    pub fn from_ranges(mut ranges: Vec<Ipv4Range>) -> IpSet {
        ranges.sort();
        let mut merged: Vec<Ipv4Range> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(prev)
                    if u64::from(u32::from(r.first)) <= u64::from(u32::from(prev.last)) + 1 =>
                {
                    prev.last = prev.last.max(r.last);
                }
                _ => merged.push(r),
            }
        }
        IpSet { ranges: merged }
    }

    /// How many addresses the set holds (up to 2^32).
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(Ipv4Range::len).sum()
    }

    /// Whether the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `addr` is in the set.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.covering(addr).is_some()
    }

    /// Whether every address of `other` is in `self`.
    pub fn contains_set(&self, other: &IpSet) -> bool {
        // `self` is merged, so a range of `other` inside `self` lies inside one range of `self`.
        other
            .ranges
            .iter()
            .all(|r| self.covering(r.first).is_some_and(|c| r.last <= c.last))
    }

    /// The addresses of `self` that are not in `other`.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        let mut out = Vec::new();
        for r in &self.ranges {
            let mut next = Some(u32::from(r.first));
            let end = u32::from(r.last);
            for o in &other.ranges {
                let Some(start) = next else { break };
                let (of, ol) = (u32::from(o.first), u32::from(o.last));
                if ol < start || of > end {
                    continue;
                }
                if of > start {
                    out.push(range_u32(start, of - 1));
                }
                next = ol.checked_add(1).filter(|n| *n <= end);
            }
            if let Some(start) = next {
                out.push(range_u32(start, end));
            }
        }
        IpSet { ranges: out }
    }

    /// The addresses in both sets.
    pub fn intersection(&self, other: &IpSet) -> IpSet {
        let out = self
            .ranges
            .iter()
            .flat_map(|a| other.ranges.iter().filter_map(move |b| a.intersection(b)))
            .collect();
        IpSet::from_ranges(out)
    }

    /// The set as Qualys takes it in `ips=`: comma-separated, `a` for single addresses and
    /// `a-b` for ranges. Empty for the empty set.
    pub fn to_qualys(&self) -> String {
        self.to_string()
    }

    /// The range of `self` holding `addr`.
    fn covering(&self, addr: Ipv4Addr) -> Option<&Ipv4Range> {
        let i = self.ranges.partition_point(|r| r.last < addr);
        self.ranges.get(i).filter(|r| r.first <= addr)
    }
}

impl fmt::Display for IpSet {
    /// Same as [`IpSet::to_qualys`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A range from two `u32`s known to be ordered.
fn range_u32(first: u32, last: u32) -> Ipv4Range {
    Ipv4Range {
        first: Ipv4Addr::from(first),
        last: Ipv4Addr::from(last),
    }
}

/// Parses one entry of a list.
fn parse_entry(index: usize, raw: &str) -> Result<Ipv4Range, IpError> {
    let entry = raw.trim();
    if entry.is_empty() {
        return Err(IpError::Empty { index });
    }
    if entry.contains(':') {
        return Err(IpError::Ipv6 {
            entry: entry.to_owned(),
        });
    }
    let addr = |part: &str| -> Result<Ipv4Addr, IpError> {
        part.trim().parse().map_err(|_| IpError::BadAddress {
            entry: entry.to_owned(),
            part: part.trim().to_owned(),
        })
    };
    if let Some((a, p)) = entry.split_once('/') {
        let network = addr(a)?;
        let prefix: u8 =
            p.trim()
                .parse()
                .ok()
                .filter(|n| *n <= 32)
                .ok_or_else(|| IpError::BadPrefix {
                    entry: entry.to_owned(),
                    prefix: p.trim().to_owned(),
                })?;
        let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
        let bits = u32::from(network);
        if bits & host_bits != 0 {
            return Err(IpError::HostBits {
                entry: entry.to_owned(),
                network: Ipv4Addr::from(bits & !host_bits),
                prefix,
            });
        }
        return Ok(range_u32(bits, bits | host_bits));
    }
    if let Some((a, b)) = entry.split_once('-') {
        let (first, last) = (addr(a)?, addr(b)?);
        return Ipv4Range::new(first, last).ok_or_else(|| IpError::Reversed {
            entry: entry.to_owned(),
            first,
            last,
        });
    }
    addr(entry).map(Ipv4Range::single)
}

/// Test shorthands shared by the tests of this module and of [`crate::scope`].
#[cfg(test)]
pub(crate) mod test_ips {
    use super::IpSet;
    use std::net::Ipv4Addr;

    /// The set of `entries`, which the test knows to be valid.
    pub fn set(entries: &[&str]) -> IpSet {
        IpSet::parse_entries(entries).expect("entries in this test are valid")
    }

    /// The address `s`, which the test knows to be valid.
    pub fn a(s: &str) -> Ipv4Addr {
        s.parse().expect("test address is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::test_ips::{a, set};
    use super::*;

    #[test]
    fn parses_single_range_and_cidr() {
        let s = set(&[
            "64.39.106.7",
            " 64.39.106.20 - 64.39.106.22 ",
            "10.1.0.0/30",
        ]);
        assert_eq!(
            s.to_qualys(),
            "10.1.0.0-10.1.0.3,64.39.106.7,64.39.106.20-64.39.106.22"
        );
        assert_eq!(s.len(), 8);
        assert_eq!(s.ranges().len(), 3);
    }

    #[test]
    fn merges_overlap_duplicates_and_adjacency() {
        let s = set(&[
            "10.0.0.5",
            "10.0.0.0/30",
            "10.0.0.4",
            "10.0.0.2-10.0.0.3",
            "10.0.0.5",
        ]);
        assert_eq!(s.to_qualys(), "10.0.0.0-10.0.0.5");
        assert_eq!(s.len(), 6);
        let gap = set(&["10.0.0.1", "10.0.0.3"]);
        assert_eq!(gap.to_string(), "10.0.0.1,10.0.0.3");
        let contained = set(&["10.0.0.0/24", "10.0.0.7-10.0.0.9"]);
        assert_eq!(contained.to_string(), "10.0.0.0-10.0.0.255");
    }

    #[test]
    fn cidr_edges() {
        let all = set(&["0.0.0.0/0"]);
        assert_eq!(all.len(), 1 << 32);
        assert_eq!(all.to_string(), "0.0.0.0-255.255.255.255");
        let one = set(&["64.39.106.9/32"]);
        assert_eq!(one.to_string(), "64.39.106.9");
        assert_eq!(one.len(), 1);
        let top = set(&["255.255.255.255", "255.255.255.254/31"]);
        assert_eq!(top.to_string(), "255.255.255.254-255.255.255.255");
        assert_eq!(top.len(), 2);
        let adj_top = set(&["255.255.255.255", "255.255.255.253"]);
        assert_eq!(adj_top.ranges().len(), 2);
    }

    #[test]
    fn errors_name_the_entry() {
        let cases: &[(&str, &str)] = &[
            ("10.0.0.9-10.0.0.1", "reversed range \"10.0.0.9-10.0.0.1\""),
            ("10.0.0.256", "\"10.0.0.256\""),
            ("10.0.0.1-x", "\"x\" in entry \"10.0.0.1-x\""),
            (
                "10.0.0.0/33",
                "prefix length \"33\" in entry \"10.0.0.0/33\"",
            ),
            ("10.0.0.0/", "in entry \"10.0.0.0/\""),
            (
                "10.0.0.1/30",
                "\"10.0.0.1/30\" has host bits set (the block is 10.0.0.0/30)",
            ),
            ("2001:db8::1", "IPv6 is not supported: \"2001:db8::1\""),
            ("2001:db8::/32", "IPv6 is not supported"),
            ("010.0.0.1", "\"010.0.0.1\""),
        ];
        for (entry, want) in cases {
            let err = IpSet::parse_entries(&["10.9.9.9", entry]).expect_err(entry);
            let msg = err.to_string();
            assert!(msg.contains(want), "{entry}: {msg}");
        }
        let err = IpSet::parse_entries(&["10.0.0.1", "  "]).expect_err("blank");
        assert_eq!(err, IpError::Empty { index: 1 });
    }

    #[test]
    fn contains_and_contains_set() {
        let scope = set(&["64.39.106.0/24", "10.0.0.0-10.0.0.9"]);
        assert!(scope.contains(a("64.39.106.255")));
        assert!(!scope.contains(a("64.39.107.0")));
        assert!(!scope.contains(a("10.0.0.10")));
        assert!(scope.contains_set(&set(&["64.39.106.0-64.39.106.3", "10.0.0.9"])));
        assert!(!scope.contains_set(&set(&["64.39.106.250-64.39.107.1"])));
        assert!(!scope.contains_set(&set(&["10.0.0.5-64.39.106.1"])));
        assert!(scope.contains_set(&IpSet::default()));
        assert!(!IpSet::default().contains_set(&scope));
        assert!(IpSet::default().is_empty());
    }

    #[test]
    fn difference_and_intersection() {
        let s = set(&["10.0.0.0-10.0.0.20", "10.0.1.0"]);
        let o = set(&["10.0.0.5-10.0.0.6", "10.0.0.20-10.0.1.0"]);
        assert_eq!(
            s.difference(&o).to_string(),
            "10.0.0.0-10.0.0.4,10.0.0.7-10.0.0.19"
        );
        assert_eq!(
            s.intersection(&o).to_string(),
            "10.0.0.5-10.0.0.6,10.0.0.20,10.0.1.0"
        );
        let top = set(&["255.255.255.0/24"]);
        let minus_last = top.difference(&set(&["255.255.255.255"]));
        assert_eq!(minus_last.to_string(), "255.255.255.0-255.255.255.254");
        assert!(s.difference(&s).is_empty());
        assert_eq!(s.difference(&IpSet::default()), s);
    }

    #[test]
    fn from_ranges_normalizes() {
        let r = |x: &str, y: &str| Ipv4Range::new(a(x), a(y)).expect("ordered");
        let s = IpSet::from_ranges(vec![r("10.0.0.8", "10.0.0.9"), r("10.0.0.0", "10.0.0.7")]);
        assert_eq!(s.ranges(), &[r("10.0.0.0", "10.0.0.9")]);
        assert_eq!(Ipv4Range::new(a("10.0.0.2"), a("10.0.0.1")), None);
    }
}
