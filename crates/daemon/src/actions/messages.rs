//! The webhook's message, in the shape `[alerts].webhook_format` names, rendered from the
//! [`Summary`] (a pure function: a repeat renders the same bytes).
//!
//! - `json`: baseliner's own object — `job_id`, `organization`, `ips`, `scan_ref`,
//!   `reason`, the paths of `summary.md` and `findings.csv` (as before), plus `coverage`,
//!   `counts` (by severity), `worst` (five) and `summary_html`.
//! - `slack`: a Slack incoming-webhook message: `text` (the notification fallback) and
//!   `blocks` (Block Kit: a `header` of plain text at most 150 characters, `section`s of
//!   `mrkdwn` text at most 3000 characters, `fields` at most 10, a `context`), every
//!   `mrkdwn` object `verbatim` (no automatic links). Text from Qualys or the job is
//!   escaped for mrkdwn ([`super::chat_text::slack`]), so it cannot mention `<!channel>`,
//!   make links or format.
//! - `teams`: a Microsoft Teams Workflows webhook message: `type: message` with one
//!   attachment of `contentType: application/vnd.microsoft.card.adaptive` whose `content`
//!   is an Adaptive Card 1.4 (`TextBlock`s and `FactSet`s); every text is escaped for the
//!   card's Markdown ([`super::chat_text::teams`]), so it shows as written.
//!
//! Every format carries the organization, the coverage line, the counts by severity (named
//! as in the summaries, [`super::summary::severity_label`]), the worst five findings and the
//! path of `summary.html`. Titles are plain text already (KnowledgeBase HTML is converted
//! when the findings are read, [`super::kb_text`]); no control, bidirectional or invisible
//! character reaches a message ([`super::cell`]).

use super::cell;
use super::chat_text;
use super::summary::{severity_label, Summary, Worst};
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
        parts.push(format!("{}: {}", label(0), s.per_severity[0]));
    }
    parts.join(" · ")
}

/// "severity 5 (urgent)", "severity unknown".
fn label(sev: u8) -> String {
    severity_label(sev)
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
            "ip": cell::line(&w.ip), "qid": w.qid, "title": cell::line(&w.title),
            "severity": w.severity, "port": cell::line(&w.port), "potential": w.potential,
        })).collect::<Vec<_>>(),
    })
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
    let slack_esc = chat_text::slack;
    let mrkdwn = |text: String| json!({ "type": "mrkdwn", "text": text, "verbatim": true });
    let org = slack_esc(&s.organization);
    let title = chat_text::slack_plain(&cut(
        &format!("Vulnerability baseline: {}", s.organization),
        150,
    ));
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
            mrkdwn(format!(
                "*{}*\n{}",
                slack_esc(&label(sev as u8)),
                s.per_severity[sev]
            ))
        })
        .collect();
    let text = cut(
        &format!(
            "{org}: {} — {} — {}",
            slack_esc(reason),
            slack_esc(&s.coverage.line()),
            slack_esc(&counts_line(s))
        ),
        3000,
    );
    json!({
        "text": text,
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": title } },
            { "type": "section", "text": mrkdwn(cut(&format!(
                "*{}*\n*Coverage:* {}\n*Job:* `{}`",
                slack_esc(reason), slack_esc(&s.coverage.line()), slack_esc(&s.job_id)
            ), 3000)) },
            { "type": "section", "fields": fields },
            { "type": "section", "text": mrkdwn(cut(&format!("*Worst findings*\n{list}"), 3000)) },
            { "type": "context", "elements": [
                mrkdwn(cut(&format!("Summary: {}", slack_esc(&html.display().to_string())), 3000))
            ] },
        ],
    })
}

