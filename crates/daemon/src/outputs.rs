//! A finished job's outputs in `jobs/ID/`: which exist, and the action items made from
//! them.
//!
//! The report and the raw results are downloaded by the executor (through temporary
//! files and renames). The action items — `findings.csv`, `summary.md`, `summary.html`,
//! alerts — are made by [`crate::actions`] through [`action_items`].

use crate::actions::ActionError;
use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::machine::baseline::{choose, Candidate};
use baseliner_core::state::JobState;
use baseliner_core::store::{JobRecord, Store};

/// Output file names, in the order users look for them.
const OUTPUTS: &[&str] = &[
    "summary.html",
    "summary.md",
    "findings.csv",
    "coverage.csv",
    "information.csv",
    "results.json",
    "alert.json",
    "report.pdf",
    "report.html",
    "report.mht",
    "report.xml",
    "report.csv",
    "report.docx",
    "report.pdf.zip",
    "report.html.zip",
    "report.mht.zip",
    "report.xml.zip",
    "report.csv.zip",
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
/// `information.csv`, `coverage.csv`, `summary.md`, `summary.html`, the baseline delta, the
/// webhook's message and the alert (see [`crate::actions`]).
/// Safe to repeat: it runs again after a crash before the job's `done` checkpoint, rewrites
/// the same files and never alerts twice. A failing alert command does not fail the job.
///
/// It blocks while the alert command runs (up to `[alerts].command_timeout`).
///
/// A downloaded file that does not parse (a body cut short, or not what Qualys documents)
/// is removed, so that the next attempt downloads it again instead of failing on it forever.
pub fn action_items(
    spool: &Spool,
    rec: &JobRecord,
    baseline: Option<&str>,
    cfg: &Config,
) -> Result<(), String> {
    match crate::actions::run(spool, rec, baseline, &cfg.alerts, &cfg.remediation) {
        Ok(_) => Ok(()),
        Err(e) => {
            if let ActionError::Json { path, .. } | ActionError::Xml { path, .. } = &e {
                if path.starts_with(spool.job_dir(rec.id.as_str())) {
                    if let Err(rm) = std::fs::remove_file(path) {
                        tracing::warn!("could not remove {}: {rm}", path.display());
                    }
                    return Err(format!("{e} (removed; it will be downloaded again)"));
                }
            }
            Err(e.to_string())
        }
    }
}

/// The baseline of `rec`, for the core to keep when the job enters `downloading`
/// ([`baseliner_core::machine::baseline::choose`]): among the stored jobs, looking at the
/// `findings.csv` only of those that fit. A store that cannot be read gives no baseline
/// (logged): the job then finishes without a delta rather than not at all.
pub fn baseline(spool: &Spool, store: &Store, rec: &JobRecord) -> Option<String> {
    let all = match store.all() {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!(job_id = rec.id.as_str(), "no baseline: {e}");
            return None;
        }
    };
    let candidates = all.iter().map(|r| Candidate {
        id: r.id.as_str(),
        organization: &r.job.organization,
        done: matches!(r.checkpoint.state, JobState::Done { .. }),
    });
    choose(
        rec.id.as_str(),
        &rec.job.organization,
        candidates,
        |id: &str| spool.job_dir(id).join("findings.csv").is_file(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::record;

    #[test]
    fn unparseable_results_are_removed_for_a_fresh_download() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path());
        let rec = record("20261128-010000-000001", "Org", &["64.39.106.1"]);
        let job_dir = spool.job_dir(rec.id.as_str());
        std::fs::create_dir_all(&job_dir).expect("job dir");
        let results = job_dir.join("results.json");
        std::fs::write(&results, "[{\"truncated\": ").expect("write");
        let cfg = Config::demo(
            "http://127.0.0.1:1",
            dir.path().into(),
            dir.path().into(),
            "64.39.106.0/24",
        );
        let err = action_items(&spool, &rec, None, &cfg).expect_err("a cut-short body fails");
        assert!(err.contains("downloaded again"), "{err}");
        assert!(
            !results.exists(),
            "the bad file is gone, so the next try fetches it"
        );
    }

    #[test]
    fn the_baseline_is_the_latest_earlier_done_job_with_findings_in_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("spool"));
        let store = Store::open(&dir.path().join("store")).expect("store");
        let t = baseliner_core::time::Timestamp(1_704_067_200_000);
        // Accept jobs of two organizations; finish some, with or without findings.
        let mut ids = Vec::new();
        for (n, (org, done, csv)) in [
            ("Acme", true, true),
            ("Acme", true, true),
            ("Other", true, true),
            ("Acme", false, true),
            ("Acme", true, false),
            ("Acme", false, false),
        ]
        .into_iter()
        .enumerate()
        {
            let job = record("20240101-000000-000001", org, &["10.0.0.1"]).job;
            let (rec, _) = store
                .accept(&format!("k{n}"), "j.toml", &job, t)
                .expect("accept");
            if done {
                let mut cp = rec.checkpoint.clone();
                cp.state = JobState::Done {
                    scan: baseliner_core::state::ScanInfo {
                        scan_ref: "scan/1.1".into(),
                        launched_at: t,
                        target: None,
                    },
                    report_id: None,
                    note: None,
                };
                store.commit(&rec.id, &rec.checkpoint, &cp).expect("commit");
            }
            if csv {
                let d = spool.job_dir(rec.id.as_str());
                std::fs::create_dir_all(&d).expect("dir");
                std::fs::write(d.join("findings.csv"), "ip\r\n").expect("csv");
            }
            ids.push(rec);
        }
        let me = &ids[5];
        assert_eq!(
            baseline(&spool, &store, me).as_deref(),
            Some(ids[1].id.as_str()),
            "job 5 (no findings), 4 (failed) and 3 (another organization) are passed over"
        );
        assert_eq!(baseline(&spool, &store, &ids[0]), None);
    }
}
