//! The commands. Each returns a [`Failure`] carrying SPEC.md's exit status.

mod cancel;
mod check_config;
mod demo;
mod generate;
mod hold;
mod manpage;
pub mod out;
mod purge;
mod retry;
mod run;
mod sim;
mod status;
mod status_doc;
mod submit;

use crate::cli::{Cli, Command};
use baseliner_core::config::Config;
use std::path::{Path, PathBuf};

/// A command's failure: the error and the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    /// 1: failure at run time; 2: bad usage, bad config or an invalid job.
    pub code: u8,
    /// What went wrong.
    pub error: anyhow::Error,
}

/// A failure at run time (exit status 1).
pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 1,
        error: error.into(),
    }
}

/// Bad usage, a bad config or an invalid job (exit status 2).
pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

/// Runs the command `cli` names.
pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    let config_path = cli.config.clone();
    let log = cli.log.as_deref();
    match cli.command {
        Command::Run => {
            crate::logging::init(log, "info");
            run::run(&config_path_or_default(config_path))
        }
        Command::Submit(args) => {
            crate::logging::init(log, "warn");
            submit::submit(&load_config(&config_path_or_default(config_path))?, &args)
        }
        Command::Status(args) => {
            crate::logging::init(log, "warn");
            status::status(&load_config(&config_path_or_default(config_path))?, &args)
        }
        Command::Cancel { id } => {
            crate::logging::init(log, "warn");
            cancel::cancel(&load_config(&config_path_or_default(config_path))?, &id)
        }
        Command::Retry { id } => {
            crate::logging::init(log, "warn");
            retry::retry(&load_config(&config_path_or_default(config_path))?, &id)
        }
        Command::Hold { id } => {
            crate::logging::init(log, "warn");
            hold::hold(
                &load_config(&config_path_or_default(config_path))?,
                &id,
                true,
            )
        }
        Command::Release { id } => {
            crate::logging::init(log, "warn");
            hold::hold(
                &load_config(&config_path_or_default(config_path))?,
                &id,
                false,
            )
        }
        Command::Purge {
            older_than,
            dry_run,
        } => {
            crate::logging::init(log, "warn");
            let cfg = load_config(&config_path_or_default(config_path))?;
            purge::purge(&cfg, &older_than, dry_run)
        }
        Command::CheckConfig { online } => {
            crate::logging::init(log, "warn");
            check_config::check_config(&config_path_or_default(config_path), online)
        }
        Command::Demo(args) => {
            refuse_config("demo", config_path.as_deref())?;
            crate::logging::init(log, "warn");
            demo::demo(&args)
        }
        Command::Generate { what } => {
            refuse_config("generate", config_path.as_deref())?;
            generate::generate(what)
        }
        Command::Sim(args) => {
            refuse_config("sim", config_path.as_deref())?;
            crate::logging::init(log, "info");
            sim::sim(&args)
        }
    }
}

/// `demo` and `sim` make their own settings and `generate` reads none: a `--config` given
/// to them would be ignored, so it is refused (bad usage) rather than silently dropped.
fn refuse_config(command: &str, flag: Option<&Path>) -> Result<(), Failure> {
    match flag {
        Some(p) => {
            let why = if command == "generate" {
                "it prints what the command line defines"
            } else {
                "it makes its own, for the built-in simulator"
            };
            Err(usage(anyhow::anyhow!(
                "`baseliner {command}` reads no config ({why}); remove --config {}",
                p.display()
            )))
        }
        None => Ok(()),
    }
}

/// `--config`, else `$BASELINER_CONFIG`, else `/etc/baseliner/baseliner.toml`.
pub fn config_path_or_default(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("BASELINER_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/etc/baseliner/baseliner.toml"))
}

/// Reads and validates the config for a command that only reads the spool (`submit`,
/// `status`, `cancel`); any problem is a usage failure naming the file and key. `run` and
/// `check-config` check more ([`crate::preflight::check`]).
pub fn load_config(path: &Path) -> Result<Config, Failure> {
    crate::preflight::read(path, false).map_err(refused)
}

/// A config the checks refuse (exit status 2), in the checks' own words: the message
/// already holds its causes, so they are not chained again.
pub fn refused(error: crate::preflight::PreflightError) -> Failure {
    usage(anyhow::anyhow!("{error}"))
}

/// A multi-threaded tokio runtime sized for this workload (two workers).
pub fn runtime_for_daemon() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(runtime)
}
