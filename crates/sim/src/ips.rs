//! IPv4 sets as sorted, merged inclusive ranges, parsed from Qualys IP lists
//! (`1.2.3.4,1.2.3.10-1.2.3.20`) and rendered back the same way.

use std::net::Ipv4Addr;

/// A sorted set of disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IpSet {
    ranges: Vec<(u32, u32)>,
}

/// An IP list item that is neither an address nor an `a-b` range (CIDR included: the
/// API's acceptance of CIDR is unconfirmed, so the simulator refuses it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IP or range: {0}")]
pub(crate) struct BadIp(pub String);

impl IpSet {
    /// Parses a comma-separated list of addresses and `a-b` ranges; blanks are skipped.
    pub fn parse(list: &str) -> Result<IpSet, BadIp> {
        let mut set = IpSet::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || BadIp(item.to_owned());
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (item, item),
            };
            let a: Ipv4Addr = a.parse().map_err(|_| bad())?;
            let b: Ipv4Addr = b.parse().map_err(|_| bad())?;
            if u32::from(a) > u32::from(b) {
                return Err(bad());
            }
            set.insert(u32::from(a), u32::from(b));
        }
        Ok(set)
    }

    /// Adds the inclusive range `[a, b]`.
    pub fn insert(&mut self, a: u32, b: u32) {
        self.ranges.push((a, b));
        self.normalize();
    }

    /// Sorts and merges overlapping or adjacent ranges.
    fn normalize(&mut self) {
        self.ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if u64::from(s) <= u64::from(last.1) + 1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.ranges = merged;
    }

    /// The set of these addresses.
    pub fn from_iter_ips(ips: impl IntoIterator<Item = Ipv4Addr>) -> IpSet {
        let mut set = IpSet {
            ranges: ips
                .into_iter()
                .map(|ip| (u32::from(ip), u32::from(ip)))
                .collect(),
        };
        set.normalize();
        set
    }

    /// Adds every range of `other`.
    pub fn extend(&mut self, other: &IpSet) {
        self.ranges.extend_from_slice(&other.ranges);
        self.normalize();
    }

    /// The addresses in both sets.
    pub fn intersect(&self, other: &IpSet) -> IpSet {
        let mut out = IpSet::default();
        for &(a, b) in &self.ranges {
            for &(c, d) in &other.ranges {
                let (s, e) = (a.max(c), b.min(d));
                if s <= e {
                    out.insert(s, e);
                }
            }
        }
        out
    }

    /// The addresses of `self` not in `other`.
    pub fn minus(&self, other: &IpSet) -> IpSet {
        let mut out = IpSet::default();
        for &(a, b) in &self.ranges {
            let mut start = u64::from(a);
            let end = u64::from(b);
            for &(c, d) in &other.ranges {
                let (c, d) = (u64::from(c), u64::from(d));
                if d < start || c > end {
                    continue;
                }
                if c > start {
                    out.insert(start as u32, (c - 1) as u32);
                }
                start = d + 1;
            }
            if start <= end {
                out.insert(start as u32, end as u32);
            }
        }
        out
    }

    /// True if the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of addresses.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| u64::from(b - a) + 1).sum()
    }

    /// The ranges as address pairs.
    pub fn ranges(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        self.ranges
            .iter()
            .map(|&(a, b)| (Ipv4Addr::from(a), Ipv4Addr::from(b)))
    }

    /// Every address, in order.
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.ranges
            .iter()
            .flat_map(|&(a, b)| (a..=b).map(Ipv4Addr::from))
    }

    /// The Qualys list form: `a,b-c`.
    pub fn to_list(&self) -> String {
        self.ranges()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_merges_intersects_and_subtracts() {
        let a = IpSet::parse("10.0.0.5, 10.0.0.1-10.0.0.3,10.0.0.4").expect("valid list");
        assert_eq!(a.to_list(), "10.0.0.1-10.0.0.5");
        assert_eq!(a.len(), 5);
        let b = IpSet::parse("10.0.0.3-10.0.0.9").expect("valid list");
        assert_eq!(a.intersect(&b).to_list(), "10.0.0.3-10.0.0.5");
        assert_eq!(a.minus(&b).to_list(), "10.0.0.1-10.0.0.2");
        assert_eq!(b.minus(&a).to_list(), "10.0.0.6-10.0.0.9");
        let hole = IpSet::parse("10.0.0.3").expect("valid");
        assert_eq!(
            a.minus(&hole).to_list(),
            "10.0.0.1-10.0.0.2,10.0.0.4-10.0.0.5"
        );
        assert_eq!(a.iter().count(), 5);
    }

    #[test]
    fn refuses_names_cidr_and_reversed_ranges() {
        assert_eq!(IpSet::parse("ja-psi.fr"), Err(BadIp("ja-psi.fr".into())));
        assert!(IpSet::parse("10.0.0.0/24").is_err());
        assert!(IpSet::parse("10.0.0.9-10.0.0.1").is_err());
        assert!(IpSet::parse("").expect("empty is fine").is_empty());
    }
}
