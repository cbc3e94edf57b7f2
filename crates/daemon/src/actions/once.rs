//! At most once: the one rule for effects outside Qualys that nobody can look up
//! afterwards (the alert command, the webhook POST).
//!
//! Each effect has an intent file and a result file in `jobs/ID/`. The intent is written
//! and fsynced *before* the effect, the result after it. So, on any later attempt:
//! - the result exists → the effect is settled, nothing to do;
//! - only the intent exists → the effect may have happened before a crash: it is never
//!   repeated, and the caller records it as unknown;
//! - neither exists → the effect has not been tried: write the intent, then act.
//!
//! Both files are JSON, written by [`fsutil::write_json`] (temporary file, fsync, rename).

use crate::fsutil;
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// Where an effect stands, from its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// The result file exists: settled.
    Settled,
    /// An intent without a result: may have happened; never repeat it.
    Interrupted,
    /// Not tried yet.
    Untried,
}

/// One at-most-once effect of a job: its intent and result files.
#[derive(Debug, Clone)]
pub struct Once {
    intent: PathBuf,
    result: PathBuf,
}

impl Once {
    /// The effect whose files are `job_dir/intent` and `job_dir/result`.
    pub fn new(job_dir: &Path, intent: &str, result: &str) -> Once {
        Once {
            intent: job_dir.join(intent),
            result: job_dir.join(result),
        }
    }

    /// Where the effect stands.
    pub fn before(&self) -> Before {
        if self.result.exists() {
            Before::Settled
        } else if self.intent.exists() {
            Before::Interrupted
        } else {
            Before::Untried
        }
    }

    /// Records, durably, that the effect is about to happen. Call it before the effect.
    pub fn intend<T: Serialize>(&self, intent: &T) -> io::Result<()> {
        fsutil::write_json(&self.intent, intent)
    }

    /// Records the effect's outcome (or why it did not happen), durably.
    pub fn settle<T: Serialize>(&self, result: &T) -> io::Result<()> {
        fsutil::write_json(&self.result, result)
    }

    /// The result file's path (for error messages).
    pub fn result_path(&self) -> &Path {
        &self.result
    }

    /// The intent file's path (for error messages).
    pub fn intent_path(&self) -> &Path {
        &self.intent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_without_a_result_is_interrupted_never_untried() {
        let dir = tempfile::tempdir().expect("tempdir");
        let once = Once::new(dir.path(), ".x-intent", "x.json");
        assert_eq!(once.before(), Before::Untried);
        once.intend(&serde_json::json!({"a": 1})).expect("intent");
        assert_eq!(once.before(), Before::Interrupted);
        once.settle(&serde_json::json!({"status": "ok"}))
            .expect("result");
        assert_eq!(once.before(), Before::Settled);
        let text = std::fs::read_to_string(dir.path().join("x.json")).expect("read");
        assert!(
            text.ends_with("}\n"),
            "pretty JSON with a final newline: {text:?}"
        );
    }
}
