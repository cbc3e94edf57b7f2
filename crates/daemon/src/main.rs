//! The `baseliner` binary: parses the command line, runs one command, maps failures to
//! SPEC.md's exit statuses (0 success, 1 failure at run time, 2 bad usage, bad config or
//! an invalid job; 141, quietly, when standard output was closed early, as for `ls | head`).
//! `anyhow` is used here and in `cmd/` only; the libraries have typed errors.

use baseliner::cmd::out;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match baseliner::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` go to stdout through the one writer (a closed pipe is
        // quiet, exit 141); usage errors are clap's (stderr, exit 2).
        Err(e) if !e.use_stderr() => {
            let text = e.render().to_string();
            return match out::Out::new().text(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(f) => ExitCode::from(f.code),
            };
        }
        Err(e) => e.exit(),
    };
    match baseliner::cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if out::is_closed_pipe(&e) => ExitCode::from(e.code),
        Err(e) => {
            out::warn(format_args!("baseliner: {:#}", e.error));
            ExitCode::from(e.code)
        }
    }
}
