//! The spool's layout (SPEC.md "The spool"): where job files are dropped, refused, and
//! where each job's files live. Only paths and directory creation; no decisions.

use std::io;
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

    /// Creates every spool directory that is missing.
    pub fn create_dirs(&self) -> io::Result<()> {
        for d in [self.incoming(), self.rejected(), self.cancel(), self.jobs()] {
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    }
}
