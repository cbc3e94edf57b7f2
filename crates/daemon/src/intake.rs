//! Spool intake: turns files dropped in `incoming/` into durably recorded jobs.
//!
//! For each candidate file: refuse symlinks, non-regular files and files over 1 MiB;
//! validate with the core's job validation; record the job in the store (flushed); only
//! then move the file into `jobs/ID/`. A crash between the record and the move is
//! harmless: the file is still in `incoming/`, its intake key (name + content hash) finds
//! the recorded job, and the move is simply redone. A refused file goes to
//! `rejected/NAME` beside `NAME.error` (one line: why). Nothing a submitter drops can stop
//! the daemon: every problem is either a rejection or a logged retry at the next scan.

use crate::fsutil;
use crate::spool::Spool;
use crate::status::{self, JobStatus};
use baseliner_core::job::{job_to_toml, parse_job, JobRules};
use baseliner_core::store::{JobRecord, Store};
use baseliner_core::time::Timestamp;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Files larger than this are refused.
pub const MAX_JOB_FILE: u64 = 1024 * 1024;

/// What one intake pass did.
#[derive(Debug, Default)]
pub struct IntakeReport {
    /// Jobs newly recorded (or whose interrupted intake was completed), in order.
    pub accepted: Vec<JobRecord>,
    /// Files refused, with the reason.
    pub rejected: Vec<(String, String)>,
}

/// Whether `name` is a job file the scanner should look at.
pub fn is_candidate(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".toml") || name.ends_with(".json"))
}

/// One pass over `incoming/`, in name order.
pub fn scan(spool: &Spool, store: &Store, rules: &JobRules, now: Timestamp) -> IntakeReport {
    let mut report = IntakeReport::default();
    let mut names: Vec<PathBuf> = match fs::read_dir(spool.incoming()) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", spool.incoming().display());
            return report;
        }
    };
    names.sort();
    for path in names {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            // Not UTF-8: cannot be named in a one-line reason reliably; refuse it anyway.
            let lossy = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !lossy.starts_with('.') {
                reject(
                    spool,
                    &path,
                    &lossy,
                    "the file name is not valid UTF-8",
                    &mut report,
                );
            }
            continue;
        };
        if !is_candidate(&name) {
            continue;
        }
        match take(spool, store, rules, &path, &name, now) {
            Ok(Taken::Accepted(rec)) => report.accepted.push(*rec),
            Ok(Taken::Refused(why)) => reject(spool, &path, &name, &why, &mut report),
            Err(e) => tracing::warn!("intake of {name} postponed: {e}"),
        }
    }
    report
}

enum Taken {
    Accepted(Box<JobRecord>),
    Refused(String),
}

fn take(
    spool: &Spool,
    store: &Store,
    rules: &JobRules,
    path: &Path,
    name: &str,
    now: Timestamp,
) -> io::Result<Taken> {
    if name.chars().any(char::is_control) {
        return Ok(Taken::Refused(
            "the file name contains control characters".into(),
        ));
    }
    // Open first, then look at what was opened: no symlink is followed (O_NOFOLLOW), a FIFO
    // does not block the loop (O_NONBLOCK), and a file swapped after a check is not read.
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Taken::Refused("symbolic links are not accepted".into()))
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Ok(Taken::Refused(format!(
                "the daemon cannot read the file ({e}); make it readable by the baseliner user"
            )))
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Ok(Taken::Refused("not a regular file".into()));
    }
    if meta.len() > MAX_JOB_FILE {
        return Ok(Taken::Refused(format!(
            "the file is {} bytes; job files are limited to {MAX_JOB_FILE} bytes",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_JOB_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_JOB_FILE {
        return Ok(Taken::Refused(format!(
            "the file grew past {MAX_JOB_FILE} bytes while being read"
        )));
    }
    let job = match parse_job(name, &bytes, rules) {
        Ok(j) => j,
        Err(e) => return Ok(Taken::Refused(one_line(&e.to_string()))),
    };
    let key = intake_key(name, &bytes);
    let (mut rec, mut new) = store
        .accept(&key, name, &job, now)
        .map_err(io::Error::other)?;
    if !new && already_moved(spool, rec.id.as_str()) {
        // The key outlived an earlier, completed intake (a crash before its release):
        // this is a new drop of the same file, so it is a new job.
        store.release_intake(&key).map_err(io::Error::other)?;
        (rec, new) = store
            .accept(&key, name, &job, now)
            .map_err(io::Error::other)?;
    }
    crate::crashpoint::hit("intake-after-accept");
    let dir = spool.job_dir(rec.id.as_str());
    fsutil::ensure_dir(&dir)?;
    fsutil::write_atomic(&dir.join("job.toml"), job_to_toml(&rec.job).as_bytes())?;
    let ext = if name.ends_with(".json") {
        "json"
    } else {
        "toml"
    };
    fsutil::rename_durable(path, &dir.join(format!("submitted.{ext}")))?;
    crate::crashpoint::hit("intake-after-move");
    store.release_intake(&key).map_err(io::Error::other)?;
    let st = JobStatus::from_record(&rec, now, Vec::new(), None);
    status::write(spool, &st)?;
    tracing::info!(
        job_id = rec.id.as_str(),
        organization = rec.job.organization.as_str(),
        "accepted {name}{}",
        if new {
            ""
        } else {
            " (completing an interrupted intake)"
        }
    );
    Ok(Taken::Accepted(Box::new(rec)))
}

fn already_moved(spool: &Spool, id: &str) -> bool {
    let dir = spool.job_dir(id);
    dir.join("submitted.toml").exists() || dir.join("submitted.json").exists()
}

/// The intake key: the file's name and a hash of its content (FNV-1a, 64 bits).
pub fn intake_key(name: &str, bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{name}:{h:016x}:{}", bytes.len())
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

/// Moves a refused file to `rejected/` (a free name) and writes the reason beside it.
fn reject(spool: &Spool, path: &Path, name: &str, why: &str, report: &mut IntakeReport) {
    let safe: String = name
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    let dir = spool.rejected();
    let mut target = dir.join(&safe);
    let mut n = 1;
    while fs::symlink_metadata(&target).is_ok() {
        target = dir.join(format!("{safe}.{n}"));
        n += 1;
    }
    let target_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reason = format!("{}\n", one_line(why));
    let result = fsutil::write_atomic(&dir.join(format!("{target_name}.error")), reason.as_bytes())
        .and_then(|()| fsutil::rename_durable(path, &target));
    match result {
        Ok(()) => {
            tracing::warn!("rejected {name}: {why}");
            report.rejected.push((target_name, why.to_string()));
        }
        Err(e) => tracing::error!("could not move refused {name} to rejected/: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_visible_toml_and_json_files() {
        assert!(is_candidate("a.toml"));
        assert!(is_candidate("a.json"));
        assert!(!is_candidate(".a.toml"));
        assert!(!is_candidate("a.toml.swp"));
        assert!(!is_candidate("README"));
    }

    #[test]
    fn intake_keys_depend_on_name_and_content() {
        assert_eq!(intake_key("a.toml", b"x"), intake_key("a.toml", b"x"));
        assert_ne!(intake_key("a.toml", b"x"), intake_key("a.toml", b"y"));
        assert_ne!(intake_key("a.toml", b"x"), intake_key("b.toml", b"x"));
    }
}
