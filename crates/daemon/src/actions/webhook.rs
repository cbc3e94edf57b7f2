//! The alert's webhook: the message rendered by the action items (`.webhook-payload.json`,
//! in `[alerts].webhook_format`) POSTed as JSON to `[alerts].webhook`, at most once per job.
//!
//! Like the alert command it is an effect nobody can look up afterwards, so it follows the
//! same rule: `jobs/ID/.webhook-intent` is written and fsynced before the request, and
//! `jobs/ID/webhook.json` records the outcome. An intent without an outcome means the POST
//! may have happened: it is recorded as unknown and never sent again. A failing webhook
//! never fails the job. It is sent by the executor (async), after the action items.

use super::alert;
use crate::fsutil;
use baseliner_core::store::JobRecord;
use baseliner_core::time::Timestamp;
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

/// Sends the webhook for `rec` when its alert was due (`alert.json` exists) and it was
/// not sent or attempted before. Errors are recorded in `webhook.json`, not returned;
/// only a failure to write the intent or the outcome file is an error.
pub async fn send_once(job_dir: &Path, rec: &JobRecord, url: &str) -> std::io::Result<()> {
    let result = job_dir.join(RESULT_FILE);
    let intent = job_dir.join(INTENT_FILE);
    let Some(alerted) = alert::alert_summary(job_dir) else {
        return Ok(()); // no alert was due
    };
    if result.exists() {
        return Ok(());
    }
    if intent.exists() {
        crate::metrics::count_alert_failure(crate::metrics::Effect::Webhook);
        tracing::warn!(
            job_id = rec.id.as_str(),
            "alert webhook unknown: interrupted by a crash"
        );
        return write(
            &result,
            &json!({
                "status": "unknown: interrupted by a crash",
                "url": url,
                "at": Timestamp::now().to_rfc3339(),
            }),
        );
    }
    let id = rec.id.as_str();
    let rendered = std::fs::read(job_dir.join(PAYLOAD_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let payload = rendered.unwrap_or_else(|| {
        json!({
            "job_id": id,
            "organization": rec.job.organization,
            "ips": rec.job.ips.to_qualys(),
            "scan_ref": rec.checkpoint.state.scan_ref(),
            "reason": alerted.get("reason").cloned().unwrap_or(Value::Null),
            "summary": job_dir.join("summary.md"),
            "findings": job_dir.join("findings.csv"),
        })
    });
    write(
        &intent,
        &json!({ "url": url, "started_at": Timestamp::now().to_rfc3339() }),
    )?;
    crate::crashpoint::hit("webhook-after-intent");
    let outcome = post(url, &payload).await;
    let v = match outcome {
        Ok(code) if (200..300).contains(&code) => json!({ "status": "ok", "http_status": code }),
        Ok(code) => json!({ "status": format!("failed: HTTP {code}"), "http_status": code }),
        Err(e) => json!({ "status": format!("failed: {e}"), "http_status": null }),
    };
    let mut v = v;
    v["url"] = json!(url);
    v["at"] = json!(Timestamp::now().to_rfc3339());
    if let Some(s) = v["status"].as_str() {
        if s != "ok" {
            crate::metrics::count_alert_failure(crate::metrics::Effect::Webhook);
            tracing::warn!(job_id = id, "alert webhook {s}");
        }
    }
    write(&result, &v)
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
    write(&path, payload).map_err(|e| super::ActionError::io(&path, e))
}

/// The webhook's outcome (`webhook.json`), if any.
pub fn webhook_summary(job_dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(job_dir.join(RESULT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write(path: &Path, v: &Value) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    fsutil::write_atomic(path, &bytes)
}
