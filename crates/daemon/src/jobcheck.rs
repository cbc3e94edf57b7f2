//! The pre-flight's checks of a job against what Qualys lists — its report template (by
//! the core's rule, [`report_basis`]) and its scanner appliance — in one place for the
//! daemon (the executor's [`Action::Preflight`](baseliner_core::state::Action), its
//! calls through the governors) and the CLI (`submit --online`, `check-config --online`,
//! straight through the client). Each problem names the job field it comes from.

use baseliner_core::job::Job;
use baseliner_core::machine::template::{report_basis, ReportBasis};
use baseliner_qualys::{Appliance, Client, ReportTemplate};

/// Why the job's report template would fail the job after its scan, naming the field;
/// `None` when no report is planned or the template will do.
pub fn template_problem(job: &Job, list: &[ReportTemplate]) -> Option<String> {
    let id = job.report_template_id.filter(|_| job.plan_report())?;
    report_basis(id, &crate::adapt::templates(list))
        .err()
        .map(|why| format!("report_template_id: {why}"))
}

/// The id of the scanner appliance named `name`, or why there is none (naming the field).
pub fn appliance_id(name: &str, list: &[Appliance]) -> Result<u64, String> {
    list.iter()
        .find(|a| a.name == name)
        .map(|a| a.id)
        .ok_or_else(|| {
            format!(
            "scanner_appliance: scanner appliance {name:?} is not in the subscription (it has {})",
            list.iter()
                .map(|a| format!("{:?}", a.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
        })
}

/// How a template is targeted, in words, for the CLI.
pub fn basis_words(basis: ReportBasis) -> &'static str {
    match basis {
        ReportBasis::Scan => "Manual: scan-based, launched on the job's scan",
        ReportBasis::Hosts => "Auto: host-based, launched on the job's addresses",
    }
}

/// The CLI's pre-flight of `job`: reads the lists the job needs through `client` and checks
/// it as the daemon will. `Ok` holds the lines to print; `Err` why the job cannot succeed
/// (or why the lists could not be read, prefixed so).
pub async fn check_online(client: &Client, job: &Job) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    if let Some(id) = job.report_template_id.filter(|_| job.plan_report()) {
        let list = client
            .list_report_templates()
            .await
            .map_err(|e| format!("cannot list the report templates: {e}"))?
            .value;
        if let Some(problem) = template_problem(job, &list) {
            return Err(problem);
        }
        if let Ok(basis) = report_basis(id, &crate::adapt::templates(&list)) {
            let title = list
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.title.as_str())
                .unwrap_or("");
            lines.push(format!("  template {id}: {title} ({})", basis_words(basis)));
        }
    }
    if let Some(name) = job.scanner_appliance.as_deref() {
        let list = client
            .list_appliances()
            .await
            .map_err(|e| format!("cannot list the scanner appliances: {e}"))?
            .value;
        let id = appliance_id(name, &list)?;
        lines.push(format!("  scanner  {name} (appliance {id})"));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::testutil::record;

    fn t(id: u64, kind: &str, ttype: &str) -> ReportTemplate {
        ReportTemplate {
            id,
            title: format!("T{id}"),
            kind: Some(kind.into()),
            template_type: Some(ttype.into()),
        }
    }

    #[test]
    fn a_template_problem_names_the_field_and_only_counts_when_a_report_is_planned() {
        let list = [t(1, "Manual", "Scan"), t(3, "Auto", "Patch")];
        let mut job = record("20261202-000000-000001", "Org", &["64.39.106.1"]).job;
        job.results.report = true;
        job.report_template_id = Some(1);
        assert_eq!(template_problem(&job, &list), None);
        job.report_template_id = Some(3);
        let p = template_problem(&job, &list).expect("a Patch template");
        assert!(
            p.starts_with("report_template_id: ") && p.contains("Patch"),
            "{p}"
        );
        job.report_template_id = Some(9);
        let p = template_problem(&job, &list).expect("unknown");
        assert!(p.contains("report template 9"), "{p}");
        job.results.report = false;
        assert_eq!(template_problem(&job, &list), None, "no report planned");
    }

    #[test]
    fn an_appliance_is_found_by_its_exact_name() {
        let list = [
            Appliance {
                id: 7,
                name: "scanner-dc1".into(),
            },
            Appliance {
                id: 8,
                name: "scanner-dc2".into(),
            },
        ];
        assert_eq!(appliance_id("scanner-dc2", &list), Ok(8));
        let e = appliance_id("Scanner-DC2", &list).expect_err("case matters");
        assert!(
            e.starts_with("scanner_appliance: ") && e.contains("scanner-dc1"),
            "{e}"
        );
    }
}
