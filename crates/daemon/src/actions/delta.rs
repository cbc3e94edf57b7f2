//! The baseline delta: this job's findings against the organization's previous finished
//! job, compared by (address, QID, port). The baseline chosen on the first run is pinned
//! in `jobs/ID/.delta-baseline`, so a repeat after a crash compares against the same job
//! even if another one finished meanwhile.

use super::csv::Reader;
use super::error::ActionError;
use super::model::{parse_number, parse_port, parse_severity, Findings, Key, KeySet};
use crate::fsutil;
use crate::spool::Spool;
use crate::status;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

/// How many new or fixed findings are listed by name (all are counted).
pub const LIST_MAX: usize = 50;

/// The file pinning the chosen baseline (its id, or empty for none).
pub const PIN_FILE: &str = ".delta-baseline";

/// One finding named in the delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Address.
    pub ip: String,
    /// Qualys ID.
    pub qid: u32,
    /// Port, when there is one.
    pub port: Option<u16>,
    /// Severity (0 unknown).
    pub severity: u8,
    /// Title.
    pub title: String,
}

/// What changed since the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// The baseline job's id.
    pub baseline_id: String,
    /// Findings not in the baseline: the first [`LIST_MAX`], worst first.
    pub new: Vec<Change>,
    /// How many new findings (distinct keys).
    pub new_count: u64,
    /// New findings at or above the alert threshold: the first [`LIST_MAX`], worst first.
    pub new_alerting: Vec<Change>,
    /// How many new findings reach the alert threshold.
    pub new_alerting_count: u64,
    /// Baseline findings no longer found: the first [`LIST_MAX`], in the baseline's order.
    pub fixed: Vec<Change>,
    /// How many fixed findings.
    pub fixed_count: u64,
    /// How many findings are in both.
    pub unchanged_count: u64,
}

