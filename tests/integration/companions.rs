//! The usual companions (issue 19, item 6), through the real binary: `--version` with the
//! commit and build date, `submit -` reading the job from standard input (and refusing
//! what it must), and the man page and shell completions generated from the CLI definition.

use crate::support::*;
use std::process::{Command, Output};

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The commit `git` reports for the source tree, when it is a git checkout with git.
fn git_commit() -> Option<String> {
    let o = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let expected_commit = git_commit().unwrap_or_else(|| "unknown".into());
    for flag in ["--version", "-V"] {
        let o = Command::new(BIN).arg(flag).output().expect("runs");
        assert!(o.status.success(), "{flag}: {}", err(&o));
        let line = out(&o);
        let prefix = format!(
            "baseliner {} (commit {expected_commit}, built ",
            env!("CARGO_PKG_VERSION")
        );
        let date = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(")\n"))
            .unwrap_or_else(|| panic!("{flag} printed {line:?}, expected {prefix:?}YYYY-MM-DD)"));
        let b = date.as_bytes();
        assert!(
            b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && date.chars().filter(char::is_ascii_digit).count() == 8,
            "{flag}: the build date {date:?} is not YYYY-MM-DD"
        );
    }
    // A subcommand's --version says the same.
    let o = Command::new(BIN)
        .args(["status", "--version"])
        .output()
        .expect("runs");
    assert!(out(&o).contains(&format!("(commit {expected_commit}, built ")));
}
