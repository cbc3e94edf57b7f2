//! `baseliner check-config [--online]`: validates the config, finds the password (and says
//! where), and with `--online` logs in once and checks that the default report template
//! exists.

use super::{load_config, runtime, usage, Failure};
use crate::credentials;
use std::path::Path;

/// Runs the command.
pub fn check_config(path: &Path, online: bool) -> Result<(), Failure> {
    let cfg = load_config(path)?;
    println!("config {}: valid", path.display());
    println!("  qualys   {} as {}", cfg.qualys.url, cfg.qualys.username);
    println!("  spool    {}", cfg.paths.spool.display());
    println!("  state    {}", cfg.paths.state.display());
    println!(
        "  scope    {} ({} address(es))",
        cfg.scope.authorized,
        cfg.scope.authorized.len()
    );
    let (password, source) = credentials::find(cfg.qualys.password_file.as_deref())
        .map_err(|e| usage(anyhow::anyhow!("{e}")))?;
    println!("  password from {source}");
    if online {
        let client = super::run::client_for(&cfg, password)?;
        let rt = super::runtime_for_daemon()?;
        rt.block_on(client.check_login())
            .map_err(|e| runtime(anyhow::anyhow!("login to {} failed: {e}", cfg.qualys.url)))?;
        println!("  login    ok");
        let template = cfg.defaults.report_template_id;
        if template != 0 {
            let list = rt
                .block_on(client.list_report_templates())
                .map_err(|e| runtime(anyhow::anyhow!("listing report templates: {e}")))?;
            match list.value.iter().find(|t| t.id == template) {
                Some(t) => println!("  template {template}: {}", t.title),
                None => {
                    return Err(usage(anyhow::anyhow!(
                        "[defaults].report_template_id = {template}: no such report template \
                         (the account has {})",
                        list.value
                            .iter()
                            .map(|t| format!("{} {:?}", t.id, t.title))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
        }
    }
    Ok(())
}
