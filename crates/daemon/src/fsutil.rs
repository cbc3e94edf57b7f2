//! Durable file operations: atomic replace (temporary file, fsync, rename, fsync of the
//! directory) and durable renames. Every file baseliner writes for a reader goes through
//! here, so no reader ever sees a half-written file.
//!
//! Some of these directories can be written by others (`incoming/` and `cancel/` are the
//! submit group's), so nothing here follows a link planted there: every temporary file
//! gets a fresh name ([`temp_path_for`]: pid, a process-wide counter, nanoseconds) and is
//! created with `O_CREAT|O_EXCL|O_NOFOLLOW` ([`create_temp`]), never opened if it exists;
//! the result is renamed over the final name, which replaces a planted link there rather
//! than follow it. Temporary names start with '.' (the spool scanner and `baseliner status`
//! skip dot-files) and end in `.tmp`; a crash's leftovers are removed by
//! [`remove_leftover_temps`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The longest file name (NAME_MAX).
const NAME_MAX: usize = 255;

/// The longest part of the target's name a temporary name keeps: room for the dot and
/// the longest suffix (`.` pid `-` counter `-` nanoseconds `.tmp`, each number a u64 at
/// most).
const TEMP_NAME_KEEP: usize = NAME_MAX - 1 - (1 + 20 + 1 + 20 + 1 + 20 + 4);

/// Temporary files this process has named: two writers in one process never share one.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name beside `path`: `.NAME.PID-N-NANOS.tmp` in the same directory,
/// NAME cut (at a character boundary) so the whole fits in NAME_MAX.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
    let mut keep = name.len().min(TEMP_NAME_KEEP);
    if let Ok(text) = std::str::from_utf8(name) {
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp = b".".to_vec();
    tmp.extend_from_slice(&name[..keep]);
    tmp.extend_from_slice(format!(".{}-{n}-{nanos}.tmp", std::process::id()).as_bytes());
    path.with_file_name(std::ffi::OsStr::from_bytes(&tmp))
}

/// Creates a new temporary file beside `path` for writing: a fresh name
/// ([`temp_path_for`]), never an existing file and never through a link (`create_new`,
/// `O_NOFOLLOW`). A name found taken (planted) is passed over for another.
pub fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut tries = 0;
    loop {
        let tmp = temp_path_for(path);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", tmp.display()))),
        }
    }
}

