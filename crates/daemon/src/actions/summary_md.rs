//! `summary.md`: the job's summary in Markdown, in the order a reader acts on it: what to
//! do first, the coverage, the findings, the baseline delta, the worst findings, and the
//! scan's details last. Severity levels have one name each ([`SEVERITY_NAMES`]), and
//! "scanned" always means the coverage's scanned addresses (the scan's target is "in the
//! scan target"). Pure function of the [`Summary`], so a repeat produces the same bytes.

use super::delta::Change;
use super::summary::Summary;
pub use super::summary::SEVERITY_NAMES;
use std::fmt::Write as _;

/// Renders `s` as Markdown.
pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Vulnerability baseline: {}\n", esc(&s.organization));
    o.push_str("## What to do first\n\n");
    for g in &s.guidance {
        let _ = writeln!(o, "- {}", esc(g));
    }
    o.push('\n');
    let _ = writeln!(o, "**Coverage:** {}\n", s.coverage.line());
    let missing = s.coverage.not_covered();
    if !missing.is_empty() {
        o.push_str("Not covered:\n\n");
        for (status, ips, note) in &missing {
            let _ = writeln!(o, "- {}: {} ({})", status.as_str(), ips, esc(note));
        }
        o.push('\n');
    }
    for note in s.target_notes() {
        let _ = writeln!(o, "{}\n", esc(&note));
    }

    if let Some(why) = &s.unknown_why {
        let _ = writeln!(
            o,
            "## Findings\n\nThe findings are unknown: {}. No alert can be raised for this job.\n",
            esc(why)
        );
    } else {
        o.push_str("## Findings by severity\n\n| Severity | Confirmed | Potential | Total |\n|---|---:|---:|---:|\n");
        for sev in (1..=5).rev() {
            let _ = writeln!(
                o,
                "| {sev} ({}) | {} | {} | {} |",
                SEVERITY_NAMES[sev], s.confirmed[sev], s.potential[sev], s.per_severity[sev]
            );
        }
        if s.per_severity[0] > 0 {
            let _ = writeln!(
                o,
                "| severity unknown | {} | {} | {} |",
                s.confirmed[0], s.potential[0], s.per_severity[0]
            );
        }
        let _ = writeln!(
            o,
            "| **total** | **{}** | **{}** | **{}** |\n",
            s.confirmed.iter().sum::<u64>(),
            s.potential.iter().sum::<u64>(),
            s.total
        );
        if s.information > 0 {
            let _ = writeln!(
                o,
                "Information gathered (not vulnerabilities, in information.csv): {}\n",
                s.information
            );
        }
        let _ = writeln!(o, "{}\n", esc(&threshold_line(s)));
    }

    if let Some(d) = &s.delta {
        let _ = writeln!(o, "## Since the baseline (job `{}`)\n", d.baseline_id);
        let _ = writeln!(
            o,
            "- New: {}\n- Fixed: {}\n- Unchanged: {}\n",
            d.new_count, d.fixed_count, d.unchanged_count
        );
        changes(&mut o, "New findings", &d.new, d.new_count);
        changes(&mut o, "Fixed findings", &d.fixed, d.fixed_count);
    }

    if !s.worst.is_empty() {
        let _ = writeln!(o, "## The {} worst findings\n", s.worst.len());
        o.push_str("| Severity | IP | DNS | QID | Title | Port |\n|---:|---|---|---:|---|---|\n");
        for w in &s.worst {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                w.severity_text(),
                esc(&w.ip),
                esc(&w.dns),
                w.qid,
                esc(&w.title_text()),
                esc(&w.port)
            );
        }
        o.push('\n');
    }

    o.push_str("## Scan details\n\n");
    let _ = writeln!(o, "- Job: `{}`", s.job_id);
    let _ = writeln!(o, "- Scan: {}", opt(&s.scan_ref));
    if let Some(t) = &s.scan_title {
        let _ = writeln!(o, "- Scan title: {}", esc(t));
    }
    if let Some(d) = &s.launch_date {
        let _ = writeln!(o, "- Launched: {}", esc(d));
    }
    let _ = writeln!(o, "- Duration: {}", opt(&s.duration));
    let _ = writeln!(o, "- Findings from: {}", opt(&s.source));
    for (label, value) in target_facts(s) {
        let _ = writeln!(o, "- {label}: {}", esc(&value));
    }
    o
}

/// The target's facts as (label, value): requested, in the scan target, alive. Shared by
/// both summaries, so they say the same words.
pub fn target_facts(s: &Summary) -> Vec<(&'static str, String)> {
    let target = match (&s.scanned, &s.scanned_text) {
        (Some(sc), _) => format!("{} addresses ({})", sc.len(), sc.to_qualys()),
        (None, Some(t)) => t.clone(),
        (None, None) => "not stated in the results".to_owned(),
    };
    vec![
        (
            "Requested",
            format!(
                "{} addresses ({})",
                s.requested.len(),
                s.requested.to_qualys()
            ),
        ),
        ("In the scan target", target),
        ("Alive (answered Qualys)", format!("{} hosts", s.alive)),
    ]
}

