//! Test fixtures shared by the action-item tests: job records and findings built from
//! short tables.

use super::findings::read_results_from;
use super::model::Findings;
use baseliner_core::ip::IpSet;
use baseliner_core::job::{Job, ReportFormat, Results, TrackingMethod};
use baseliner_core::state::Checkpoint;
use baseliner_core::store::{JobId, JobRecord};
use baseliner_core::time::Timestamp;

/// A freshly accepted job record of `organization` for `ips`.
pub fn record(id: &str, organization: &str, ips: &[&str]) -> JobRecord {
    JobRecord {
        id: JobId::parse(id).expect("test job id is valid"),
        intake_key: format!("key-{id}"),
        source_name: format!("{id}.toml"),
        accepted_at: Timestamp(0),
        job: Job {
            organization: organization.to_owned(),
            ips: IpSet::parse_entries(ips).expect("test ips parse"),
            option_title: "Profile".to_owned(),
            scan_title: "Scan".to_owned(),
            comments: String::new(),
            report_template_id: None,
            report_format: ReportFormat::Pdf,
            results: Results {
                report: false,
                raw: true,
            },
            scanner_appliance: None,
            tracking_method: TrackingMethod::Ip,
        },
        checkpoint: Checkpoint::accepted(Timestamp(0)),
        generation: 0,
        held: false,
        retried_as: None,
    }
}

/// Raw results JSON with target `target` and findings `(ip, qid, severity)` on port 443.
pub fn results_json(target: &str, rows: &[(&str, u32, u8)]) -> String {
    let mut json = format!(
        r#"[{{"company":"C"}},{{"reference":"scan/1.2","duration":"00:05:00","ips":"{target}","total_hosts":"1"}}"#
    );
    for (ip, qid, sev) in rows {
        json.push_str(&format!(
            r#",{{"ip":"{ip}","dns":"","qid":"{qid}","title":"Title {qid}","type":"Vuln","severity":"{sev}","port":"443","protocol":"tcp","threat":"t"}}"#
        ));
    }
    json.push_str(r#",{"target_distribution_across_scanner_appliances":"x"}]"#);
    json
}

/// Sorted findings from [`results_json`].
pub fn findings(target: &str, rows: &[(&str, u32, u8)]) -> Findings {
    let mut f = read_results_from(results_json(target, rows).as_bytes()).expect("test JSON parses");
    f.sort();
    f
}

/// The summary of `rec` with findings `f` (`None`: no machine-readable results), no
/// baseline, threshold 4 and the default remediation deadlines.
pub fn summary(rec: &JobRecord, f: Option<&Findings>) -> super::summary::Summary {
    let rem = baseliner_core::config::RemediationConfig::default();
    super::summary::Summary::build(super::summary::Inputs {
        rec,
        findings: f.map(|f| (f, "results.json")),
        coverage: super::coverage::build(&rec.job.ips, None, f),
        delta: None,
        min_severity: 4,
        remediation: &rem,
    })
}
