//! The baseline delta: this job's findings against the organization's previous finished
//! job, compared by (address, QID, port). Which job that is was chosen by the core when the
//! job entered `downloading` (`baseliner_core::machine::baseline`) and is kept in its
//! checkpoint, so a repeat after a crash compares against the same job even if another one
//! finished meanwhile.

use super::csv::Reader;
use super::error::ActionError;
use super::model::{parse_number, parse_port, parse_severity, Findings, Key, KeySet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// How many new or fixed findings are listed by name (all are counted).
pub const LIST_MAX: usize = 50;

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
}
