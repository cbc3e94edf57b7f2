//! `baseliner sim`: the Qualys simulator alone, on loopback. Prints its URL, serves until
//! interrupted. With `--tls` it serves HTTPS, writes the CA certificate clients must trust
//! and prints that file's path on the second line.

use super::{runtime, usage, Failure};
use crate::cli::SimArgs;
use qualys_sim::{SimConfig, SimTls};
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
    // A URL nobody can read serves no one: a failed announce ends the command with its
    // failure (quietly, exit 141, when the reader is gone).
    let (failed, announce_failed) = tokio::sync::oneshot::channel::<Failure>();
    let until_unread = async move {
        match announce_failed.await {
            Ok(f) => f,
            Err(_) => std::future::pending().await,
        }
    };
    if !args.tls {
        return rt.block_on(async {
            tokio::select! {
                r = qualys_sim::serve_forever(cfg, args.listen, |addr| {
                    if let Err(f) = announce(&[format!("http://{addr}")]) {
                        let _ = failed.send(f);
                    }
                }) => r.map_err(runtime),
                f = until_unread => Err(f),
            }
        });
    }
    let tls = SimTls::generate().map_err(runtime)?;
    let cert_path = args.tls_cert_out.clone().unwrap_or_else(default_cert_path);
    tls.write_ca_pem(&cert_path).map_err(runtime)?;
    rt.block_on(async {
        tokio::select! {
            r = qualys_sim::serve_forever_tls(cfg, args.listen, &tls, |addr: SocketAddr| {
                let lines = [
                    format!("https://{addr}"),
                    format!("CA certificate (PEM): {}", cert_path.display()),
                ];
                if let Err(f) = announce(&lines) {
                    let _ = failed.send(f);
                }
            }) => r.map_err(runtime),
            f = until_unread => Err(f),
        }
    })
}

/// `baseliner-sim-<pid>-ca.pem` in the temp directory.
fn default_cert_path() -> PathBuf {
    std::env::temp_dir().join(format!("baseliner-sim-{}-ca.pem", std::process::id()))
}

/// Prints `lines` to stdout and flushes, so a script reading the pipe sees them at once.
fn announce(lines: &[String]) -> Result<(), Failure> {
    let mut out = super::out::Out::new();
    for line in lines {
        crate::outln!(out, "{line}")?;
    }
    out.flush()
}