fn teams(s: &Summary, reason: &str, html: &Path) -> Value {
    let md = chat_text::teams;
    let fact = |title: &str, value: &str| json!({ "title": md(title), "value": md(value) });
    let text_block = |text: String, weight: Option<&str>| {
        let mut b = json!({ "type": "TextBlock", "text": md(&text), "wrap": true });
        if let Some(w) = weight {
            b["weight"] = json!(w);
            b["size"] = json!("Medium");
        }
        b
    };
    let counts: Vec<Value> = (1..=5)
        .rev()
        .chain((s.per_severity[0] > 0).then_some(0))
        .map(|sev| fact(&label(sev as u8), &s.per_severity[sev].to_string()))
        .collect();
    let worst: Vec<Value> = worst(s)
        .iter()
        .map(|w| fact(format!("{} {}", w.ip, w.port).trim(), &finding_line(w)))
        .collect();
    let mut body = vec![
        text_block(
            format!("Vulnerability baseline: {}", s.organization),
            Some("Bolder"),
        ),
        text_block(reason.to_owned(), None),
        json!({ "type": "FactSet", "facts": [
            fact("Organization", &s.organization),
            fact("Job", &s.job_id),
            fact("Coverage", &s.coverage.line()),
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
            "Vulnerability baseline: Acme \\<\\!channel\\> \\& Co"
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

    /// A summary whose organization and worst finding's title carry markdown.
    fn hostile() -> Summary {
        let rec = record(
            "20240301-000000-000022",
            "**Acme** _Ops_ ~~Co~~ `x` #1 <!here>",
            &["10.0.0.1"],
        );
        let json = r#"[{},{"ips":"10.0.0.1"},
            {"ip":"10.0.0.1","qid":"7","severity":"5","type":"Vuln","port":"80","protocol":"tcp",
             "title":"[Click here](https://evil.example/x) *now* <https://evil.example|ok> \u202eevil"}]"#;
        let mut f = crate::actions::findings::read_results_from(json.as_bytes()).expect("parses");
        f.sort();
        summary(&rec, Some(&f))
    }

    /// Every string of a JSON value, depth first.
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    #[test]
    fn teams_text_is_markdown_escaped() {
        let v = payload(
            WebhookFormat::Teams,
            &hostile(),
            "1 finding(s) at or above severity 4",
            Path::new("/s/j/summary.html"),
        );
        let body = &v["attachments"][0]["content"]["body"];
        assert_eq!(
            body[0]["text"],
            "Vulnerability baseline: \\*\\*Acme\\*\\* \\_Ops\\_ \\~\\~Co\\~\\~ \\`x\\` \\#1 \\<\\!here\\>"
        );
        let mut all = Vec::new();
        strings(body, &mut all);
        let worst = all
            .iter()
            .find(|s| s.contains("QID 7"))
            .expect("the worst finding");
        assert_eq!(
            worst,
            "\\[5\\] 10\\.0\\.0\\.1 80/tcp QID 7: \\[Click here\\]\\(https://evil\\.example/x\\) \\*now\\* \u{FFFD}evil"
        );
        for s in &all {
            assert!(!s.contains("](") && !s.contains("**"), "{s}");
        }
    }

    #[test]
    fn slack_text_is_mrkdwn_neutralized() {
        let v = payload(
            WebhookFormat::Slack,
            &hostile(),
            "why",
            Path::new("/s/j/summary.html"),
        );
        let header = &v["blocks"][0]["text"];
        assert_eq!(header["type"], "plain_text", "not formatted by Slack");
        assert_eq!(
            header["text"],
            "Vulnerability baseline: **Acme** _Ops_ ~~Co~~ `x` #1 &lt;!here&gt;"
        );
        let mut all = Vec::new();
        strings(&v["text"], &mut all);
        for b in v["blocks"].as_array().expect("blocks").iter().skip(1) {
            strings(b, &mut all);
        }
        for s in &all {
            assert!(!s.contains("<https") && !s.contains("<!here>"), "{s}");
            assert!(
                !s.contains("**Acme**") && !s.contains("_Ops_") && !s.contains("~~Co~~"),
                "{s}"
            );
            assert!(!s.contains("*now*") && !s.contains('\u{202e}'), "{s}");
        }
        assert!(v["text"]
            .as_str()
            .expect("text")
            .starts_with("∗∗Acme∗∗ ＿Ops＿ ∼∼Co∼∼ ˋxˋ #1 &lt;!here&gt;: why"));
        let blocks = v["blocks"].as_array().expect("blocks");
        for b in blocks {
            for t in [&b["text"], &b["elements"][0]] {
                if t["type"] == "mrkdwn" {
                    assert_eq!(t["verbatim"], true, "no auto-linking: {t}");
                }
            }
        }
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
