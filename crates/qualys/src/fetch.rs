//! Streaming downloads (scan results, report files) into a file: chunked writes to
//! `<dest>.part`, fsync, then rename, so `dest` is never seen half-written. An API error
//! body (SIMPLE_RETURN such as 7001 "not ready", GENERIC_RETURN, an HTML page) is
//! recognized from the first bytes and classified instead of being saved.

use std::path::{Path, PathBuf};

use reqwest::Response;
use tokio::io::AsyncWriteExt;

use crate::api::{api_key, Call};
use crate::classify::{looks_html, Ctx};
use crate::client::{read_and_decode, transport, Client, Reply};
use crate::error::{ApiError, ErrorKind};
use crate::limits::Limits;
use crate::parse::ParseError;

/// How many leading bytes are inspected before deciding file vs API error.
const SNIFF: usize = 1024;

/// What a download wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// Bytes written to the destination.
    pub bytes: u64,
    /// The response `Content-Type`, if any.
    pub content_type: Option<String>,
}

/// A download failed: the API said no, or the local file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The call failed (e.g. [`ErrorKind::NotReady`] for a report still running).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Writing the destination failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The body grew past the configured cap; what was written has been removed.
    #[error("{} would exceed the download cap of {limit} bytes; abandoned and removed", path.display())]
    TooLarge {
        /// The file that was being written.
        path: PathBuf,
        /// The cap, in bytes.
        limit: u64,
    },
}

impl FetchError {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            FetchError::Api(e) => Some(e),
            FetchError::Io { .. } | FetchError::TooLarge { .. } => None,
        }
    }
}

/// The name of the root element of a document prefix, skipping the declaration,
/// comments and a DOCTYPE (with or without internal subset). `None`: not XML-looking
/// (JSON, CSV, PDF...) or the prefix ends before the root.
pub(crate) fn root_name(prefix: &str) -> Option<&str> {
    let mut rest = prefix.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->")? + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            let close = r.find('>')?;
            rest = match r.find('[') {
                Some(open) if open < close => &r[r[open..].find("]")? + open + 1..],
                _ => &r[close + 1..],
            };
            rest = rest.trim_start().strip_prefix('>').unwrap_or(rest);
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')))
                .unwrap_or(r.len());
            return (end > 0).then(|| &r[..end]);
        } else {
            return None;
        }
    }
}

/// True when the first bytes are an API answer rather than the requested file.
fn is_api_answer(prefix: &[u8], content_type: Option<&str>) -> bool {
    if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html")) {
        return true;
    }
    let text = String::from_utf8_lossy(prefix);
    if looks_html(text.trim_start()) {
        return true;
    }
    matches!(root_name(&text), Some("SIMPLE_RETURN" | "GENERIC_RETURN"))
}

impl Client {
    /// Downloads one fetch call into `dest` (streamed, atomic rename at the end).
    pub(crate) async fn download(
        &self,
        call: Call,
        params: &[(&str, String)],
        dest: &Path,
    ) -> Result<Reply<Download>, FetchError> {
        let path = self.path(call);
        let key = api_key(path, call.action());
        let ctx = Ctx {
            api: &key,
            safe: call.safe_to_repeat(),
        };
        let mut response = self.send(call, path, params, false).await?;
        let status = response.status().as_u16();
        let limits = Limits::from_headers(response.headers());
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !response.status().is_success() {
            return Err(error_body(ctx, response).await.into());
        }
        let mut prefix = Vec::new();
        while prefix.len() < SNIFF {
            match response.chunk().await {
                Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(transport(ctx, &e, Some(status), limits).into()),
            }
        }
        if is_api_answer(&prefix, content_type.as_deref()) {
            let mut body = prefix;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) if body.len() < crate::client::MAX_XML_BODY => {
                        body.extend_from_slice(&chunk)
                    }
                    Ok(Some(_)) | Ok(None) => break,
                    Err(e) => return Err(transport(ctx, &e, Some(status), limits).into()),
                }
            }
            let err = crate::classify::decode(ctx, status, limits, &body, |doc| {
                Err::<(), _>(ParseError::UnexpectedRoot {
                    found: doc.root_element().tag_name().name().to_string(),
                    expected: "a file",
                })
            });
            return Err(match err {
                Err(e) => e.into(),
                Ok(()) => ctx
                    .error(ErrorKind::Protocol, Some(status), None, "no file", limits)
                    .into(),
            });
        }
        let bytes = write_file(
            ctx,
            status,
            limits,
            prefix,
            response,
            dest,
            self.cfg.max_download,
        )
        .await?;
        Ok(Reply {
            value: Download {
                bytes,
                content_type,
            },
            limits,
        })
    }
}

