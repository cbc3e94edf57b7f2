//! `baseliner sim`: the Qualys simulator alone, on loopback. Prints its URL, serves until
//! interrupted. With `--tls` it serves HTTPS, writes the CA certificate clients must trust
//! and prints that file's path on the second line.

use super::{runtime, usage, Failure};
use crate::cli::SimArgs;
use qualys_sim::{SimConfig, SimTls};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
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
    if !args.tls {
        return rt
            .block_on(qualys_sim::serve_forever(cfg, args.listen, |addr| {
                announce(&[format!("http://{addr}")]);
            }))
            .map_err(runtime);
    }
    let tls = SimTls::generate().map_err(runtime)?;
    let cert_path = args.tls_cert_out.clone().unwrap_or_else(default_cert_path);
    tls.write_ca_pem(&cert_path).map_err(runtime)?;
    rt.block_on(qualys_sim::serve_forever_tls(
        cfg,
        args.listen,
        &tls,
        |addr: SocketAddr| {
            announce(&[
                format!("https://{addr}"),
                format!("CA certificate (PEM): {}", cert_path.display()),
            ]);
        },
    ))
    .map_err(runtime)
}

/// `baseliner-sim-<pid>-ca.pem` in the temp directory.
fn default_cert_path() -> PathBuf {
    std::env::temp_dir().join(format!("baseliner-sim-{}-ca.pem", std::process::id()))
}

/// Prints `lines` to stdout and flushes, so a script reading the pipe sees them at once.
fn announce(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}
