//! The webhook's message, in the shape `[alerts].webhook_format` names, rendered from the
//! [`Summary`] (a pure function: a repeat renders the same bytes).
//!
//! - `json`: baseliner's own object — `job_id`, `organization`, `ips`, `scan_ref`,
//!   `reason`, the paths of `summary.md` and `findings.csv` (as before), plus `coverage`,
//!   `counts` (by severity), `worst` (five) and `summary_html`.
//! - `slack`: a Slack incoming-webhook message: `text` (the notification fallback) and
//!   `blocks` (Block Kit: a `header` of plain text at most 150 characters, `section`s of
//!   `mrkdwn` text at most 3000 characters, `fields` at most 10, a `context`). Text from
//!   Qualys or the job is escaped (`&`, `<`, `>`), so it cannot mention `<!channel>` or
//!   make links.
//! - `teams`: a Microsoft Teams Workflows webhook message: `type: message` with one
//!   attachment of `contentType: application/vnd.microsoft.card.adaptive` whose `content`
//!   is an Adaptive Card 1.4 (`TextBlock`s and `FactSet`s, plain text only).
//!
//! Every format carries the organization, the coverage line, the counts by severity, the
//! worst five findings and the path of `summary.html`.

use super::summary::{Summary, Worst};
use super::summary_md::SEVERITY_NAMES;
use baseliner_core::config::WebhookFormat;
use serde_json::{json, Value};
use std::path::Path;

/// How many findings a message names.
pub const WORST_IN_MESSAGE: usize = 5;

/// The message for `s` in `format`; `reason` says why the alert is due; `html` is the
/// path of `summary.html`.
pub fn payload(format: WebhookFormat, s: &Summary, reason: &str, html: &Path) -> Value {
    match format {
        WebhookFormat::Json => plain(s, reason, html),
        WebhookFormat::Slack => slack(s, reason, html),
        WebhookFormat::Teams => teams(s, reason, html),
    }
}

/// The worst findings named in a message.
fn worst(s: &Summary) -> &[Worst] {
    &s.worst[..s.worst.len().min(WORST_IN_MESSAGE)]
}

/// "severity 5: 1 · severity 4: 2 …" for the severities that have findings.
fn counts_line(s: &Summary) -> String {
    let mut parts: Vec<String> = (1..=5)
        .rev()
        .map(|sev| format!("{}: {}", label(sev as u8), s.per_severity[sev]))
        .collect();
    if s.per_severity[0] > 0 {
        parts.push(format!("unknown: {}", s.per_severity[0]));
    }
    parts.join(" · ")
}

/// "severity 5 (urgent)".
fn label(sev: u8) -> String {
    format!(
        "severity {sev} ({})",
        SEVERITY_NAMES[usize::from(sev.min(5))]
    )
}

/// One finding on one line (not escaped).
fn finding_line(w: &Worst) -> String {
    let sev = if w.severity == 0 {
        "?".to_owned()
    } else {
        w.severity.to_string()
    };
    let port = if w.port.is_empty() {
        String::new()
    } else {
        format!(" {}", w.port)
    };
    let potential = if w.potential { " (potential)" } else { "" };
    format!(
        "[{sev}] {}{port} QID {}: {}{potential}",
        w.ip, w.qid, w.title
    )
}

fn plain(s: &Summary, reason: &str, html: &Path) -> Value {
    let dir = html.parent().unwrap_or(Path::new(""));
    json!({
        "job_id": s.job_id,
        "organization": s.organization,
        "ips": s.requested.to_qualys(),
        "scan_ref": s.scan_ref,
        "reason": reason,
        "summary": dir.join("summary.md"),
        "findings": dir.join("findings.csv"),
        "summary_html": html,
        "coverage": s.coverage.line(),
        "counts": {
            "5": s.per_severity[5], "4": s.per_severity[4], "3": s.per_severity[3],
            "2": s.per_severity[2], "1": s.per_severity[1], "unknown": s.per_severity[0],
        },
        "worst": worst(s).iter().map(|w| json!({
            "ip": w.ip, "qid": w.qid, "title": w.title, "severity": w.severity,
            "port": w.port, "potential": w.potential,
        })).collect::<Vec<_>>(),
    })
}

/// Escapes Slack's control characters in `mrkdwn` and `plain_text`.
fn slack_esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters of `s`, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn slack(s: &Summary, reason: &str, html: &Path) -> Value {
    let org = slack_esc(&s.organization);
    let title = cut(&format!("Vulnerability baseline: {}", s.organization), 150);
    let mut list = String::new();
    for w in worst(s) {
        list.push_str("• ");
        list.push_str(&slack_esc(&cut(&finding_line(w), 300)));
        list.push('\n');
    }
    if list.is_empty() {
        list.push_str("No findings.");
    }
    let fields: Vec<Value> = (1..=5)
        .rev()
        .map(|sev| {
            json!({ "type": "mrkdwn", "text": format!("*{}*\n{}", label(sev as u8), s.per_severity[sev]) })
        })
        .collect();
    let text = cut(
        &format!(
            "{org}: {} — {} — {}",
            slack_esc(reason),
            slack_esc(&s.coverage.line()),
            counts_line(s)
        ),
        3000,
    );
    json!({
        "text": text,
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": title } },
            { "type": "section", "text": { "type": "mrkdwn", "text": cut(&format!(
                "*{}*\n*Coverage:* {}\n*Job:* `{}`",
                slack_esc(reason), slack_esc(&s.coverage.line()), slack_esc(&s.job_id)
            ), 3000) } },
            { "type": "section", "fields": fields },
            { "type": "section", "text": { "type": "mrkdwn", "text": cut(&format!("*Worst findings*\n{list}"), 3000) } },
            { "type": "context", "elements": [
                { "type": "mrkdwn", "text": cut(&format!("Summary: {}", slack_esc(&html.display().to_string())), 3000) }
            ] },
        ],
    })
}

