//! The systemd notification protocol (`sd_notify`): READY=1, STATUS=…, WATCHDOG=1 and
//! STOPPING=1 sent as datagrams to `$NOTIFY_SOCKET`. A no-op when not run by systemd.
//! The socket is non-blocking: when its receiver does not read (its queue holds only a
//! few datagrams), a notification is dropped, never the run loop stalled.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// A connection to systemd's notification socket, if there is one.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
    watchdog: Option<Duration>,
}

/// A non-blocking socket to send to `path`.
fn connect(path: String) -> Option<(UnixDatagram, String)> {
    let sock = UnixDatagram::unbound().ok()?;
    if let Err(e) = sock.set_nonblocking(true) {
        tracing::warn!("NOTIFY_SOCKET: {e}; systemd notifications are off");
        return None;
    }
    Some((sock, path))
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (abstract sockets, `@…`, are not supported
    /// without unsafe code and are skipped with a warning).
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok().and_then(|path| {
            if path.starts_with('@') {
                tracing::warn!(
                    "NOTIFY_SOCKET is an abstract socket; systemd notifications are off"
                );
                return None;
            }
            connect(path)
        });
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| *v > 0)
            .map(Duration::from_micros);
        Notifier { socket, watchdog }
    }

    /// A notifier that sends nothing (the demo).
    pub fn disabled() -> Notifier {
        Notifier {
            socket: None,
            watchdog: None,
        }
    }

    /// True when running under systemd's notification protocol.
    pub fn enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// How often to send WATCHDOG=1 (half the configured watchdog interval), if enabled.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    fn send(&self, msg: &str) {
        if let Some((sock, path)) = &self.socket {
            if let Err(e) = sock.send_to(msg.as_bytes(), path) {
                tracing::debug!("sd_notify {msg:?} failed: {e}");
            }
        }
    }

    /// READY=1 with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&format!(
            "READY=1\nSTATUS={}",
            baseliner_core::text::one_line(status)
        ));
    }

    /// STATUS=… (a one-line summary).
    pub fn status(&self, status: &str) {
        self.send(&format!(
            "STATUS={}",
            baseliner_core::text::one_line(status)
        ));
    }

    /// WATCHDOG=1.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// STOPPING=1.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// RELOADING=1 is not sent: a reload is instantaneous and systemd needs a monotonic
    /// timestamp with it; STATUS reports the reload instead.
    pub fn reloaded(&self, status: &str) {
        self.status(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_ready_to_the_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).expect("bind");
        let n = Notifier {
            socket: Some((
                UnixDatagram::unbound().expect("socket"),
                path.to_string_lossy().into_owned(),
            )),
            watchdog: Some(Duration::from_secs(20)),
        };
        n.ready("3 jobs\nactive");
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=3 jobs active");
        assert_eq!(n.watchdog_every(), Some(Duration::from_secs(10)));
    }

    #[test]
    fn a_receiver_that_does_not_read_never_blocks_the_daemon() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).expect("bind");
        let path = path.to_string_lossy().into_owned();
        // The socket from_env makes.
        let n = Notifier {
            socket: connect(path),
            watchdog: None,
        };
        assert!(n.enabled());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Far more than a datagram queue holds (net.unix.max_dgram_qlen, 10 by default).
            for i in 0..1000 {
                n.status(&format!("line {i}"));
            }
            let _ = done_tx.send(());
        });
        done_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the notifier blocked on a full socket");
        let mut buf = [0u8; 64];
        let len = server.recv(&mut buf).expect("the first ones arrived");
        assert_eq!(&buf[..len], b"STATUS=line 0");
    }
}
