//! Inline SVG bar charts for `summary.html`: findings per severity, per host as stacked
//! bars, and labelled bars (coverage, the baseline delta). Plain SVG elements only (no
//! script, no external reference).

use super::summary::HostCount;
use super::summary_html::esc;
use std::fmt::Write as _;

/// Fill colour of each severity 0–5.
pub const COLORS: [&str; 6] = [
    "#9e9e9e", "#4caf50", "#cddc39", "#ffc107", "#ff7043", "#d32f2f",
];

const WIDTH: u64 = 640;
const LABEL: u64 = 130;
const ROW: u64 = 22;

/// Horizontal bars: one per severity 5 to 1 (and unknown when present).
pub fn severity_chart(counts: &[u64; 6]) -> String {
    let mut levels: Vec<usize> = (1..=5).rev().collect();
    if counts[0] > 0 {
        levels.push(0);
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let height = ROW * levels.len() as u64 + 4;
    let mut o = open(height, "Findings per severity");
    for (row, &sev) in levels.iter().enumerate() {
        let y = row as u64 * ROW + 2;
        let w = bar_width(counts[sev], max);
        let label = if sev == 0 {
            "unknown".to_owned()
        } else {
            format!("severity {sev}")
        };
        let _ = write!(
            o,
            r#"<text x="0" y="{ty}" font-size="12">{label}</text><rect x="{LABEL}" y="{y}" width="{w}" height="{h}" fill="{c}"/><text x="{tx}" y="{ty}" font-size="12">{n}</text>"#,
            ty = y + 14,
            h = ROW - 6,
            c = COLORS[sev],
            tx = LABEL + w + 4,
            n = counts[sev],
        );
    }
    o.push_str("</svg>");
    o
}

/// One labelled horizontal bar per `(label, count, colour)`, titled `title`.
pub fn bar_chart(title: &str, bars: &[(&str, u64, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as u64 + 4;
    let mut o = open(height, &esc(title));
    for (row, (label, n, color)) in bars.iter().enumerate() {
        let y = row as u64 * ROW + 2;
        let w = bar_width(*n, max);
        let _ = write!(
            o,
            r#"<text x="0" y="{ty}" font-size="12">{label}</text><rect x="{LABEL}" y="{y}" width="{w}" height="{h}" fill="{c}"/><text x="{tx}" y="{ty}" font-size="12">{n}</text>"#,
            ty = y + 14,
            label = esc(label),
            h = ROW - 6,
            c = esc(color),
            tx = LABEL + w + 4,
        );
    }
    o.push_str("</svg>");
    o
}

/// One stacked bar per host (the first `max_hosts`), severity 5 leftmost.
pub fn host_chart(hosts: &[HostCount], max_hosts: usize) -> String {
    let shown = &hosts[..hosts.len().min(max_hosts)];
    let total = |h: &HostCount| h.counts.iter().sum::<u64>();
    let max = shown.iter().map(total).max().unwrap_or(0).max(1);
    let height = ROW * shown.len() as u64 + 4;
    let mut o = open(height, "Findings per host, by severity");
    for (row, h) in shown.iter().enumerate() {
        let y = row as u64 * ROW + 2;
        let _ = write!(
            o,
            r#"<text x="0" y="{}" font-size="12">{}</text>"#,
            y + 14,
            esc(&h.ip)
        );
        let mut x = LABEL;
        for sev in (0..=5).rev() {
            let w = bar_width(h.counts[sev], max);
            if w > 0 {
                let _ = write!(
                    o,
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{}" fill="{}"><title>severity {sev}: {}</title></rect>"#,
                    ROW - 6,
                    COLORS[sev],
                    h.counts[sev]
                );
                x += w;
            }
        }
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" font-size="12">{}</text>"#,
            x + 4,
            y + 14,
            total(h)
        );
    }
    o.push_str("</svg>");
    o
}

/// The opening tag of a chart.
fn open(height: u64, title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}"><title>{title}</title>"#
    )
}

/// The bar length for `n` out of `max`, at least 1 pixel when `n > 0`.
fn bar_width(n: u64, max: u64) -> u64 {
    let room = WIDTH - LABEL - 50;
    if n == 0 {
        0
    } else {
        (n * room / max).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_count() {
        let svg = severity_chart(&[0, 0, 0, 2, 0, 4]);
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        // Largest bar gets the whole room, half the count half of it.
        assert!(
            svg.contains(r##"width="460" height="16" fill="#d32f2f""##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"width="230" height="16" fill="#ffc107""##),
            "{svg}"
        );
        assert!(!svg.contains("unknown"));
    }

    #[test]
    fn labelled_bars_scale_and_escape() {
        let svg = bar_chart("a<b", &[("new", 3, "#d32f2f"), ("fixed <x>", 0, "#4caf50")]);
        assert!(svg.contains(r#"aria-label="a&lt;b""#), "{svg}");
        assert!(
            svg.contains(r##"width="460" height="16" fill="#d32f2f""##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"width="0" height="16" fill="#4caf50""##),
            "{svg}"
        );
        assert!(svg.contains("fixed &lt;x&gt;"));
    }

    #[test]
    fn host_chart_limits_rows_and_escapes_names() {
        let hosts = vec![
            HostCount {
                ip: "<h1>".into(),
                counts: [0, 1, 0, 0, 0, 1],
            },
            HostCount {
                ip: "10.0.0.2".into(),
                counts: [0, 1, 0, 0, 0, 0],
            },
        ];
        let svg = host_chart(&hosts, 1);
        assert!(svg.contains("&lt;h1&gt;"));
        assert!(!svg.contains("10.0.0.2"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }
}
