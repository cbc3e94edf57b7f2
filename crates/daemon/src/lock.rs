//! One daemon per spool and per state directory: the daemon (`baseliner run`, `baseliner
//! demo`) takes an exclusive `flock` on `SPOOL/.daemon.lock` and on `STATE/daemon.lock`
//! before it writes anything, holds both until it exits, and writes its pid into each. A
//! second daemon on either is refused, naming the lock file and the holder's pid.
//!
//! The lock files are opened with `O_NOFOLLOW`, never truncated before the lock is held,
//! and made mode 0600: nobody else may open them, so nobody else can hold a lock on them
//! and keep the daemon from starting. `baseliner status`, run by a member of the submit
//! group, tells whether a daemon runs ([`probe`]) without opening the file: it reads the
//! kernel's table of held locks (`/proc/locks`) for an exclusive `flock` on the lock file's
//! inode, whatever `daemon.json` says.

use crate::spool::Spool;
use rustix::fs::{flock, FlockOperation};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The state directory's lock file, `STATE/daemon.lock`.
pub fn state_lock(state: &Path) -> PathBuf {
    state.join("daemon.lock")
}

/// The lock files' mode: the daemon's alone (see the module doc).
const MODE: u32 = 0o600;

/// How long a daemon keeps trying a lock held by someone else (a daemon that is stopping
/// releases its lock a moment before its process is gone).
const PATIENCE: Duration = Duration::from_secs(1);

/// The kernel's table of held file locks.
const PROC_LOCKS: &str = "/proc/locks";

/// Why the daemon cannot have its locks.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock: another daemon on this spool or state directory.
    #[error(
        "{} is held by another baseliner daemon ({}): one daemon per spool and per state \
         directory; stop it first, or give this one its own [paths].spool and [paths].state",
        path.display(),
        holder.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"))
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The pid written in it, if any.
        holder: Option<u32>,
    },
    /// The lock file could not be opened, locked or written.
    #[error("lock file {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// The daemon's locks, held while this value lives (the kernel releases them when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct DaemonLock {
    _files: Vec<File>,
}

impl DaemonLock {
    /// Keeps the locks until the process exits, work left behind at a stop included.
    pub fn hold_until_exit(self) {
        std::mem::forget(self);
    }
}

/// Takes the spool's lock, then the state directory's; on any failure, none is kept.
pub fn acquire(spool: &Spool, state: &Path) -> Result<DaemonLock, LockError> {
    let spool_lock = take(&spool.daemon_lock())?;
    let state_lock = take(&state_lock(state))?;
    Ok(DaemonLock {
        _files: vec![spool_lock, state_lock],
    })
}

/// Opens (creating it if missing, without truncating it) and locks one lock file, then
/// writes this process's pid into it.
fn take(path: &Path) -> Result<File, LockError> {
    let io_err = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io_err(io::Error::other(
                "a symbolic link: remove it (the daemon creates its lock file itself)",
            )),
            _ => io_err(e),
        })?;
    if !file.metadata().map_err(io_err)?.is_file() {
        return Err(io_err(io::Error::other(
            "not a regular file: remove it (the daemon creates its lock file itself)",
        )));
    }
    let start = Instant::now();
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => break,
            Err(e) if e == rustix::io::Errno::WOULDBLOCK && start.elapsed() < PATIENCE => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(LockError::Held {
                    path: path.to_path_buf(),
                    holder: holder_in(&mut file),
                })
            }
            Err(e) => return Err(io_err(e.into())),
        }
    }
    // Ours now: say who holds it.
    let written = (|| {
        file.set_permissions(std::fs::Permissions::from_mode(MODE))?;
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()
    })();
    written.map_err(io_err)?;
    Ok(file)
}

/// The pid a lock file holds (its first line), if it is one.
fn holder_in(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// What a test of the spool's lock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A daemon holds it; its pid, when the file names one yet.
    Held(Option<u32>),
    /// Nobody holds it: no daemon runs on this spool.
    Free,
    /// There is no lock file (no daemon of this version ever ran on this spool).
    Absent,
}

/// Tests the spool's lock without opening it: finds an exclusive `flock` on its inode in
/// `/proc/locks` (the holder's pid comes from there).
pub fn probe(path: &Path) -> io::Result<Probe> {
    probe_in(path, Path::new(PROC_LOCKS))
}

fn probe_in(path: &Path, table: &Path) -> io::Result<Probe> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Probe::Absent),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    };
    if !meta.file_type().is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file (the daemon creates its lock file itself)",
            path.display()
        )));
    }
    let dev = meta.dev();
    let text = std::fs::read_to_string(table)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", table.display())))?;
    let wanted = (
        u64::from(rustix::fs::major(dev)),
        u64::from(rustix::fs::minor(dev)),
        meta.ino(),
    );
    Ok(text
        .lines()
        .find_map(|line| held_flock(line).filter(|(_, at)| *at == wanted))
        .map_or(Probe::Free, |(pid, _)| Probe::Held(Some(pid))))
}