fn teams(s: &Summary, reason: &str, html: &Path) -> Value {
    let text_block = |text: String, weight: Option<&str>| {
        let mut b = json!({ "type": "TextBlock", "text": text, "wrap": true });
        if let Some(w) = weight {
            b["weight"] = json!(w);
            b["size"] = json!("Medium");
        }
        b
    };
    let counts: Vec<Value> = (1..=5)
        .rev()
        .map(|sev| json!({ "title": label(sev as u8), "value": s.per_severity[sev].to_string() }))
        .chain((s.per_severity[0] > 0).then(
            || json!({ "title": "severity unknown", "value": s.per_severity[0].to_string() }),
        ))
        .collect();
    let worst: Vec<Value> = worst(s)
        .iter()
        .map(|w| json!({ "title": format!("{} {}", w.ip, w.port).trim().to_owned(), "value": finding_line(w) }))
        .collect();
    let mut body = vec![
        text_block(
            format!("Vulnerability baseline: {}", s.organization),
            Some("Bolder"),
        ),
        text_block(reason.to_owned(), None),
        json!({ "type": "FactSet", "facts": [
            { "title": "Organization", "value": s.organization },
            { "title": "Job", "value": s.job_id },
            { "title": "Coverage", "value": s.coverage.line() },
        ] }),
        text_block("Findings by severity".to_owned(), Some("Bolder")),
        json!({ "type": "FactSet", "facts": counts }),
    ];
    if !worst.is_empty() {
        body.push(text_block("Worst findings".to_owned(), Some("Bolder")));
        body.push(json!({ "type": "FactSet", "facts": worst }));
    }
    body.push(text_block(format!("Summary: {}", html.display()), None));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::{findings, record, summary};

    fn sample() -> Summary {
        let rec = record(
            "20240301-000000-000021",
            "Acme <!channel> & Co",
            &["10.0.0.1-10.0.0.3"],
        );
        let rows: Vec<(&str, u32, u8)> = (1..=7)
            .map(|q| ("10.0.0.1", q, (q % 5 + 1) as u8))
            .collect();
        let f = findings("10.0.0.1", &rows);
        summary(&rec, Some(&f))
    }

    #[test]
    fn slack_has_text_and_blocks_within_limits_and_escaped() {
        let s = sample();
        let v = payload(
            WebhookFormat::Slack,
            &s,
            "2 finding(s) <b>",
            Path::new("/s/j/summary.html"),
        );
        let text = v["text"].as_str().expect("text is a string");
        assert!(text.contains("Acme &lt;!channel&gt; &amp; Co"), "{text}");
        assert!(!text.contains("<!channel>"));
        let blocks = v["blocks"].as_array().expect("blocks array");
        assert!(blocks.len() <= 50);
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .expect("str")
                .chars()
                .count()
                <= 150
        );
        for b in blocks {
            let t = b["type"].as_str().expect("type");
            assert!(["header", "section", "context"].contains(&t), "{t}");
            if let Some(f) = b.get("fields") {
                assert!(f.as_array().expect("fields").len() <= 10);
            }
        }
        let all = v.to_string();
        assert!(all.contains("3 requested · 1 scanned"), "{all}");
        assert!(all.contains("/s/j/summary.html"));
        let worst = blocks[3]["text"]["text"].as_str().expect("worst");
        assert_eq!(worst.matches("• ").count(), 5, "{worst}");
    }

    #[test]
    fn teams_is_an_adaptive_card_message() {
        let s = sample();
        let v = payload(
            WebhookFormat::Teams,
            &s,
            "why",
            Path::new("/s/j/summary.html"),
        );
        assert_eq!(v["type"], "message");
        let a = &v["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
        assert_eq!(a["content"]["version"], "1.4");
        let body = a["content"]["body"].as_array().expect("body");
        assert_eq!(body[0]["type"], "TextBlock");
        assert_eq!(
            body[0]["text"],
            "Vulnerability baseline: Acme <!channel> & Co"
        );
        let facts: Vec<&Value> = body
            .iter()
            .filter(|b| b["type"] == "FactSet")
            .flat_map(|b| b["facts"].as_array().expect("facts"))
            .collect();
        assert!(facts
            .iter()
            .all(|f| f["title"].is_string() && f["value"].is_string()));
        assert!(facts.iter().any(|f| f["title"] == "Coverage"
            && f["value"]
                == "3 requested · 1 scanned · 0 no response · 0 excluded · 2 not scanned"));
        assert_eq!(
            facts
                .iter()
                .filter(|f| f["value"].as_str().is_some_and(|v| v.contains("QID")))
                .count(),
            5
        );
    }

    #[test]
    fn json_keeps_the_old_fields() {
        let s = sample();
        let v = payload(
            WebhookFormat::Json,
            &s,
            "why",
            Path::new("/s/j/summary.html"),
        );
        assert_eq!(v["job_id"], "20240301-000000-000021");
        assert_eq!(v["summary"], "/s/j/summary.md");
        assert_eq!(v["findings"], "/s/j/findings.csv");
        assert_eq!(v["reason"], "why");
        assert_eq!(v["worst"].as_array().expect("worst").len(), 5);
        assert_eq!(v["counts"]["5"], 1);
    }
}
