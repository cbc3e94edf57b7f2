//! Logging setup. Under systemd (`$JOURNAL_STREAM` set and the journal socket reachable)
//! events go to journald natively, with structured fields (`JOB_ID`, `SCAN_REF`, `STEP`)
//! that `journalctl JOB_ID=…` can filter on; elsewhere they are readable text on stderr.
//! One line per transition; never a secret.
//!
//! Untrusted text is escaped where it is logged ([`baseliner_core::text::escape_log`]); as a
//! second line of defence, a text event that still holds a control or bidirectional
//! character is escaped whole before it reaches stderr ([`EscapingWriter`]), so no event
//! can print a second, forged line.

use baseliner_core::text::{escape_log, is_unsafe_to_show};
use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `filter` (from `--log`) wins over `$BASELINER_LOG`; the default
/// is `default`.
pub fn init(filter: Option<&str>, default: &str) {
    let filter = filter
        .map(str::to_string)
        .or_else(|| std::env::var("BASELINER_LOG").ok())
        .unwrap_or_else(|| default.to_string());
    let env = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        if let Ok(journald) = tracing_journald::layer() {
            let journald = journald
                .with_field_prefix(None)
                .with_syslog_identifier("baseliner".into());
            // A second init (tests) keeps the first subscriber.
            let _ = tracing_subscriber::registry()
                .with(env)
                .with(journald)
                .try_init();
            return;
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(EscapedStderr)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// Makes one [`EscapingWriter`] over stderr per event.
pub struct EscapedStderr;

impl<'a> MakeWriter<'a> for EscapedStderr {
    type Writer = EscapingWriter<io::Stderr>;
    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter::new(io::stderr())
    }
}

/// Collects one formatted event and, when dropped, writes it to the inner writer as one
/// line: a trailing newline is kept, any other control, bidirectional or invisible format
/// character is escaped (the whole line then goes through `escape_log`).
pub struct EscapingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> EscapingWriter<W> {
    /// A writer over `inner`.
    pub fn new(inner: W) -> EscapingWriter<W> {
        EscapingWriter {
            inner,
            buf: Vec::new(),
        }
    }
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for EscapingWriter<W> {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let (line, newline) = match text.strip_suffix('\n') {
            Some(l) => (l, "\n"),
            None => (&*text, ""),
        };
        let line = if line.chars().any(is_unsafe_to_show) {
            escape_log(line)
        } else {
            line.into()
        };
        // Logging must not fail the daemon: a lost line is the lesser harm.
        let _ = self.inner.write_all(format!("{line}{newline}").as_bytes());
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(event: &str) -> String {
        let mut out = Vec::new();
        {
            let mut w = EscapingWriter::new(&mut out);
            // Written in pieces (even inside a character), as a formatter may.
            let (a, b) = event.as_bytes().split_at(event.len() / 2);
            w.write_all(a).expect("write");
            w.write_all(b).expect("write");
        }
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn an_event_stays_one_line() {
        let forged = "WARN rejected: CODE 999: bad\n2026-12-01T00:00:00Z  INFO accepted x\n";
        let out = through(forged);
        assert_eq!(out.lines().count(), 1, "{out:?}");
        assert!(
            out.ends_with("bad\\n2026-12-01T00:00:00Z  INFO accepted x\n"),
            "{out:?}"
        );
        assert_eq!(through("x\u{202E}y\n"), "x\\u{202e}y\n");
        let plain = "INFO accepted a\\nb.toml (already escaped)\n";
        assert_eq!(through(plain), plain, "clean lines pass untouched");
    }
}
