//! `baseliner check-config [--online]`: validates the config, finds the password (and says
//! where), and with `--online` logs in once.

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
    }
    Ok(())
}