/// Reads and classifies an error response.
async fn error_body(ctx: Ctx<'_>, response: Response) -> ApiError {
    match read_and_decode(ctx, response, |_| Ok(())).await {
        Err(e) => e,
        Ok(reply) => ctx.error(
            ErrorKind::Protocol,
            None,
            None,
            "error status with a success body",
            reply.limits,
        ),
    }
}

/// Streams `prefix` and the rest of `response` into `<dest>.part`, syncs, renames; gives
/// up once more than `cap` bytes arrive.
async fn write_file(
    ctx: Ctx<'_>,
    status: u16,
    limits: Limits,
    prefix: Vec<u8>,
    mut response: Response,
    dest: &Path,
    cap: Option<u64>,
) -> Result<u64, FetchError> {
    let too_large = |bytes: u64| match cap {
        Some(limit) if bytes > limit => Err(FetchError::TooLarge {
            path: dest.to_path_buf(),
            limit,
        }),
        _ => Ok(()),
    };
    let mut part_name = dest.as_os_str().to_owned();
    part_name.push(".part");
    let part = PathBuf::from(part_name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, source }
    };
    let result: Result<u64, FetchError> = async {
        let mut file = tokio::fs::File::create(&part).await.map_err(io(&part))?;
        file.write_all(&prefix).await.map_err(io(&part))?;
        let mut bytes = prefix.len() as u64;
        too_large(bytes)?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    bytes += chunk.len() as u64;
                    too_large(bytes)?;
                    file.write_all(&chunk).await.map_err(io(&part))?;
                }
                Ok(None) => break,
                Err(e) => return Err(transport(ctx, &e, Some(status), limits).into()),
            }
        }
        file.flush().await.map_err(io(&part))?;
        file.sync_all().await.map_err(io(&part))?;
        drop(file);
        tokio::fs::rename(&part, dest).await.map_err(io(dest))?;
        Ok(bytes)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples as s;

    #[test]
    fn root_names_of_samples() {
        assert_eq!(root_name(s::REPORT_NOT_READY_7001), Some("SIMPLE_RETURN"));
        assert_eq!(root_name(s::V1_ERROR_5000), Some("GENERIC_RETURN"));
        assert_eq!(root_name(s::REPORT_XML), Some("ASSET_DATA_REPORT"));
        assert_eq!(root_name(s::REPORT_LIST), Some("REPORT_LIST_OUTPUT"));
        assert_eq!(root_name(s::ERROR_1960), Some("SIMPLE_RETURN"));
        assert_eq!(root_name("[{\"scan_ref\": 1}]"), None);
        assert_eq!(root_name("%PDF-1.4"), None);
        assert_eq!(root_name("<?xml version=\"1.0\""), None);
    }

    #[test]
    fn answers_vs_files() {
        assert!(is_api_answer(
            s::REPORT_NOT_READY_7001.as_bytes(),
            Some("text/xml")
        ));
        assert!(is_api_answer(s::REDIRECT_301.as_bytes(), None));
        assert!(is_api_answer(b"[]", Some("text/html; charset=utf-8")));
        assert!(!is_api_answer(
            s::REPORT_XML.as_bytes(),
            Some("application/xml")
        ));
        assert!(!is_api_answer(
            b"[{\"ip\":\"1.2.3.4\"}]",
            Some("application/json")
        ));
        assert!(!is_api_answer(b"%PDF-1.4\n", Some("application/pdf")));
    }
}
