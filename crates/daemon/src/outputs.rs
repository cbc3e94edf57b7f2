//! A finished job's outputs in `jobs/ID/`: which exist, and the action items made from
//! them.
//!
//! The report and the raw results are downloaded by the executor (through temporary
//! files and renames). The action items — `findings.csv`, `summary.md`, `summary.html`,
//! alerts — are made by [`crate::actions`] through [`action_items`].

use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::store::JobRecord;

/// Output file names, in the order users look for them.
const OUTPUTS: &[&str] = &[
    "summary.html",
    "summary.md",
    "findings.csv",
    "results.json",
    "alert.json",
    "report.pdf",
    "report.html",
    "report.mht",
    "report.xml",
    "report.csv",
    "report.docx",
];

/// The output files present in `jobs/ID/`.
pub fn list(spool: &Spool, id: &str) -> Vec<String> {
    let dir = spool.job_dir(id);
    OUTPUTS
        .iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| n.to_string())
        .collect()
}

/// Produces the action items once the report and raw results are on disk: `findings.csv`,
/// `summary.md`, `summary.html`, the baseline delta and the alert (see [`crate::actions`]).
/// Safe to repeat: it runs again after a crash before the job's `done` checkpoint, rewrites
/// the same files and never alerts twice. A failing alert command does not fail the job.
///
/// It blocks while the alert command runs (up to `[alerts].command_timeout`).
pub fn action_items(spool: &Spool, rec: &JobRecord, cfg: &Config) -> Result<(), String> {
    crate::actions::run(spool, rec, &cfg.alerts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
