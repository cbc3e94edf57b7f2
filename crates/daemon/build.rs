//! Build facts for `baseliner --version` (`src/build_info.rs`): the git commit the binary
//! is built from (`git rev-parse --short HEAD`; "unknown" without git or outside a
//! checkout, as from a source tarball) and the build time (`SOURCE_DATE_EPOCH` when set,
//! for reproducible builds, else now), as `BASELINER_COMMIT` and `BASELINER_BUILD_EPOCH`.
//! It runs again when HEAD moves (`.git/HEAD`, the branch it names, `packed-refs`), so the
//! commit is never stale.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Asks cargo to run this script again when `git_path` (a path inside the git directory,
/// resolved by git: worktrees keep HEAD and the branches in different places) changes.
fn watch(git_path: &str) {
    if let Some(p) = git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        git_path,
    ]) {
        if PathBuf::from(&p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    if commit.is_some() {
        watch("HEAD");
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(&branch);
        }
        watch("packed-refs");
    }
    let commit = commit
        .filter(|c| c.chars().all(|ch| ch.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".into());
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    println!("cargo:rustc-env=BASELINER_COMMIT={commit}");
    println!("cargo:rustc-env=BASELINER_BUILD_EPOCH={epoch}");
}
