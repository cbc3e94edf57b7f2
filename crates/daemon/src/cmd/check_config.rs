//! `baseliner check-config [--online]`: every check the daemon makes before it sends
//! anything, without starting it: the config parses, the Qualys client can be built from
//! it (the same [`super::run::client_for`] `run` uses, so a URL with a path or an
//! unreadable `ca_file` fails here as it fails there), the password is found (and where),
//! and the alert command exists and is executable. Warnings (an empty scope) are printed
//! but do not fail. "valid" is printed only after every check passed. With `--online` it
//! also logs in once and checks that `[defaults].report_template_id` names a template a
//! report can be launched from (TYPE Manual or Auto, TEMPLATE_TYPE Scan), and says which.

use super::{load_config, runtime, usage, Failure};
use crate::credentials;
use baseliner_core::config::Config;
use baseliner_core::machine::template::{report_basis, ReportBasis};
use baseliner_qualys::ReportTemplate;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Runs the command.
pub fn check_config(path: &Path, online: bool) -> Result<(), Failure> {
    let cfg = load_config(path)?;
    let (password, source) = credentials::find(cfg.qualys.password_file.as_deref())
        .map_err(|e| usage(anyhow::anyhow!("{e}")))?;
    // The daemon's own validation of [qualys] (URL shape, proxy, ca_file).
    let client = super::run::client_for(&cfg, password)?;
    if let Some(argv) = &cfg.alerts.command {
        check_alert_command(argv).map_err(|e| usage(anyhow::anyhow!("[alerts].command: {e}")))?;
    }
    let warnings = warnings(&cfg);
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
            cfg.alerts
                .command
                .as_ref()
                .map(|a| a.join(" "))
                .unwrap_or_else(|| "no command".into())
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
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!("config {}: valid", path.display());
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

/// What is allowed but almost certainly a mistake.
fn warnings(cfg: &Config) -> Vec<String> {
    let mut w = Vec::new();
    if cfg.scope.authorized.is_empty() {
        w.push("[scope].authorized is empty: every job will be refused".to_string());
    }
    w
}

/// The program of `argv` must exist, be a regular file and be executable (by someone:
/// the daemon runs as another user than the operator checking the config). A bare name
/// is looked up in `$PATH`, as the daemon's spawn does.
fn check_alert_command(argv: &[String]) -> Result<PathBuf, String> {
    let Some(program) = argv.first() else {
        return Err("the command is empty".into());
    };
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join(program)).collect())
            .unwrap_or_default()
    };
    let mut last = format!("{program:?} not found in $PATH");
    for c in candidates {
        match std::fs::metadata(&c) {
            Ok(m) if !m.is_file() => last = format!("{} is not a regular file", c.display()),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                last = format!(
                    "{} is not executable (mode {:o})",
                    c.display(),
                    m.permissions().mode() & 0o7777
                )
            }
            Ok(_) => return Ok(c),
            Err(e) if program.contains('/') => last = format!("{}: {e}", c.display()),
            Err(_) => {}
        }
    }
    Err(last)
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
    let how = match report_basis(id, &crate::adapt::templates(list))? {
        ReportBasis::Scan => "Manual: scan-based, launched on the job's scan",
        ReportBasis::Hosts => "Auto: host-based, launched on the job's addresses",
    };
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

    #[test]
    fn alert_commands_must_exist_and_be_executable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("notify");
        std::fs::write(&script, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let argv = |p: &Path| vec![p.to_string_lossy().into_owned()];
        let e = check_alert_command(&argv(&script)).expect_err("not executable");
        assert!(e.contains("not executable"), "{e}");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(check_alert_command(&argv(&script)).expect("ok"), script);
        let e = check_alert_command(&argv(&dir.path().join("nope"))).expect_err("missing");
        assert!(e.contains("nope"), "{e}");
        let e = check_alert_command(&argv(dir.path())).expect_err("a directory");
        assert!(e.contains("not a regular file"), "{e}");
        let e = check_alert_command(&["no-such-program-xyz".into()]).expect_err("not in PATH");
        assert!(e.contains("not found in $PATH"), "{e}");
        assert!(check_alert_command(&["sh".into()]).is_ok(), "found in PATH");
    }
}
