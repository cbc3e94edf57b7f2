//! Inline SVG bar charts for `summary.html`: findings per severity, per host as stacked
//! bars, and labelled bars (coverage, the baseline delta). Plain SVG elements only (no
//! script, no external reference).
//!
//! Every chart ends with a legend (`<g class="legend">`: a swatch and a name per colour).
//! Three palettes that share no colour, so a colour means one thing on the page: the
//! severities ([`COLORS`], yellow to dark red, grey for unknown), the coverage statuses
//! ([`COVERAGE_COLORS`], green, blue and purple hues) and the baseline delta
//! ([`DELTA_COLORS`]). Severity levels are named as everywhere else
//! ([`super::summary::severity_label`]).

use super::summary::{severity_label, HostCount};
use super::summary_html::esc;
use std::fmt::Write as _;

/// Fill colour of each severity 0–5 (0: unknown).
pub const COLORS: [&str; 6] = [
    "#757575", "#fdd835", "#ffa726", "#f4511e", "#c62828", "#6d0000",
];

/// Fill colour of each coverage status: scanned, no response, excluded, not scanned,
/// unknown.
pub const COVERAGE_COLORS: [&str; 5] = ["#2e7d32", "#1e88e5", "#90a4ae", "#6a1b9a", "#d7ccc8"];

/// Fill colour of the baseline delta's bars: new, fixed, unchanged.
pub const DELTA_COLORS: [&str; 3] = ["#d81b60", "#00897b", "#bdbdbd"];

const WIDTH: u64 = 720;
const LABEL: u64 = 150;
const ROW: u64 = 22;
/// Height of one line of the legend.
const LEGEND_LINE: u64 = 18;

/// Horizontal bars: one per severity 5 to 1 (and unknown when present).
pub fn severity_chart(counts: &[u64; 6]) -> String {
    let mut levels: Vec<usize> = (1..=5).rev().collect();
    if counts[0] > 0 {
        levels.push(0);
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let bars_height = ROW * levels.len() as u64 + 4;
    let entries: Vec<(String, &str)> = levels
        .iter()
        .map(|&sev| (severity_label(sev as u8), COLORS[sev]))
        .collect();
    let (key, key_height) = legend(bars_height, &entries);
    let mut o = open(bars_height + key_height, "Findings per severity");
    for (row, &sev) in levels.iter().enumerate() {
        let y = row as u64 * ROW + 2;
        let w = bar_width(counts[sev], max);
        let label = esc(&severity_label(sev as u8));
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
    o.push_str(&key);
    o.push_str("</svg>");
    o
}

/// One labelled horizontal bar per `(label, count, colour)`, titled `title`.
pub fn bar_chart(title: &str, bars: &[(&str, u64, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let bars_height = ROW * bars.len() as u64 + 4;
    let entries: Vec<(String, &str)> = bars.iter().map(|b| (b.0.to_owned(), b.2)).collect();
    let (key, key_height) = legend(bars_height, &entries);
    let mut o = open(bars_height + key_height, &esc(title));
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
    o.push_str(&key);
    o.push_str("</svg>");
    o
}

/// One stacked bar per host (the first `max_hosts`), severity 5 leftmost.
pub fn host_chart(hosts: &[HostCount], max_hosts: usize) -> String {
    let shown = &hosts[..hosts.len().min(max_hosts)];
    let total = |h: &HostCount| h.counts.iter().sum::<u64>();
    let max = shown.iter().map(total).max().unwrap_or(0).max(1);
    let bars_height = ROW * shown.len() as u64 + 4;
    // The levels the chart shows, worst first (unknown only when a host has some).
    let entries: Vec<(String, &str)> = (0..=5usize)
        .rev()
        .filter(|&sev| sev > 0 || shown.iter().any(|h| h.counts[0] > 0))
        .map(|sev| (severity_label(sev as u8), COLORS[sev]))
        .collect();
    let (key, key_height) = legend(bars_height, &entries);
    let mut o = open(bars_height + key_height, "Findings per host, by severity");
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
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{}" fill="{}"><title>{}: {}</title></rect>"#,
                    ROW - 6,
                    COLORS[sev],
                    esc(&severity_label(sev as u8)),
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
    o.push_str(&key);
    o.push_str("</svg>");
    o
}

/// The legend below bars ending at `y`: one swatch and its (escaped) name per entry, left
/// to right, on as many lines as the width needs; and its height.
fn legend(y: u64, entries: &[(String, &str)]) -> (String, u64) {
    let mut o = format!(r#"<g class="legend" transform="translate(0,{})">"#, y + 4);
    let (mut x, mut line) = (0, 0);
    for (name, color) in entries {
        // At most 5.5 px a character at 11 px (sans-serif: about 5 measured), and a gap.
        let width = 16 + (name.chars().count() as u64 * 11).div_ceil(2) + 10;
        if x > 0 && x + width > WIDTH {
            x = 0;
            line += 1;
        }
        let top = line * LEGEND_LINE;
        let _ = write!(
            o,
            r##"<rect x="{x}" y="{top}" width="12" height="12" fill="{}" stroke="#616161" stroke-width="0.5"/><text x="{}" y="{}" font-size="11">{}</text>"##,
            esc(color),
            x + 16,
            top + 11,
            esc(name)
        );
        x += width;
    }
    o.push_str("</g>");
    (o, (line + 1) * LEGEND_LINE + 6)
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
            svg.contains(r##"width="520" height="16" fill="#6d0000""##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"width="260" height="16" fill="#f4511e""##),
            "{svg}"
        );
        assert!(svg.contains(">severity 5 (urgent)</text>"), "{svg}");
        assert!(!svg.contains("unknown"));
    }

    #[test]
    fn labelled_bars_scale_and_escape() {
        let svg = bar_chart("a<b", &[("new", 3, "#d32f2f"), ("fixed <x>", 0, "#4caf50")]);
        assert!(svg.contains(r#"aria-label="a&lt;b""#), "{svg}");
        assert!(
            svg.contains(r##"width="520" height="16" fill="#d32f2f""##),
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
        let legend = &svg[svg.find(r#"<g class="legend""#).expect("a legend")..];
        assert_eq!(
            svg.matches("<rect").count(),
            2 + 5,
            "two bars, five swatches"
        );
        assert_eq!(legend.matches("<rect").count(), 5);
        assert!(legend.find("severity 5 (urgent)") < legend.find("severity 1 (minimal)"));
        assert!(
            svg.contains("<title>severity 5 (urgent): 1</title>"),
            "{svg}"
        );
    }

    #[test]
    fn every_chart_has_a_legend_and_palettes_share_no_colour() {
        let hosts = [HostCount {
            ip: "10.0.0.1".into(),
            counts: [1, 0, 0, 0, 0, 2],
        }];
        for svg in [
            severity_chart(&[1, 0, 0, 0, 0, 2]),
            host_chart(&hosts, 5),
            bar_chart("c", &[("scanned", 1, COVERAGE_COLORS[0])]),
        ] {
            assert_eq!(svg.matches(r#"<g class="legend""#).count(), 1, "{svg}");
        }
        assert!(host_chart(&hosts, 5).contains(">severity unknown</text>"));
        let mut all: Vec<&str> = COLORS
            .iter()
            .chain(&COVERAGE_COLORS)
            .chain(&DELTA_COLORS)
            .copied()
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a colour in two palettes");
    }
}
