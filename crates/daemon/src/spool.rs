//! The spool's layout (SPEC.md "The spool"): where job files are dropped, refused, and
//! where each job's files live. Only paths and directory creation; no decisions.

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The spool directory and its parts.
#[derive(Debug, Clone)]
pub struct Spool {
    root: PathBuf,
}

impl Spool {
    /// A spool rooted at `root` (nothing is created until [`Spool::create_dirs`]).
    pub fn new(root: impl Into<PathBuf>) -> Spool {
        Spool { root: root.into() }
    }

    /// The spool's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `incoming/`: job files are dropped here.
    pub fn incoming(&self) -> PathBuf {
        self.root.join("incoming")
    }

    /// `rejected/`: refused files, each beside `NAME.error`.
    pub fn rejected(&self) -> PathBuf {
        self.root.join("rejected")
    }

    /// `cancel/`: an empty file named after a job id asks the daemon to cancel it.
    pub fn cancel(&self) -> PathBuf {
        self.root.join("cancel")
    }

    /// `retry/`: an empty file named after a failed or canceled job asks the daemon for a
    /// new job with its fields (`baseliner retry`).
    pub fn retry(&self) -> PathBuf {
        self.root.join("retry")
    }

    /// `hold/`: a file named after a job, holding `hold` or `release`, asks the daemon to
    /// hold or release it (`baseliner hold`, `baseliner release`).
    pub fn hold(&self) -> PathBuf {
        self.root.join("hold")
    }

    /// `purge/`: the daemon user's own (mode 0700): an empty file `older-than-SECONDS-…`
    /// asks the daemon to remove the finished jobs older than that (`baseliner purge`).
    pub fn purge(&self) -> PathBuf {
        self.root.join("purge")
    }

    /// `.staging/`: the daemon's private directory (mode 0700) where intake moves a file out
    /// of `incoming/` before reading it, so what is read is what is recorded and moved. A
    /// file found here at start was being taken when the daemon stopped: it is taken first.
    pub fn staging(&self) -> PathBuf {
        self.root.join(".staging")
    }

    /// `jobs/`: one directory per accepted job.
    pub fn jobs(&self) -> PathBuf {
        self.root.join("jobs")
    }

    /// `jobs/ID/`.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.jobs().join(id)
    }

    /// `jobs/ID/status.json`.
    pub fn status_file(&self, id: &str) -> PathBuf {
        self.job_dir(id).join("status.json")
    }

    /// `daemon.json`: the daemon's own one-line state (running, paused and why, counts).
    pub fn daemon_status(&self) -> PathBuf {
        self.root.join("daemon.json")
    }

    /// `.daemon.lock`: the running daemon's lock (see [`crate::lock`]).
    pub fn daemon_lock(&self) -> PathBuf {
        self.root.join(".daemon.lock")
    }

    /// Creates every spool directory that is missing, and makes `.staging/` private: a
    /// directory of the daemon's own (not a symbolic link), mode 0700.
    pub fn create_dirs(&self) -> io::Result<()> {
        for d in [
            self.incoming(),
            self.rejected(),
            self.cancel(),
            self.retry(),
            self.hold(),
            self.jobs(),
        ] {
            std::fs::create_dir_all(d)?;
        }
        // The daemon user's alone: only it (and root) may ask for a purge.
        match std::fs::DirBuilder::new().mode(0o700).create(self.purge()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let staging = self.staging();
        match std::fs::DirBuilder::new().mode(0o700).create(&staging) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        if !std::fs::symlink_metadata(&staging)?.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory: remove it (the daemon keeps files it is taking there)",
                staging.display()
            )));
        }
        // Fails unless the daemon owns it: nobody else may place files there.
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn staging_is_private_and_never_a_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("spool"));
        spool.create_dirs().expect("create");
        let meta = std::fs::symlink_metadata(spool.staging()).expect("staging");
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o700);
        std::fs::set_permissions(spool.staging(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        spool.create_dirs().expect("again");
        let meta = std::fs::symlink_metadata(spool.staging()).expect("staging");
        assert_eq!(meta.mode() & 0o777, 0o700, "made private again");

        let other = Spool::new(dir.path().join("other"));
        std::fs::create_dir_all(other.root()).expect("root");
        std::os::unix::fs::symlink(dir.path(), other.staging()).expect("symlink");
        let e = other.create_dirs().expect_err("a symlink is refused");
        assert!(e.to_string().contains("not a directory"), "{e}");
    }
}
