//! Durable file operations: atomic replace (temporary file, fsync, rename, fsync of the
//! directory) and durable renames. Every file baseliner writes for a reader goes through
//! here, so no reader ever sees a half-written file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary name used while `path` is being written: `.NAME.tmp` in the same
/// directory (dot-files are ignored by the spool scanner and by `baseliner status`).
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Replaces `path` with `bytes` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path_for(path);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
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
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Not named after `path`: a name of up to 255 bytes must still get a temporary file.
    let tmp = path.with_file_name(format!(".new.{}.{unique}.tmp", std::process::id()));
    {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o640))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    // A hard link never replaces an existing name: the no-clobber publish.
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
        assert!(!temp_path_for(&p).exists());
        assert_eq!(
            temp_path_for(&p).file_name().and_then(|n| n.to_str()),
            Some(".status.json.tmp")
        );
    }
}
