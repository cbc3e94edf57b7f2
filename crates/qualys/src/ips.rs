//! Formatting IPv4 ranges the way Qualys takes them: comma-separated `a-b` ranges,
//! a single address when a range is one address.

use std::net::Ipv4Addr;

/// Formats `(first, last)` pairs as `"10.0.0.1,10.0.0.5-10.0.0.9"`; a pair whose ends are
/// equal is written as one address. Pairs given reversed are written in ascending order.
pub fn format_ips(ranges: &[(Ipv4Addr, Ipv4Addr)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|&(a, b)| {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singles_and_ranges() {
        let ranges = [
            (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 1)),
            (Ipv4Addr::new(64, 39, 106, 5), Ipv4Addr::new(64, 39, 106, 9)),
            (Ipv4Addr::new(1, 2, 3, 9), Ipv4Addr::new(1, 2, 3, 4)),
        ];
        assert_eq!(
            format_ips(&ranges),
            "10.0.0.1,64.39.106.5-64.39.106.9,1.2.3.4-1.2.3.9"
        );
        assert_eq!(format_ips(&[]), "");
    }
}
