//! `summary.html`: the same content as `summary.md`, in the same order (what to do first at
//! the top, the scan's details last), as one self-contained page: inline CSS and SVG
//! charts — coverage, severities, hosts, the baseline delta — each with a legend, no
//! script, no external asset. The page uses the window's whole width (long DNS names fit
//! at 1280 px). All text is escaped and shows control and invisible characters
//! ([`esc`]).
//!
//! Landmarks a reader (or a test) can find: `#todo` (what to do first), `#coverage`,
//! `#findings`, `#hosts`, `#delta`, `#worst`, `#details` (job, scan and target).

use super::delta::Change;
use super::summary::{Summary, SEVERITY_NAMES};
use super::summary_md::{target_facts, threshold_line};
use super::svg;
use std::fmt::Write as _;

/// How many hosts the per-host chart shows (the most affected first).
pub const CHART_HOSTS: usize = 25;

/// The page's style sheet: full width, tables that keep addresses and names on one line.
const STYLE: &str = "body{font-family:sans-serif;margin:1em 2em;line-height:1.35}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
.n{text-align:right}.nw{white-space:nowrap}\
#todo{border-left:6px solid #455a64;background:#eceff1;padding:.3em 1em .6em}\
#todo h2{margin-top:.4em}#details{color:#424242}";

/// Renders `s` as an HTML page.
pub fn render(s: &Summary) -> String {
    let org = esc(&s.organization);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>Vulnerability baseline: {org}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>Vulnerability baseline: {org}</h1>\n"
    );
    o.push_str("<section id=\"todo\">\n<h2>What to do first</h2>\n<ol>\n");
    for g in &s.guidance {
        let _ = writeln!(o, "<li>{}</li>", esc(g));
    }
    o.push_str("</ol>\n</section>\n");
    coverage(&mut o, s);

    if let Some(why) = &s.unknown_why {
        let _ = writeln!(
            o,
            "<section id=\"findings\">\n<h2>Findings</h2>\n<p>The findings are unknown: {}. No alert can be raised for this job.</p>\n</section>",
            esc(why)
        );
    } else {
        o.push_str(
            "<section id=\"findings\">\n<h2>Findings by severity</h2>\n<table>\n<tr><th>Severity</th><th>Confirmed</th><th>Potential</th><th>Total</th></tr>\n",
        );
        let row = |o: &mut String, label: &str, sev: usize| {
            let _ = writeln!(
                o,
                "<tr><td>{label}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                s.confirmed[sev], s.potential[sev], s.per_severity[sev]
            );
        };
        for sev in (1..=5).rev() {
            row(&mut o, &format!("{sev} ({})", SEVERITY_NAMES[sev]), sev);
        }
        if s.per_severity[0] > 0 {
            row(&mut o, "severity unknown", 0);
        }
        let _ = writeln!(
            o,
            "<tr><th>total</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>\n</table>",
            s.confirmed.iter().sum::<u64>(),
            s.potential.iter().sum::<u64>(),
            s.total
        );
        let _ = writeln!(o, "<p>{}</p>", svg::severity_chart(&s.per_severity));
        if s.information > 0 {
            let _ = writeln!(
                o,
                "<p>Information gathered (not vulnerabilities, in information.csv): {}</p>",
                s.information
            );
        }
        let _ = writeln!(o, "<p>{}</p>\n</section>", esc(&threshold_line(s)));
    }
    if !s.hosts.is_empty() {
        let _ = writeln!(
            o,
            "<section id=\"hosts\">\n<h2>Findings per host</h2>\n<p>{}</p>",
            svg::host_chart(&s.hosts, CHART_HOSTS)
        );
        if s.hosts.len() > CHART_HOSTS {
            let _ = writeln!(
                o,
                "<p>…and {} more hosts (see findings.csv).</p>",
                s.hosts.len() - CHART_HOSTS
            );
        }
        o.push_str("</section>\n");
    }

    if let Some(d) = &s.delta {
        let _ = writeln!(
            o,
            "<section id=\"delta\">\n<h2>Since the baseline (job {})</h2>\n<ul><li>New: {}</li><li>Fixed: {}</li><li>Unchanged: {}</li></ul>",
            esc(&d.baseline_id), d.new_count, d.fixed_count, d.unchanged_count
        );
        let _ = writeln!(
            o,
            "<p>{}</p>",
            svg::bar_chart(
                "Since the baseline",
                &[
                    ("new", d.new_count, svg::DELTA_COLORS[0]),
                    ("fixed", d.fixed_count, svg::DELTA_COLORS[1]),
                    ("unchanged", d.unchanged_count, svg::DELTA_COLORS[2]),
                ],
            )
        );
        changes(&mut o, "New findings", &d.new, d.new_count);
        changes(&mut o, "Fixed findings", &d.fixed, d.fixed_count);
        o.push_str("</section>\n");
    }

    if !s.worst.is_empty() {
        let _ = writeln!(o, "<section id=\"worst\">\n<h2>The {} worst findings</h2>\n<table>\n<tr><th>Severity</th><th>IP</th><th>DNS</th><th>QID</th><th>Title</th><th>Port</th></tr>", s.worst.len());
        for w in &s.worst {
            let _ = writeln!(
                o,
                "<tr><td class=\"n\">{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"nw\">{}</td></tr>",
                w.severity_text(), esc(&w.ip), esc(&w.dns), w.qid, esc(&w.title_text()), esc(&w.port)
            );
        }
        o.push_str("</table>\n</section>\n");
    }

    o.push_str("<section id=\"details\">\n<h2>Scan details</h2>\n<ul>\n");
    item(&mut o, "Job", &s.job_id);
    item(&mut o, "Scan", s.scan_ref.as_deref().unwrap_or("unknown"));
    if let Some(t) = &s.scan_title {
        item(&mut o, "Scan title", t);
    }
    if let Some(d) = &s.launch_date {
        item(&mut o, "Launched", d);
    }
    item(
        &mut o,
        "Duration",
        s.duration.as_deref().unwrap_or("unknown"),
    );
    item(
        &mut o,
        "Findings from",
        s.source.as_deref().unwrap_or("unknown"),
    );
    for (label, value) in target_facts(s) {
        item(&mut o, label, &value);
    }
    o.push_str("</ul>\n</section>\n</body>\n</html>\n");
    o
}

