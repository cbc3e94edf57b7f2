//! Why producing a job's action items failed. Every message names the file concerned.

use std::io;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// An action-items failure.
#[derive(Debug, Error)]
pub enum ActionError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The raw results are not the documented JSON array.
    #[error("{path}: not Qualys raw scan results: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The report is not an `ASSET_DATA_REPORT` XML document.
    #[error("{path}: not a Qualys ASSET_DATA_REPORT: {message}")]
    Xml {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV file (an earlier job's `findings.csv`) is malformed.
    #[error("{path} line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl ActionError {
    /// An [`ActionError::Io`] about `path`.
    pub fn io(path: &Path, source: io::Error) -> ActionError {
        ActionError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
