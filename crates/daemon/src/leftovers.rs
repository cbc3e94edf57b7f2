//! A crash's leftovers: the temporary files ([`fsutil::temp_path_for`]) that a crash
//! between a create and its rename left behind. Every name is fresh, so nothing would
//! ever reuse them: once after each start, [`fsutil::remove_leftover_temps`] removes
//! those of processes that no longer run from the spool's directories, every job's
//! directory, the state directory and the metrics file's directory (only names of that
//! form, so another program's files there are left alone).

use crate::fsutil;
use crate::spool::Spool;
use std::path::Path;

/// Removes the stale temporary files; `stop` ends the sweep early. Returns how many went.
pub fn sweep(spool: &Spool, state: &Path, metrics: &Path, stop: impl Fn() -> bool) -> usize {
    let mut dirs = vec![
        spool.root().to_path_buf(),
        spool.incoming(),
        spool.cancel(),
        spool.retry(),
        spool.hold(),
        spool.purge(),
        spool.rejected(),
        state.to_path_buf(),
    ];
    if let Some(dir) = metrics.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_path_buf());
        }
    }
    if let Ok(rd) = std::fs::read_dir(spool.jobs()) {
        dirs.extend(
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path()),
        );
    }
    let mut removed = 0;
    for dir in dirs {
        if stop() {
            break;
        }
        removed += fsutil::remove_leftover_temps(&dir);
    }
    if removed > 0 {
        tracing::info!("removed {removed} temporary file(s) left by an earlier crash");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_temporary_files_go_from_every_directory_and_nothing_else_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("spool"));
        spool.create_dirs().expect("spool");
        let state = dir.path().join("state");
        std::fs::create_dir_all(spool.job_dir("20260101-000000-000001")).expect("job dir");
        std::fs::create_dir_all(&state).expect("state");
        let mut stale = Vec::new();
        for d in [
            spool.root().to_path_buf(),
            spool.incoming(),
            spool.cancel(),
            spool.rejected(),
            spool.job_dir("20260101-000000-000001"),
            state.clone(),
        ] {
            // A writer that is gone (above PID_MAX_LIMIT: no process has that pid).
            let tmp = d.join(".file.4194305-7-1.tmp");
            std::fs::write(&tmp, b"left by a crash").expect("temp");
            stale.push(tmp);
        }
        let (fresh, _) = fsutil::create_temp(&spool.cancel().join("x")).expect("fresh");
        let kept = spool.incoming().join(".mine.tmp");
        std::fs::write(&kept, b"a writer's own name").expect("kept");
        let n = sweep(&spool, &state, &state.join("baseliner.prom"), || false);
        assert_eq!(n, stale.len());
        assert!(stale.iter().all(|p| !p.exists()), "{stale:?}");
        assert!(fresh.exists() && kept.exists());
    }
}
