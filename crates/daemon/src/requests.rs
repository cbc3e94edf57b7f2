//! Request directories (`cancel/`, `retry/`, `hold/`, `purge/`): a file there asks the
//! daemon for something, named by what it is about (a job id, for `purge/` the age). The
//! run loop applies each request and only then removes its file ([`Requests::handled`]), so
//! a crash in between repeats the request: every request is safe to repeat. An entry whose
//! name does not read as a request, or that is not a regular file (a symlink, a directory,
//! a FIFO), is warned about once and skipped from then on (removed where it can be).
//! Dot-files are the writers' temporaries and are left alone.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{DirEntryExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The longest content a request file may have ([`read_small`]).
pub const MAX_REQUEST: u64 = 64;

/// The entries of one request directory already warned about.
#[derive(Debug, Default)]
pub struct Requests {
    /// Entries already handled that could not be removed (a directory, …), by name, inode
    /// and whether it is a regular file: skipped from then on, so each is warned about once.
    /// A request written over a skipped entry is a request again — a new inode under the
    /// same name, or the same inode number reused by the kernel for a regular file where a
    /// symlink was (so the kind is part of the key).
    junk: HashSet<(OsString, u64, bool)>,
}

/// One request found; hand it back to [`Requests::handled`] once applied.
#[derive(Debug)]
pub struct Request<T> {
    /// What the request is about, as its name reads.
    pub what: T,
    file_name: OsString,
    ino: u64,
    /// The request file.
    pub path: PathBuf,
}

impl Requests {
    /// The requests now in `dir` whose names `parse` reads (`kind` names them in warnings,
    /// `expected` says what a name must be). Entries that are not requests are warned about
    /// (once), removed where they can be, and left out. A missing directory holds no
    /// request.
    pub fn pending<T>(
        &mut self,
        dir: &Path,
        (kind, expected): (&str, &str),
        parse: impl Fn(&str) -> Option<T>,
    ) -> Vec<Request<T>> {
        let Ok(rd) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in rd.flatten() {
            let file_name = e.file_name();
            let ino = e.ino();
            // `DirEntry::file_type` does not follow symlinks.
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            if self.junk.contains(&(file_name.clone(), ino, is_file)) {
                continue;
            }
            let name = file_name.to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match file_name.to_str().and_then(&parse).filter(|_| is_file) {
                Some(what) => out.push(Request {
                    what,
                    file_name,
                    ino,
                    path: e.path(),
                }),
                None => {
                    let why = if is_file {
                        format!("not {expected}")
                    } else {
                        "not a regular file".to_string()
                    };
                    tracing::warn!("ignoring {kind} request {name:?}: {why}");
                    if !is_file || fs::remove_file(e.path()).is_err() {
                        self.junk.insert((file_name, ino, is_file));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        out
    }

    /// Removes an applied request's file (or, when it cannot be removed, skips it from then
    /// on).
    pub fn handled<T>(&mut self, req: Request<T>) {
        if fs::remove_file(&req.path).is_err() {
            self.junk.insert((req.file_name, req.ino, true));
        }
    }

    /// True when this entry is skipped (tests).
    #[cfg(test)]
    pub fn skips(&self, name: &str, ino: u64, is_file: bool) -> bool {
        self.junk.contains(&(OsString::from(name), ino, is_file))
    }
}

/// The content of a request file, at most [`MAX_REQUEST`] bytes, trimmed: opened without
/// following a link and without blocking on a FIFO, and only when it is a regular file.
pub fn read_small(path: &Path) -> io::Result<String> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    file.take(MAX_REQUEST).read_to_string(&mut text)?;
    Ok(text.trim().to_string())
}