/// Writes `bytes` into a new temporary file beside `path` ([`create_temp`]), mode `mode`
/// when given, and fsyncs it; returns its name. Nothing is left behind on an error.
fn write_temp(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<PathBuf> {
    let (tmp, mut f) = create_temp(path)?;
    let written = (|| {
        if let Some(mode) = mode {
            f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Replaces `path` with `bytes` atomically and durably. A link at `path` is replaced, not
/// followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, bytes, None)
}

/// [`write_atomic`] with the file made mode 0640 whatever the umask: a request a member of
/// the submit group writes for the daemon (`hold/ID`), which reads it through the group.
pub fn write_atomic_shared(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, bytes, Some(0o640))
}

fn replace_with(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let tmp = write_temp(path, bytes, mode)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_parent(path)
}

/// Replaces `path` with `value` as pretty JSON and a final newline, atomically and
/// durably ([`write_atomic`]): the one writer of the JSON files readers open
/// (`status.json`, `daemon.json`, `alert.json`, `webhook.json`, their intents).
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Creates `path` with `bytes` atomically, durably, and only if nothing is there yet:
/// returns `Ok(false)` when `path` already exists (it is left untouched). Used where
/// several writers may pick the same name (`baseliner submit`). The file is made mode
/// 0640 whatever the writer's umask, so that the daemon, another user in the file's group
/// (the setgid spool's submit group), can read it.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let tmp = write_temp(path, bytes, Some(0o640))?;
    // A hard link never replaces an existing name (nor follows a link there): the
    // no-clobber publish.
    let linked = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    };
    let _ = fs::remove_file(&tmp);
    let linked = linked?;
    sync_parent(path)?;
    Ok(linked)
}

/// How old a temporary file of a process still running must be before
/// [`remove_leftover_temps`] takes it for a leftover (its pid reused): far longer than any
/// write.
pub const STALE_TEMP: Duration = Duration::from_secs(3600);

/// The pid of the process that named `name`, when it is one of [`temp_path_for`]'s names
/// (`.NAME.PID-N-NANOS.tmp`).
pub fn temp_writer(name: &[u8]) -> Option<u32> {
    let rest = name.strip_prefix(b".")?.strip_suffix(b".tmp")?;
    let dot = rest.iter().rposition(|&b| b == b'.')?;
    let parts: Vec<&[u8]> = rest[dot + 1..].split(|&b| b == b'-').collect();
    let numeric = |p: &&[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    if parts.len() != 3 || !parts.iter().all(numeric) {
        return None;
    }
    std::str::from_utf8(parts[0]).ok()?.parse().ok()
}

/// Removes the temporary files ([`temp_writer`]) in `dir` that a crash left behind: those
/// of another process that no longer runs, or that were last changed more than
/// [`STALE_TEMP`] ago. A file being written (by this process, or a `baseliner submit`
/// running now) stays. Links are removed, never followed; directories are left alone.
/// Returns how many went.
pub fn remove_leftover_temps(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else {
        return 0;
    };
    let (now, me) = (SystemTime::now(), std::process::id());
    let mut removed = 0;
    for e in rd.flatten() {
        let Some(pid) = temp_writer(e.file_name().as_bytes()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(e.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_TEMP);
        let gone = fs::symlink_metadata(format!("/proc/{pid}")).is_err();
        if !meta.is_dir() && (gone || old) && fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Renames `from` to `to` and makes the rename durable (fsync of both directories).
pub fn rename_durable(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    sync_parent(to)?;
    if from.parent() != to.parent() {
        sync_parent(from)?;
    }
    Ok(())
}

/// fsyncs the directory holding `path`, so that a rename or create in it survives a crash.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Creates `dir` and its parents if missing.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("job.toml");
        assert!(write_new(&p, b"first").expect("first"));
        assert!(!write_new(&p, b"second").expect("second"));
        assert_eq!(fs::read(&p).expect("read"), b"first");
        let left: Vec<_> = fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn write_new_takes_the_longest_legal_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join(format!("{}.toml", "n".repeat(250)));
        assert!(write_new(&p, b"x").expect("a 255-byte name"));
        assert_eq!(fs::read(&p).expect("read"), b"x");
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("status.json");
        write_atomic(&p, b"one").expect("first write");
        write_atomic(&p, b"two").expect("second write");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        let left: Vec<_> = fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    /// A file others may not change: the victim a planted link points at.
    fn victim(dir: &Path) -> PathBuf {
        let v = dir.join("victim");
        fs::write(&v, b"precious").expect("victim");
        v
    }

    /// The name `write_atomic` used before it took unique temporary names.
    fn old_temp_name(path: &Path) -> PathBuf {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        path.with_file_name(format!(".{name}.tmp"))
    }

    fn assert_written(path: &Path, bytes: &[u8]) {
        let meta = fs::symlink_metadata(path).expect("written");
        assert!(
            meta.file_type().is_file(),
            "{} is a regular file",
            path.display()
        );
        assert_eq!(fs::read(path).expect("read"), bytes);
    }

    #[test]
    fn write_atomic_never_writes_through_a_symlink_at_the_old_temp_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = victim(dir.path());
        let p = dir.path().join("cancel-me");
        std::os::unix::fs::symlink(&v, old_temp_name(&p)).expect("symlink");
        write_atomic(&p, b"").expect("write");
        assert_eq!(
            fs::read(&v).expect("victim"),
            b"precious",
            "through a symlink"
        );
        assert_written(&p, b"");
    }

    #[test]
    fn write_atomic_never_writes_through_a_hard_link_at_the_old_temp_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = victim(dir.path());
        let q = dir.path().join("status.json");
        fs::hard_link(&v, old_temp_name(&q)).expect("hard link");
        write_atomic(&q, b"{}").expect("write");
        assert_eq!(
            fs::read(&v).expect("victim"),
            b"precious",
            "through a hard link"
        );
        assert_written(&q, b"{}");
    }

    #[test]
    fn write_atomic_replaces_a_link_at_the_final_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = victim(dir.path());
        let p = dir.path().join("a");
        std::os::unix::fs::symlink(&v, &p).expect("symlink");
        write_atomic(&p, b"new").expect("write");
        assert_eq!(
            fs::read(&v).expect("victim"),
            b"precious",
            "through a symlink"
        );
        assert_written(&p, b"new");

        let q = dir.path().join("b");
        fs::hard_link(&v, &q).expect("hard link");
        write_atomic(&q, b"new").expect("write");
        assert_eq!(
            fs::read(&v).expect("victim"),
            b"precious",
            "through a hard link"
        );
        assert_written(&q, b"new");
    }

    #[test]
    fn temporary_names_are_fresh_hidden_and_fit_name_max() {
        let dir = tempfile::tempdir().expect("tempdir");
        for target in [
            "status.json".to_string(),
            format!("{}.toml", "n".repeat(250)),
            format!("{}.error", "\u{FFFD}".repeat(83)),
        ] {
            let p = dir.path().join(&target);
            let (a, b) = (temp_path_for(&p), temp_path_for(&p));
            assert_ne!(a, b, "two writers never share a name");
            for t in [&a, &b] {
                let name = t.file_name().expect("name").as_bytes();
                assert!(name.len() <= NAME_MAX, "{}", name.len());
                assert!(name.starts_with(b"."), "{t:?}");
                assert_eq!(temp_writer(name), Some(std::process::id()), "{t:?}");
                assert!(
                    std::str::from_utf8(name).is_ok(),
                    "cut at a character boundary"
                );
                assert_eq!(t.parent(), p.parent());
            }
            write_atomic(&p, b"x").expect("a long name is written");
        }
        for not in [
            ".status.json.tmp",
            "a.1-2-3.tmp",
            ".a.1-2.tmp",
            ".a.1-x-3.tmp",
            ".partial",
        ] {
            assert_eq!(temp_writer(not.as_bytes()), None, "{not}");
        }
    }

    #[test]
    fn a_crash_leftover_is_removed_and_a_write_in_progress_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = victim(dir.path());
        // Above PID_MAX_LIMIT (2^22): no process ever has this pid.
        let dead = 4_194_305;
        let name = |pid: u32, n: u32| dir.path().join(format!(".status.json.{pid}-{n}-1.tmp"));
        fs::write(name(dead, 1), b"left by a crash").expect("dead writer's");
        std::os::unix::fs::symlink(&v, name(dead, 2)).expect("planted link");
        fs::write(name(1, 3), b"a live writer's").expect("live writer's");
        let old = File::create(name(1, 4)).expect("old");
        old.set_modified(SystemTime::now() - STALE_TEMP * 2)
            .expect("age it");
        let (mine, f) = create_temp(&dir.path().join("status.json")).expect("mine");
        f.set_modified(SystemTime::UNIX_EPOCH).expect("age it");
        let other = dir.path().join(".status.json.tmp");
        fs::write(&other, b"not one of ours").expect("other");
        assert_eq!(remove_leftover_temps(dir.path()), 3);
        assert!(fs::symlink_metadata(name(dead, 1)).is_err());
        assert!(
            fs::symlink_metadata(name(dead, 2)).is_err(),
            "the link itself went"
        );
        assert!(name(1, 3).exists(), "a live writer's fresh file stays");
        assert!(
            !name(1, 4).exists(),
            "an hour-old file is a leftover whoever has the pid"
        );
        assert!(mine.exists(), "this process's own files stay");
        assert!(other.exists(), "only our own names are taken for leftovers");
        assert_eq!(fs::read(&v).expect("victim"), b"precious");
    }
}