/// One line of `/proc/locks` (`1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`): the pid
/// and (major, minor, inode) of a granted exclusive flock; `None` for any other line (a
/// shared lock, a POSIX lock, a waiter `->`).
fn held_flock(line: &str) -> Option<(u32, (u64, u64, u64))> {
    let mut f = line.split_whitespace();
    f.next()?; // "N:"
    if f.next()? != "FLOCK" {
        return None;
    }
    f.next()?; // ADVISORY
    if f.next()? != "WRITE" {
        return None;
    }
    let pid = f.next()?.parse().ok()?;
    let mut at = f.next()?.split(':');
    let major = u64::from_str_radix(at.next()?, 16).ok()?;
    let minor = u64::from_str_radix(at.next()?, 16).ok()?;
    let inode = at.next()?.parse().ok()?;
    Some((pid, (major, minor, inode)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn dirs() -> (tempfile::TempDir, Spool, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("spool"));
        spool.create_dirs().expect("spool");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).expect("state");
        (dir, spool, state)
    }

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let (dir, spool, state) = dirs();
        assert_eq!(probe(&spool.daemon_lock()).expect("probe"), Probe::Absent);
        let held = acquire(&spool, &state).expect("first");
        let me = std::process::id();
        assert_eq!(
            probe(&spool.daemon_lock()).expect("probe"),
            Probe::Held(Some(me))
        );
        for lock in [spool.daemon_lock(), state_lock(&state)] {
            let meta = std::fs::symlink_metadata(&lock).expect("lock");
            assert_eq!(meta.mode() & 0o777, MODE, "{}", lock.display());
            assert_eq!(
                std::fs::read_to_string(&lock).expect("pid"),
                format!("{me}\n")
            );
        }
        // The same spool, another state directory; the same state, another spool.
        let other_state = dir.path().join("state-2");
        std::fs::create_dir_all(&other_state).expect("state-2");
        let e = acquire(&spool, &other_state).expect_err("same spool");
        assert!(
            matches!(&e, LockError::Held { path, holder: Some(p) }
                if *path == spool.daemon_lock() && *p == me),
            "{e}"
        );
        assert!(e.to_string().contains(&format!("pid {me}")), "{e}");
        assert!(
            !state_lock(&other_state).exists(),
            "nothing taken after a refusal"
        );
        let other_spool = Spool::new(dir.path().join("spool-2"));
        other_spool.create_dirs().expect("spool-2");
        let e = acquire(&other_spool, &state).expect_err("same state");
        assert!(
            matches!(&e, LockError::Held { path, .. } if *path == state_lock(&state)),
            "{e}"
        );
        // The refused spool lock was released again: only the state directory is taken.
        assert_eq!(
            probe(&other_spool.daemon_lock()).expect("probe"),
            Probe::Free
        );
        drop(held);
        assert_eq!(probe(&spool.daemon_lock()).expect("probe"), Probe::Free);
        acquire(&spool, &state).expect("free again");
    }

    #[test]
    fn proc_locks_lines_are_read_for_granted_exclusive_flocks_only() {
        assert_eq!(
            held_flock("1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"),
            Some((1234, (0xfd, 1, 5678)))
        );
        for other in [
            "2: FLOCK  ADVISORY  READ  1234 fd:01:5678 0 EOF",
            "3: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF",
            "4: -> FLOCK  ADVISORY  WRITE 99 fd:01:5678 0 EOF",
            "5: OFDLCK ADVISORY  WRITE -1 00:05:1 0 EOF",
            "",
            "garbage",
        ] {
            assert_eq!(held_flock(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_group_member_cannot_hold_the_lock_against_the_daemon() {
        let (_dir, spool, state) = dirs();
        let held = acquire(&spool, &state).expect("first");
        let meta = std::fs::symlink_metadata(spool.daemon_lock()).expect("lock");
        assert_eq!(meta.mode() & 0o077, 0, "no one else may open it");
        drop(held);
        // The table without our lock: free, whatever the file says.
        let table = _dir.path().join("locks");
        std::fs::write(&table, "1: FLOCK  ADVISORY  READ  1 00:00:1 0 EOF\n").expect("table");
        assert_eq!(
            probe_in(&spool.daemon_lock(), &table).expect("probe"),
            Probe::Free
        );
    }

    #[test]
    fn a_planted_link_is_neither_followed_nor_truncated() {
        let (dir, spool, state) = dirs();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        std::os::unix::fs::symlink(&victim, spool.daemon_lock()).expect("symlink");
        let e = acquire(&spool, &state).expect_err("a symlink is refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(
            probe(&spool.daemon_lock()).is_err(),
            "status does not follow it either"
        );
    }

    #[test]
    fn a_holders_pid_is_not_overwritten_by_a_refused_daemon() {
        let (_dir, spool, state) = dirs();
        let _held = acquire(&spool, &state).expect("first");
        // Another open file description of the same file: flock conflicts as between
        // processes.
        let again = take(&spool.daemon_lock());
        assert!(matches!(again, Err(LockError::Held { .. })));
        assert_eq!(
            std::fs::read_to_string(spool.daemon_lock()).expect("pid"),
            format!("{}\n", std::process::id())
        );
    }
}
