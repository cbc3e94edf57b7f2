//! `baseliner sim`: the Qualys simulator alone, on loopback. Prints its URL, serves until
//! interrupted.

use super::{runtime, usage, Failure};
use crate::cli::SimArgs;
use qualys_sim::SimConfig;
use std::io::Write;
use std::time::Duration;

/// Runs the command.
pub fn sim(args: &SimArgs) -> Result<(), Failure> {
    if !args.listen.ip().is_loopback() {
        return Err(usage(anyhow::anyhow!(
            "--listen {}: the simulator only listens on loopback addresses",
            args.listen
        )));
    }
    let cfg = SimConfig {
        username: args.user.clone(),
        password: args.password.clone(),
        scan_running: Duration::from_secs(args.scan_seconds.saturating_sub(2).max(1)),
        ..SimConfig::default()
    };
    let rt = super::runtime_for_daemon()?;
    rt.block_on(qualys_sim::serve_forever(cfg, args.listen, |addr| {
        println!("http://{addr}");
        let _ = std::io::stdout().flush();
    }))
    .map_err(runtime)
}
