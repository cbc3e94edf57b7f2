//! Streaming downloads (scan results, report files) into a file: chunked writes to
//! `<dest>.part` (created new, never through a link), fsync, then rename, so `dest` is never seen half-written, and a
//! `.part` never outlives its download: a drop guard removes it when the download fails,
//! hits its deadline or is dropped (the daemon aborts a canceled job's task).
//!
//! Every download has a total deadline ([`crate::ClientConfig::download_deadline`]), not
//! only a read timeout, so a body trickling at 1 byte/s ends. The body's kind is decided
//! from its first bytes ([`BodyKind`], §7.4): a zip or PDF is always the file; markup is an
//! API answer (SIMPLE_RETURN such as 7001 "not ready", GENERIC_RETURN) when its root says
//! so, and is then classified instead of saved — after the prolog guard, like every XML
//! body (§8, issue 10 §4); an HTML page is the file of a report fetch and an error page
//! anywhere else (raw results are never HTML, §6.4).

use std::path::{Path, PathBuf};

use reqwest::Response;
use tokio::io::AsyncWriteExt;

use crate::api::{api_key, Call};
use crate::body_kind::BodyKind;
use crate::classify::{hostile, Ctx};
use crate::client::{read_body, Client, Reply};
use crate::error::{ApiError, ErrorKind};
use crate::limits::Limits;
use crate::parse::prolog::{self, Prolog, XmlRefused};
use crate::parse::ParseError;
use crate::transport::transport;

/// How many leading bytes are read before deciding file vs API answer.
const SNIFF: usize = 1024;
/// The longest XML prolog a download may have before its root element (Qualys's are
/// under 1 KiB); a longer one is refused rather than saved unchecked.
const PROLOG_MAX: usize = 64 * 1024;

/// What a download wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// Bytes written to the destination.
    pub bytes: u64,
    /// The response `Content-Type`, if any.
    pub content_type: Option<String>,
    /// What the body is, from its first bytes (name the file by this, not by the format
    /// asked for: a zipped HTML report is `report.html.zip`).
    pub kind: BodyKind,
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

/// What the first bytes of a successful (2xx) download say.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Save it.
    File,
    /// An API answer (error, "not ready") or an error page: read it whole and classify it.
    Answer,
    /// The prolog guard refused it.
    Refused(XmlRefused),
    /// Markup whose root is not in the first bytes yet: read more.
    NeedMore,
}

/// Decides from `prefix` (`complete`: the body has no more bytes) what a body is.
fn verdict(call: Call, kind: BodyKind, prefix: &[u8], complete: bool) -> Verdict {
    match kind {
        BodyKind::Zip | BodyKind::Pdf => Verdict::File,
        BodyKind::Other if prefix.is_empty() => Verdict::Answer,
        BodyKind::Other => Verdict::File,
        BodyKind::Html if call == Call::FetchReport => Verdict::File,
        BodyKind::Html => Verdict::Answer,
        BodyKind::Xml => match prolog::scan(&String::from_utf8_lossy(prefix)) {
            Err(refused) => Verdict::Refused(refused),
            Ok(Prolog::Root {
                name: "SIMPLE_RETURN" | "GENERIC_RETURN",
                ..
            }) => Verdict::Answer,
            Ok(Prolog::Root { .. } | Prolog::NotMarkup) => Verdict::File,
            Ok(Prolog::Incomplete) if complete => Verdict::Answer,
            Ok(Prolog::Incomplete) if prefix.len() >= PROLOG_MAX => Verdict::Refused(XmlRefused {
                reason: "an XML prolog longer than 64 KiB",
                at: prefix.len(),
            }),
            Ok(Prolog::Incomplete) => Verdict::NeedMore,
        },
    }
}

/// Removes `<dest>.part` when dropped, unless it was renamed into place.
struct PartFile {
    path: PathBuf,
    armed: bool,
}