/// The baseline of job `id` of `organization`: pinned on the first call, then reused.
/// It is the latest `done` job of the same organization with a smaller id that has a
/// `findings.csv`.
pub fn baseline_for(
    spool: &Spool,
    id: &str,
    organization: &str,
) -> Result<Option<String>, ActionError> {
    let pin = spool.job_dir(id).join(PIN_FILE);
    match std::fs::read_to_string(&pin) {
        Ok(text) => {
            let b = text.trim();
            return Ok((!b.is_empty()).then(|| b.to_owned()));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(ActionError::io(&pin, e)),
    }
    let (all, _unreadable) =
        status::read_all(spool).map_err(|e| ActionError::io(&spool.jobs(), e))?;
    let chosen = all
        .into_iter()
        .filter(|s| {
            s.organization == organization
                && s.id.as_str() < id
                && s.state == "done"
                && spool.job_dir(&s.id).join("findings.csv").is_file()
        })
        .map(|s| s.id)
        .max();
    let text = chosen.clone().unwrap_or_default();
    fsutil::write_atomic(&pin, text.as_bytes()).map_err(|e| ActionError::io(&pin, e))?;
    Ok(chosen)
}

/// Compares `current` (sorted worst first) with the baseline's `findings.csv`; also gives
/// the baseline's keys (for the `change` column of `findings.csv`). Memory: two sorted key
/// vectors (16 bytes a finding each) and one bit per current finding.
pub fn compare(
    baseline_id: &str,
    baseline_csv: &Path,
    current: &Findings,
    min_severity: u8,
) -> Result<(Delta, KeySet), ActionError> {
    let s = &current.strings;
    let current_keys = KeySet::new(current.rows.iter().map(|f| Key::of(f, s)).collect());
    let mut previous: Vec<Key> = Vec::new();
    let mut listed: Vec<Key> = Vec::new();
    let mut d = Delta {
        baseline_id: baseline_id.to_owned(),
        new: Vec::new(),
        new_count: 0,
        new_alerting: Vec::new(),
        new_alerting_count: 0,
        fixed: Vec::new(),
        fixed_count: 0,
        unchanged_count: 0,
    };
    read_baseline(baseline_csv, |key, change| {
        previous.push(key);
        if listed.len() < LIST_MAX && !current_keys.contains(&key) && !listed.contains(&key) {
            listed.push(key);
            d.fixed.push(change());
        }
    })?;
    let previous = KeySet::new(previous);
    d.unchanged_count = previous.iter().filter(|k| current_keys.contains(k)).count() as u64;
    d.fixed_count = previous.len() as u64 - d.unchanged_count;
    // One bit per distinct current key: each new finding is counted once.
    let mut seen = vec![0u64; current_keys.len().div_ceil(64)];
    for f in &current.rows {
        let key = Key::of(f, s);
        if previous.contains(&key) {
            continue;
        }
        let Some(i) = current_keys.index_of(&key) else {
            continue;
        };
        if seen[i / 64] & (1 << (i % 64)) != 0 {
            continue;
        }
        seen[i / 64] |= 1 << (i % 64);
        let change = || Change {
            ip: s.get(f.ip).to_owned(),
            qid: f.qid,
            port: f.port,
            severity: f.severity,
            title: s.get(f.title).to_owned(),
        };
        d.new_count += 1;
        if d.new.len() < LIST_MAX {
            d.new.push(change());
        }
        if f.severity >= min_severity {
            d.new_alerting_count += 1;
            if d.new_alerting.len() < LIST_MAX {
                d.new_alerting.push(change());
            }
        }
    }
    Ok((d, previous))
}

/// Calls `each` with the key of every row of a `findings.csv`, and a way to make the
/// row's [`Change`] (built only when needed).
fn read_baseline(
    path: &Path,
    mut each: impl FnMut(Key, &dyn Fn() -> Change),
) -> Result<(), ActionError> {
    let file = File::open(path).map_err(|e| ActionError::io(path, e))?;
    let mut r = Reader::new(BufReader::new(file));
    let csv_err = |(line, message): (u64, String)| ActionError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    };
    let Some((_, header)) = r.next_record().map_err(csv_err)? else {
        return Ok(());
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ActionError::Csv {
                path: path.to_path_buf(),
                line: 1,
                message: format!("no column {name:?}"),
            })
    };
    let (ip, qid, port, sev, title) = (
        col("ip")?,
        col("qid")?,
        col("port")?,
        col("severity")?,
        col("title")?,
    );
    while let Some((_, rec)) = r.next_record().map_err(csv_err)? {
        let field = |i: usize| rec.get(i).map_or("", String::as_str);
        let q = parse_number(field(qid))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let p = parse_port(field(port));
        let key = Key::from_text(field(ip), q, p);
        each(key, &|| Change {
            ip: field(ip).to_owned(),
            qid: q,
            port: p,
            severity: parse_severity(field(sev)),
            title: field(title).to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::csv::write_findings;
    use crate::actions::findings::read_results_from;

    fn findings(rows: &[(&str, u32, &str, u8)]) -> Findings {
        let mut json = String::from("[{},{}");
        for (ip, qid, port, sev) in rows {
            json.push_str(&format!(
                r#",{{"ip":"{ip}","qid":"{qid}","port":"{port}","severity":"{sev}","title":"Q{qid}"}}"#
            ));
        }
        json.push(']');
        let mut f = read_results_from(json.as_bytes()).expect("parses");
        f.sort();
        f
    }

    #[test]
    fn new_fixed_and_unchanged_between_two_jobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let before = findings(&[
            ("10.0.0.1", 1, "80", 3),
            ("10.0.0.1", 2, "443", 5),
            ("10.0.0.2", 3, "", 2),
        ]);
        let csv = dir.path().join("findings.csv");
        let rem = baseliner_core::config::RemediationConfig::default();
        let ctx = crate::actions::csv::RowContext {
            baseline: None,
            remediation: &rem,
            scan_date: None,
        };
        write_findings(&csv, &before, &ctx).expect("baseline csv");
        let now = findings(&[
            ("10.0.0.1", 1, "80", 3),   // unchanged
            ("10.0.0.1", 2, "8443", 5), // other port: new, and 443 is fixed
            ("10.0.0.3", 4, "22", 4),   // new
            ("10.0.0.3", 5, "", 1),     // new, below threshold
        ]);
        let (d, keys) = compare("JOB-A", &csv, &now, 4).expect("compares");
        assert_eq!(keys.len(), 3);
        assert_eq!(d.baseline_id, "JOB-A");
        assert_eq!((d.new_count, d.fixed_count, d.unchanged_count), (3, 2, 1));
        let new: Vec<(&str, u32, Option<u16>)> = d
            .new
            .iter()
            .map(|c| (c.ip.as_str(), c.qid, c.port))
            .collect();
        assert_eq!(
            new,
            vec![
                ("10.0.0.1", 2, Some(8443)),
                ("10.0.0.3", 4, Some(22)),
                ("10.0.0.3", 5, None)
            ]
        );
        assert_eq!(d.new_alerting_count, 2);
        assert_eq!(d.new_alerting[1].title, "Q4");
        let fixed: Vec<(u32, Option<u16>, u8)> = d
            .fixed
            .iter()
            .map(|c| (c.qid, c.port, c.severity))
            .collect();
        assert_eq!(fixed, vec![(2, Some(443), 5), (3, None, 2)]);
    }

    #[test]
    fn baseline_is_the_latest_earlier_done_job_and_is_pinned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path());
        let job = |id: &str, org: &str, state: &str, csv: bool| {
            let d = spool.job_dir(id);
            std::fs::create_dir_all(&d).expect("job dir");
            let st = serde_json::json!({
                "id": id, "organization": org, "state": state, "scan_ref": null,
                "scan_state": null, "report_id": null, "error": null, "last_error": null,
                "updated_at": "", "accepted_at": "", "next_action_at": null, "ips": "",
                "source": "", "history": [], "outputs": []
            });
            std::fs::write(spool.status_file(id), st.to_string()).expect("status");
            if csv {
                std::fs::write(d.join("findings.csv"), "ip\r\n").expect("csv");
            }
        };
        job("20240101-000000-000001", "Acme", "done", true);
        job("20240102-000000-000002", "Acme", "done", true);
        job("20240103-000000-000003", "Other", "done", true);
        job("20240104-000000-000004", "Acme", "failed", true);
        job("20240105-000000-000005", "Acme", "done", false);
        job("20240106-000000-000006", "Acme", "downloading", false);
        let me = "20240106-000000-000006";
        assert_eq!(
            baseline_for(&spool, me, "Acme").expect("reads"),
            Some("20240102-000000-000002".to_string())
        );
        // A later-finishing earlier job does not change the pinned choice.
        std::fs::write(
            spool.job_dir("20240105-000000-000005").join("findings.csv"),
            "ip\r\n",
        )
        .expect("csv");
        assert_eq!(
            baseline_for(&spool, me, "Acme").expect("reads"),
            Some("20240102-000000-000002".to_string())
        );
        assert_eq!(
            baseline_for(&spool, "20240101-000000-000001", "Acme").expect("reads"),
            None
        );
    }
}
