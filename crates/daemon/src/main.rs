//! The `baseliner` binary: parses the command line, runs one command, maps failures to
//! SPEC.md's exit statuses (0 success, 1 failure at run time, 2 bad usage, bad config or
//! an invalid job). `anyhow` is used here and in `cmd/` only; the libraries have typed errors.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = baseliner::cli::Cli::parse();
    match baseliner::cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baseliner: {:#}", e.error);
            ExitCode::from(e.code)
        }
    }
}