/// The coverage section: the line, a chart, the addresses not covered and what the
/// target says about them.
fn coverage(o: &mut String, s: &Summary) {
    use super::coverage::Status;
    let c = &s.coverage;
    let _ = writeln!(
        o,
        "<section id=\"coverage\">\n<h2>Coverage</h2>\n<p id=\"coverage-line\"><b>{}</b></p>",
        esc(&c.line())
    );
    let k = svg::COVERAGE_COLORS;
    let mut bars = vec![
        ("scanned", c.count(Status::Scanned), k[0]),
        ("no response", c.count(Status::NoResponse), k[1]),
        ("excluded", c.count(Status::Excluded), k[2]),
        ("not scanned", c.count(Status::NotScanned), k[3]),
    ];
    let unknown = c.count(Status::Unknown);
    if unknown > 0 {
        bars.push(("unknown", unknown, k[4]));
    }
    let _ = writeln!(
        o,
        "<p>{}</p>",
        svg::bar_chart("Coverage of the requested addresses", &bars)
    );
    let missing = c.not_covered();
    if !missing.is_empty() {
        o.push_str("<p>Not covered:</p>\n<ul>\n");
        for (status, ips, note) in &missing {
            let _ = writeln!(
                o,
                "<li><b>{}</b>: {} ({})</li>",
                status.as_str(),
                esc(ips),
                esc(note)
            );
        }
        o.push_str("</ul>\n");
    }
    for note in s.target_notes() {
        let _ = writeln!(o, "<p>{}</p>", esc(&note));
    }
    o.push_str("</section>\n");
}

/// A `<li><b>label</b>: value</li>` line.
fn item(o: &mut String, label: &str, value: &str) {
    let _ = writeln!(o, "<li><b>{}</b>: {}</li>", esc(label), esc(value));
}

/// A table of named changes.
fn changes(o: &mut String, title: &str, list: &[Change], count: u64) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h3>{title}</h3>\n<table>\n<tr><th>Severity</th><th>IP</th><th>QID</th><th>Port</th><th>Title</th></tr>");
    for c in list {
        let port = c.port.map(|p| p.to_string()).unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{port}</td><td>{}</td></tr>",
            c.severity, esc(&c.ip), c.qid, esc(&c.title)
        );
    }
    o.push_str("</table>\n");
    if (list.len() as u64) < count {
        let _ = writeln!(
            o,
            "<p>…and {} more (see findings.csv).</p>",
            count - list.len() as u64
        );
    }
}

/// Escapes text for HTML content and attribute values, after showing its control and
/// invisible characters ([`super::cell::line`]).
pub fn esc(s: &str) -> String {
    let s = super::cell::line(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::{findings, record, summary};

    #[test]
    fn page_is_self_contained_escaped_and_has_charts() {
        let rec = record(
            "20240301-000000-000011",
            "Acme <script>alert(1)</script> & Co",
            &["10.0.0.1-10.0.0.2"],
        );
        let f = findings(
            "10.0.0.1-10.0.0.2",
            &[("10.0.0.1", 7, 4), ("10.0.0.2", 8, 3)],
        );
        let html = render(&summary(&rec, Some(&f)));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.ends_with("</html>\n"));
        assert!(html.contains("<title>Vulnerability baseline: Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</title>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("src="));
        assert!(!html.contains("href="));
        assert_eq!(html.matches("<svg ").count(), 3);
        assert_eq!(
            html.matches("<g class=\"legend\"").count(),
            3,
            "a legend per chart"
        );
        assert!(!html.contains("max-width"), "full width");
        let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("<section id=\"todo\">") < at("<section id=\"coverage\">"));
        assert!(at("<section id=\"worst\">") < at("<section id=\"details\">"));
        assert!(
            html.contains("<li><b>In the scan target</b>: 2 addresses (10.0.0.1-10.0.0.2)</li>")
        );
        assert!(
            html.contains("<li>Fix the 1 critical (severity 4) finding within 30 days</li>")
                || html.contains("<li>Fix the 1 critical (severity 4) finding within 30 days"),
            "{html}"
        );
        assert!(html.contains("<p id=\"coverage-line\"><b>2 requested · 2 scanned · 0 no response · 0 excluded · 0 not scanned</b></p>"), "{html}");
        assert!(html.find("coverage-line") < html.find("<h2>Scan details</h2>"));
        assert_eq!(
            html.matches("<svg ").count(),
            html.matches("</svg>").count()
        );
        assert_eq!(
            html.matches("<table>").count(),
            html.matches("</table>").count()
        );
        assert!(html.contains("<td class=\"nw\">10.0.0.1</td>"));
    }
}
