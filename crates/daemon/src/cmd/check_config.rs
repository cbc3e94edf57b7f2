//! `baseliner check-config [--online]`: every check the daemon makes before it sends
//! anything, without starting it — [`crate::preflight::check`], the very function `run`
//! calls at start and the run loop at each SIGHUP: the file's mode, the config, the
//! scope, the password (and where it was found), the Qualys client (a URL with a path or
//! an unreadable `ca_file` fails here as it fails there), the alert command. "valid" is
//! printed only after every check passed. With `--online` it also logs in once and checks
//! that `[defaults].report_template_id` names a template a report can be launched from
//! (TYPE Manual or Auto, TEMPLATE_TYPE Scan), and says which.

use super::{refused, runtime, usage, Failure};
use baseliner_core::machine::template::report_basis;
use baseliner_qualys::ReportTemplate;
use std::path::Path;

/// Runs the command.
pub fn check_config(path: &Path, online: bool) -> Result<(), Failure> {
    let checked = crate::preflight::check(path).map_err(refused)?;
    let (cfg, source, client) = (&checked.config, &checked.source, &checked.client);
    let mut lines = vec![
        format!("  qualys   {} as {}", cfg.qualys.url, cfg.qualys.username),
        format!("  spool    {}", cfg.paths.spool.display()),
        format!("  state    {}", cfg.paths.state.display()),
        format!("  metrics  {}", cfg.paths.metrics_file().display()),
        format!(
            "  scope    {} ({} address(es))",
            cfg.scope.authorized,
            cfg.scope.authorized.len()
        ),
        format!("  password from {source}"),
        format!(
            "  alert    {}",
            match (&cfg.alerts.command, &checked.alert_program) {
                (Some(argv), Some(found)) => format!("{} ({})", argv.join(" "), found.display()),
                (Some(argv), None) => argv.join(" "),
                (None, _) => "no command".into(),
            }
        ),
    ];
    if online {
        let rt = super::runtime_for_daemon()?;
        rt.block_on(client.check_login())
            .map_err(|e| runtime(anyhow::anyhow!("login to {} failed: {e}", cfg.qualys.url)))?;
        lines.push("  login    ok".into());
        let template = cfg.defaults.report_template_id;
        if template != 0 {
            let list = rt
                .block_on(client.list_report_templates())
                .map_err(|e| runtime(anyhow::anyhow!("listing report templates: {e}")))?;
            let line = check_template(template, &list.value).map_err(|e| {
                usage(anyhow::anyhow!(
                    "[defaults].report_template_id = {template}: {e}"
                ))
            })?;
            lines.push(line);
        }
    }
    let mut out = super::out::Out::new();
    crate::outln!(out, "config {}: valid", path.display())?;
    for l in lines {
        crate::outln!(out, "{l}")?;
    }
    Ok(())
}

/// The report template `id` must exist with TYPE Manual (scan-based: the report is
/// launched on the scan) or Auto (host-based: on the job's addresses), and TEMPLATE_TYPE
/// Scan (a Patch, Map or Compliance template cannot report on a vulnerability scan).
/// Returns the line that says which.
fn check_template(id: u64, list: &[ReportTemplate]) -> Result<String, String> {
    let Some(t) = list.iter().find(|t| t.id == id) else {
        return Err(format!(
            "no such report template (the account has {})",
            list.iter()
                .map(|t| format!("{} {:?}", t.id, t.title))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    // The daemon's own rule, so that check-config and a job agree on every template.
    let how = crate::jobcheck::basis_words(report_basis(id, &crate::adapt::templates(list))?);
    Ok(format!("  template {id}: {} ({how})", t.title))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: u64, kind: &str, ttype: &str) -> ReportTemplate {
        ReportTemplate {
            id,
            title: format!("T{id}"),
            kind: Some(kind.into()),
            template_type: Some(ttype.into()),
        }
    }

    #[test]
    fn templates_must_be_scan_templates_of_a_known_type() {
        let list = [
            t(1, "Manual", "Scan"),
            t(2, "Auto", "Scan"),
            t(3, "Auto", "Patch"),
            t(4, "Odd", "Scan"),
        ];
        assert!(check_template(1, &list)
            .expect("manual")
            .contains("scan-based"));
        assert!(check_template(2, &list)
            .expect("auto")
            .contains("host-based"));
        assert!(check_template(3, &list)
            .expect_err("patch")
            .contains("Patch"));
        assert!(check_template(4, &list).expect_err("odd").contains("Odd"));
        assert!(check_template(9, &list)
            .expect_err("missing")
            .contains("no such"));
    }
}
