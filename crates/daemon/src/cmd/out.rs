//! Writing a command's output: one helper for every command. A reader that goes away
//! (`baseliner status | head -1`, `| true`) makes the next write fail with EPIPE; the
//! command then stops at once and exits quietly with status 141 — what a shell reports for
//! `ls | head` when `ls` dies of SIGPIPE — instead of panicking (`println!`) with exit 101.
//! Any other write error is a failure at run time (exit 1) naming standard output. Warnings
//! to a closed standard error are dropped, never a panic.

use super::{runtime, Failure};
use std::fmt;
use std::io::{self, Write};

/// The exit status of a command whose standard output was closed: 128 + SIGPIPE (13).
pub const CLOSED_PIPE: u8 = 141;

/// The marker error of a closed standard output (nothing is printed for it).
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct ClosedPipe;

/// The failure of a command whose standard output was closed (exit status 141, quiet).
pub fn closed_pipe() -> Failure {
    Failure {
        code: CLOSED_PIPE,
        error: ClosedPipe.into(),
    }
}

/// True for the quiet failure of [`closed_pipe`]: `main` prints nothing for it.
pub fn is_closed_pipe(f: &Failure) -> bool {
    f.error.is::<ClosedPipe>()
}

/// The failure a write to standard output ended with.
pub fn write_failed(e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        closed_pipe()
    } else {
        runtime(anyhow::anyhow!("writing to standard output: {e}"))
    }
}

/// Standard output, locked for the command's lifetime.
pub struct Out(io::StdoutLock<'static>);

impl Out {
    /// Locks standard output.
    pub fn new() -> Out {
        Out(io::stdout().lock())
    }

    /// Writes one line (`outln!` builds the arguments).
    pub fn line(&mut self, args: fmt::Arguments<'_>) -> Result<(), Failure> {
        writeln!(self.0, "{args}").map_err(|e| write_failed(&e))
    }

    /// Writes `text` as it is and flushes (a help text, a partial line).
    pub fn text(&mut self, text: &str) -> Result<(), Failure> {
        self.0
            .write_all(text.as_bytes())
            .and_then(|()| self.0.flush())
            .map_err(|e| write_failed(&e))
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), Failure> {
        self.0.flush().map_err(|e| write_failed(&e))
    }
}

impl Default for Out {
    fn default() -> Out {
        Out::new()
    }
}

/// A line on standard error; a closed standard error drops it.
pub fn warn(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// `outln!(out, "…", args)`: one line to an [`Out`], `?`-able.
#[macro_export]
macro_rules! outln {
    ($out:expr) => {
        $out.line(format_args!(""))
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}
