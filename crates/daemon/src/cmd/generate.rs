//! `baseliner generate man|bash|zsh|fish`: prints the man page ([`super::manpage`]) or a
//! shell completion script (clap_complete), both made from the command line's definition
//! (`cli.rs`), so they cannot drift from it. The README's install section installs them.

use super::{runtime, Failure};
use crate::cli::{Cli, Generated};
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

/// Runs the command.
pub fn generate(what: Generated) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    let mut text = Vec::new();
    let shell = match what {
        Generated::Man => None,
        Generated::Bash => Some(Shell::Bash),
        Generated::Zsh => Some(Shell::Zsh),
        Generated::Fish => Some(Shell::Fish),
    };
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut cmd, "baseliner", &mut text),
        None => super::manpage::render(cmd, &mut text).map_err(runtime)?,
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(&text).and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(runtime(e)),
        _ => Ok(()),
    }
}