/// "Findings at or above the alert threshold …: N", with the findings of unknown severity
/// named apart (they were not checked).
pub fn threshold_line(s: &Summary) -> String {
    let mut t = format!(
        "Findings at or above the alert threshold (severity {}){}: {}",
        s.min_severity,
        if s.delta.is_some() {
            ", new since the baseline"
        } else {
            ""
        },
        s.alerting
    );
    let unknown = s.unknown_severity();
    if unknown > 0 {
        t.push_str(&format!(
            "; {unknown} more of unknown severity could not be checked"
        ));
    }
    t
}

/// A table of named changes, with a note when only some are listed.
fn changes(o: &mut String, title: &str, list: &[Change], count: u64) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "### {title}\n\n| Severity | IP | QID | Port | Title |\n|---:|---|---:|---|---|"
    );
    for c in list {
        let port = c.port.map(|p| p.to_string()).unwrap_or_default();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            c.severity,
            esc(&c.ip),
            c.qid,
            port,
            esc(&c.title)
        );
    }
    if (list.len() as u64) < count {
        let _ = writeln!(
            o,
            "\n…and {} more (see findings.csv).",
            count - list.len() as u64
        );
    }
    o.push('\n');
}

/// `Some` text escaped, or "unknown".
fn opt(v: &Option<String>) -> String {
    v.as_deref().map_or_else(|| "unknown".to_owned(), esc)
}

/// Escapes Markdown and inline HTML specials, folds line breaks and shows control and
/// invisible characters ([`super::cell::line`]), so that text from Qualys or the job cannot
/// change the document's structure or hide in it.
pub fn esc(s: &str) -> String {
    let s = super::cell::line(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' => out.push(' '),
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
    fn states_counts_dropped_addresses_and_worst_findings() {
        let rec = record(
            "20240301-000000-000009",
            "Acme <Labs>",
            &["10.0.0.1-10.0.0.4"],
        );
        let f = findings(
            "10.0.0.1,10.0.0.2",
            &[
                ("10.0.0.1", 11, 5),
                ("10.0.0.2", 12, 2),
                ("10.0.0.2", 13, 2),
            ],
        );
        let md = render(&summary(&rec, Some(&f)));
        assert!(md.contains("- Scan: scan/1.2\n"));
        assert!(md.contains("- Duration: 00:05:00\n"));
        assert!(md.contains("- Requested: 4 addresses (10.0.0.1-10.0.0.4)\n"));
        assert!(md.contains("- In the scan target: 2 addresses (10.0.0.1-10.0.0.2)\n"));
        assert!(md.contains("- Alive (answered Qualys): 2 hosts\n"));
        assert!(!md.contains("Scanned:"), "one meaning of scanned: {md}");
        assert!(
            md.contains("Qualys did not scan 2 of the 4 requested addresses: 10.0.0.3-10.0.0.4."),
            "{md}"
        );
        assert!(md.contains("| 5 (urgent) | 1 | 0 | 1 |\n"), "{md}");
        assert!(md.contains("| 2 (medium) | 2 | 0 | 2 |\n"));
        assert!(md.contains("| **total** | **3** | **0** | **3** |"));
        assert!(
            md.starts_with(
                "# Vulnerability baseline: Acme &lt;Labs&gt;\n\n## What to do first\n\n- "
            ),
            "{md}"
        );
        assert!(
            md.contains("\n\n**Coverage:** 4 requested · 2 scanned · 0 no response · 0 excluded · 2 not scanned\n\nNot covered:\n\n- not_scanned: 10.0.0.3-10.0.0.4 ("),
            "{md}"
        );
        let at = |needle: &str| md.find(needle).unwrap_or_else(|| panic!("{needle}: {md}"));
        assert!(at("## What to do first") < at("**Coverage:**"));
        assert!(at("**Coverage:**") < at("## Findings by severity"));
        assert!(at("## The 3 worst findings") < at("## Scan details"));
        assert!(at("## Scan details") < at("- Job: `"));
        assert!(
            md.contains("- Review the 2 medium (severity 2) findings at the next maintenance.\n"),
            "{md}"
        );
        assert!(!md.contains("minor"), "{md}");
        assert!(md.contains("## The 3 worst findings"));
        let first_row = md
            .find("| 5 | 10.0.0.1 |  | 11 | Title 11 | 443/tcp |")
            .expect("worst row");
        assert!(first_row < md.find("| 2 | 10.0.0.2 |  | 12 |").expect("second row"));
        assert!(md.contains("Patch or isolate the 1 urgent"));
    }

    #[test]
    fn clean_baseline_says_so() {
        let rec = record("20240301-000000-000010", "Acme", &["10.0.0.1"]);
        let f = findings("10.0.0.1", &[("10.0.0.1", 1, 1)]);
        let md = render(&summary(&rec, Some(&f)));
        assert!(md.contains("Baseline clean"), "{md}");
        assert!(!md.contains("did not scan"));
    }

    #[test]
    fn escapes_structure_characters() {
        assert_eq!(esc("a|b\n*c* <x>"), "a\\|b \\*c\\* &lt;x&gt;");
        assert_eq!(esc("x\u{202e}y\u{1b}[2J"), "x\u{FFFD}y\u{FFFD}\\[2J");
    }
}