impl PartFile {
    fn for_dest(dest: &Path) -> PartFile {
        let mut name = dest.as_os_str().to_owned();
        name.push(".part");
        PartFile {
            path: PathBuf::from(name),
            armed: true,
        }
    }
}

impl PartFile {
    /// Creates the file new. The name is predictable (the job directory is the daemon's
    /// alone): a leftover of a crash, or anything else found there, is removed first (a
    /// link is removed, not followed), and the file is created with `O_EXCL`, so it is
    /// never opened through a link or where something is in the way.
    async fn create(&self) -> std::io::Result<tokio::fs::File> {
        match tokio::fs::remove_file(&self.path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .await
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the file may never have been created.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Client {
    /// Downloads one fetch call into `dest` (streamed, atomic rename at the end), within
    /// the configured download deadline.
    pub(crate) async fn download(
        &self,
        call: Call,
        params: &[(&str, String)],
        dest: &Path,
    ) -> Result<Reply<Download>, FetchError> {
        let deadline = self.cfg.download_deadline;
        match tokio::time::timeout(deadline, self.download_within(call, params, dest)).await {
            Ok(result) => result,
            Err(_) => Err(ApiError {
                kind: ErrorKind::Transient,
                api: self.api_for(call),
                http_status: None,
                code: None,
                text: format!(
                    "download did not finish within its deadline of {} s; the partial file was removed",
                    deadline.as_secs()
                ),
                limits: Limits::default(),
            }
            .into()),
        }
    }

    async fn download_within(
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
        let mut complete = false;
        let mut want = SNIFF;
        let kind = loop {
            while prefix.len() < want && !complete {
                match response.chunk().await {
                    Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
                    Ok(None) => complete = true,
                    Err(e) => return Err(transport(ctx, &e, Some(status), limits).into()),
                }
            }
            let kind = BodyKind::sniff(&prefix);
            match verdict(call, kind, &prefix, complete) {
                Verdict::File => break kind,
                Verdict::Refused(refused) => {
                    return Err(hostile(ctx, status, limits, refused).into())
                }
                Verdict::NeedMore => want = (prefix.len() * 2).min(PROLOG_MAX),
                Verdict::Answer => {
                    let body = read_body(ctx, &mut response, prefix).await?;
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
            }
        };
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
                kind,
            },
            limits,
        })
    }
}

/// Reads and classifies an error response.
async fn error_body(ctx: Ctx<'_>, response: Response) -> ApiError {
    match crate::client::read_and_decode(ctx, response, |_| Ok(())).await {
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
/// up once more than `cap` bytes arrive. The `.part` is removed on every way out but the
/// rename, a dropped future included.
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
    let mut part = PartFile::for_dest(dest);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, source }
    };
    let mut file = part.create().await.map_err(io(&part.path))?;
    file.write_all(&prefix).await.map_err(io(&part.path))?;
    let mut bytes = prefix.len() as u64;
    too_large(bytes)?;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes += chunk.len() as u64;
                too_large(bytes)?;
                file.write_all(&chunk).await.map_err(io(&part.path))?;
            }
            Ok(None) => break,
            Err(e) => return Err(transport(ctx, &e, Some(status), limits).into()),
        }
    }
    file.flush().await.map_err(io(&part.path))?;
    file.sync_all().await.map_err(io(&part.path))?;
    drop(file);
    tokio::fs::rename(&part.path, dest)
        .await
        .map_err(io(dest))?;
    part.armed = false;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples as s;

    fn of(call: Call, body: &[u8]) -> Verdict {
        verdict(call, BodyKind::sniff(body), body, true)
    }

    #[test]
    fn answers_vs_files() {
        let r = Call::FetchReport;
        assert_eq!(of(r, s::REPORT_NOT_READY_7001.as_bytes()), Verdict::Answer);
        assert_eq!(of(r, s::V1_ERROR_5000.as_bytes()), Verdict::Answer);
        assert_eq!(of(r, s::ERROR_1960.as_bytes()), Verdict::Answer);
        assert_eq!(of(r, s::REPORT_XML.as_bytes()), Verdict::File);
        assert_eq!(of(r, b"%PDF-1.4\n"), Verdict::File);
        assert_eq!(of(r, b"PK\x03\x04<html>"), Verdict::File);
        assert_eq!(of(r, b"<!DOCTYPE html><html></html>"), Verdict::File);
        assert_eq!(of(r, b""), Verdict::Answer);
        let f = Call::FetchScan;
        assert_eq!(of(f, b"[{\"ip\":\"1.2.3.4\"}]"), Verdict::File);
        assert_eq!(of(f, s::REDIRECT_301.as_bytes()), Verdict::Answer);
        assert_eq!(of(f, s::REPORT_NOT_READY_7001.as_bytes()), Verdict::Answer);
    }

    #[test]
    fn hostile_markup_is_refused_and_a_long_prolog_needs_more_then_is_refused() {
        let bomb = b"<!DOCTYPE SIMPLE_RETURN [<!ENTITY a \"aaaa\">]><SIMPLE_RETURN>&a;";
        assert!(matches!(
            of(Call::FetchReport, bomb),
            Verdict::Refused(r) if r.reason.contains("<!ENTITY")
        ));
        // A report file is checked too: it is saved only when its prolog is clean, so the
        // daemon's own parse of an XML report never meets a declaration.
        let report = b"<?xml version=\"1.0\"?>\n<!DOCTYPE ASSET_DATA_REPORT SYSTEM \"x.dtd\" [\n\
            <!ENTITY a \"aaaa\">]>\n<ASSET_DATA_REPORT>&a;</ASSET_DATA_REPORT>";
        assert!(matches!(of(Call::FetchReport, report), Verdict::Refused(_)));
        let empty = b"<!DOCTYPE ASSET_DATA_REPORT SYSTEM \"x.dtd\" []><ASSET_DATA_REPORT/>";
        assert_eq!(of(Call::FetchReport, empty), Verdict::File);
        let long = format!("<?xml version=\"1.0\"?><!--{}", "c".repeat(2000));
        let kind = BodyKind::Xml;
        assert_eq!(
            verdict(Call::FetchReport, kind, long.as_bytes(), false),
            Verdict::NeedMore
        );
        let longer = format!("<!--{}", "c".repeat(PROLOG_MAX));
        assert!(matches!(
            verdict(Call::FetchReport, kind, longer.as_bytes(), false),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn the_part_guard_removes_the_file_unless_disarmed() {
        let dir = std::env::temp_dir().join(format!("bq-part-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let dest = dir.join("report.pdf");
        {
            let part = PartFile::for_dest(&dest);
            std::fs::write(&part.path, b"x").expect("write part");
        }
        assert!(!dir.join("report.pdf.part").exists());
        {
            let mut part = PartFile::for_dest(&dest);
            std::fs::write(&part.path, b"x").expect("write part");
            part.armed = false;
        }
        assert!(dir.join("report.pdf.part").exists());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[tokio::test]
    async fn the_part_file_never_writes_through_a_link() {
        let dir = std::env::temp_dir().join(format!("bq-part-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        let dest = dir.join("results.json");
        let symlink: fn(&Path, &Path) -> std::io::Result<()> =
            |from, to| std::os::unix::fs::symlink(from, to);
        let hard_link: fn(&Path, &Path) -> std::io::Result<()> =
            |from, to| std::fs::hard_link(from, to);
        for link in [symlink, hard_link] {
            let part = PartFile::for_dest(&dest);
            link(&victim, &part.path).expect("plant");
            let mut f = part.create().await.expect("created");
            f.write_all(b"downloaded").await.expect("write");
            f.flush().await.expect("flush");
            drop(f);
            assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
            assert_eq!(std::fs::read(&part.path).expect("part"), b"downloaded");
            drop(part);
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
