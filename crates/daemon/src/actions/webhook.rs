//! The alert's webhook: the message rendered by the action items (`.webhook-payload.json`,
//! in `[alerts].webhook_format`) POSTed as JSON to `[alerts].webhook`, at most once per job.
//!
//! Like the alert command it is an effect nobody can look up afterwards, so it follows the
//! same rule, [`super::once`]'s: `jobs/ID/.webhook-intent` is written and fsynced before
//! the request, and `jobs/ID/webhook.json` (a [`WebhookRecord`]) records the outcome. An intent without an outcome means the POST
//! may have happened: it is recorded as unknown and never sent again. A failing webhook
//! never fails the job. It is sent by the executor (async), after the action items.

use super::alert;
use super::once::{Before, Once};
use crate::fsutil;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The intent file, written before the POST.
pub const INTENT_FILE: &str = ".webhook-intent";
/// The outcome file.
pub const RESULT_FILE: &str = "webhook.json";
/// The message to send, rendered by the action items in `[alerts].webhook_format`.
pub const PAYLOAD_FILE: &str = ".webhook-payload.json";
/// Connect and whole-request timeout of the POST.
const TIMEOUT: Duration = Duration::from_secs(15);

/// `webhook.json`: the POST's outcome. Fields in alphabetical order, the file's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRecord {
    /// When the outcome was recorded (RFC 3339).
    pub at: String,
    /// The answer's HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// `ok`, `failed: HTTP …`, `failed: …`, `unknown: interrupted by a crash`.
    pub status: String,
    /// Where it was sent: scheme, host and port only ([`shown_url`]): a webhook URL's path
    /// is often its secret (Slack, Teams), and job files are readable by the submit group.
    pub url: String,
}

/// `.webhook-intent`: the POST about to be sent.
#[derive(Debug, Serialize)]
struct WebhookIntent<'a> {
    started_at: String,
    url: &'a str,
}

/// Sends the webhook for `rec` (whose finished scan is `scan_ref`) when its alert was due
/// (`alert.json` exists) and it was not sent or attempted before ([`super::once`]). Errors
/// are recorded in `webhook.json`, not returned; only a failure to write the intent or the
/// outcome file is an error.
pub async fn send_once(
    job_dir: &Path,
    rec: &JobRecord,
    scan_ref: &str,
    url: &str,
) -> std::io::Result<()> {
    let once = Once::new(job_dir, INTENT_FILE, RESULT_FILE);
    let Some(alerted) = alert::alert_summary(job_dir) else {
        return Ok(()); // no alert was due
    };
    let id = rec.id.as_str();
    let record = |status: String, http_status: Option<u16>| WebhookRecord {
        at: Timestamp::now().to_rfc3339(),
        http_status,
        status,
        url: shown_url(url),
    };
    match once.before() {
        Before::Settled => return Ok(()),
        Before::Interrupted => {
            crate::metrics::count_alert_failure(crate::metrics::Effect::Webhook);
            tracing::warn!(job_id = id, "alert webhook unknown: interrupted by a crash");
            return once.settle(&record("unknown: interrupted by a crash".into(), None));
        }
        Before::Untried => {}
    }
    let rendered = std::fs::read(job_dir.join(PAYLOAD_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let payload = rendered.unwrap_or_else(|| {
        json!({
            "job_id": id,
            "organization": rec.job.organization,
            "ips": rec.job.ips.to_qualys(),
            "scan_ref": scan_ref,
            "reason": alerted.get("reason").cloned().unwrap_or(Value::Null),
            "summary": job_dir.join("summary.md"),
            "findings": job_dir.join("findings.csv"),
        })
    });
    let shown = shown_url(url);
    once.intend(&WebhookIntent {
        started_at: Timestamp::now().to_rfc3339(),
        url: &shown,
    })?;
    crate::crashpoint::hit("webhook-after-intent");
    let r = match post(url, &payload).await {
        Ok(code) if (200..300).contains(&code) => record("ok".into(), Some(code)),
        Ok(code) => record(format!("failed: HTTP {code}"), Some(code)),
        Err(e) => record(format!("failed: {e}"), None),
    };
    if r.status != "ok" {
        crate::metrics::count_alert_failure(crate::metrics::Effect::Webhook);
        tracing::warn!(job_id = id, "alert webhook {}", r.status);
    }
    once.settle(&r)
}

/// `scheme://host[:port]/…` of `url`: what job files and logs may show of a webhook, whose
/// path and query often carry its token.
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}/…", u.scheme()),
            (Some(h), None) => format!("{}://{h}/…", u.scheme()),
            _ => "(webhook)".to_string(),
        },
        Err(_) => "(webhook)".to_string(),
    }
}

async fn post(url: &str, payload: &Value) -> Result<u16, String> {
    let client = reqwest::Client::builder()
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    let resp = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok(resp.status().as_u16())
}

/// Writes the message [`send_once`] will POST (rendered by
/// [`crate::actions::messages::payload`]).
pub fn write_payload(job_dir: &Path, payload: &Value) -> Result<(), super::ActionError> {
    let path = job_dir.join(PAYLOAD_FILE);
    fsutil::write_json(&path, payload).map_err(|e| super::ActionError::io(&path, e))
}

/// The webhook's outcome (`webhook.json`), if any.
pub fn webhook_summary(job_dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(job_dir.join(RESULT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn a_webhook_url_is_shown_without_its_secret_path() {
        let s = shown_url("https://hooks.slack.com/services/T000/B000/SECRETTOKEN?x=y");
        assert_eq!(s, "https://hooks.slack.com/…");
        assert!(!s.contains("SECRET"));
        assert_eq!(
            shown_url("http://127.0.0.1:8765/hook/SECRET"),
            "http://127.0.0.1:8765/…"
        );
        assert_eq!(shown_url("not a url SECRET"), "(webhook)");
    }
}
