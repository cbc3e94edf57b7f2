//! The usual companions (issue 19, item 6), through the real binary: `--version` with the
//! commit and build date, `submit -` reading the job from standard input (and refusing
//! what it must), and the man page and shell completions generated from the CLI definition.

use crate::support::*;
use baseliner::cli::Cli;
use clap::CommandFactory;
use std::path::Path;
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

/// A world whose `incoming/` exists (what `submit` needs; no daemon).
async fn spool_world() -> World {
    let w = World::new(fast_sim()).await;
    std::fs::create_dir_all(w.spool.join("incoming")).expect("incoming");
    w
}

fn incoming(w: &World) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(w.spool.join("incoming"))
        .expect("incoming")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_dash_reads_the_job_from_stdin() {
    let w = spool_world().await;
    let toml = job_toml("Stdin Org", &["64.39.106.60"]);

    // Dry run: validated, nothing written.
    let o = w.cli_with_stdin(&["submit", "--dry-run", "-"], toml.as_bytes());
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("1 address"), "{}", out(&o));
    assert!(incoming(&w).is_empty());

    // A derived name: stdin-TIME.toml, the bytes as given.
    let o = w.cli_with_stdin(&["submit", "-"], toml.as_bytes());
    assert!(o.status.success(), "{}", err(&o));
    let name = out(&o).trim().to_string();
    assert!(
        name.starts_with("stdin-") && name.ends_with(".toml"),
        "{name}"
    );
    assert_eq!(incoming(&w), vec![name.clone()]);
    assert_eq!(read(&w.spool.join("incoming").join(&name)), toml);

    // --name, and JSON by --format.
    let json = r#"{"organization": "Json Stdin", "ips": ["64.39.106.61"]}"#;
    let o = w.cli_with_stdin(
        &["submit", "-", "--format", "json", "--name", "from-pipe"],
        json.as_bytes(),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "from-pipe.json");
    assert_eq!(read(&w.spool.join("incoming/from-pipe.json")), json);

    // A --name with its extension says the format; a clash with --format is bad usage.
    let o = w.cli_with_stdin(&["submit", "-", "--name", "named.toml"], toml.as_bytes());
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "named.toml");
    let o = w.cli_with_stdin(
        &["submit", "-", "--name", "named.toml", "--format", "json"],
        json.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--format json"), "{}", err(&o));

    // The job is validated like a file: TOML by default, so JSON without --format fails.
    let o = w.cli_with_stdin(&["submit", "-"], json.as_bytes());
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("TOML"), "{}", err(&o));
    assert_eq!(incoming(&w).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_dash_refuses_hostile_stdin_and_writes_nothing() {
    let w = spool_world().await;
    let big = {
        let mut s = job_toml("Big Org", &["64.39.106.62"]);
        s.push_str("comments = \"");
        s.push_str(&"x".repeat(1024 * 1024));
        s.push_str("\"\n");
        s
    };
    let mut bad_utf8 = b"organization = \"Bad \xff\xfe Org\"\nips = [\"64.39.106.63\"]\n".to_vec();
    bad_utf8.extend_from_slice(b"\n");
    let good = job_toml("Name Org", &["64.39.106.64"]);
    let cases: [(&str, &[&str], &[u8], &str); 6] = [
        (
            "larger than the job limit",
            &["submit", "-"],
            big.as_bytes(),
            "standard input holds more than 1048576 bytes; job files are limited to 1048576 bytes",
        ),
        (
            "invalid UTF-8",
            &["submit", "-"],
            &bad_utf8,
            "not UTF-8 (invalid byte at offset 20)",
        ),
        ("empty", &["submit", "-"], b"", "standard input is empty"),
        (
            "blank",
            &["submit", "-", "--format", "json"],
            b" \n\t\n",
            "standard input is empty",
        ),
        (
            "a name with a slash",
            &["submit", "-", "--name", "../escape.toml"],
            good.as_bytes(),
            "--name must be a plain file name",
        ),
        (
            "a name with a control character",
            &["submit", "-", "--name", "evil\u{1b}[2J.toml"],
            good.as_bytes(),
            "control characters",
        ),
    ];
    for (what, args, input, needle) in cases {
        let o = w.cli_with_stdin(args, input);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", err(&o));
        assert!(err(&o).contains(needle), "{what}: {}", err(&o));
        assert!(out(&o).is_empty(), "{what}: {}", out(&o));
        assert!(incoming(&w).is_empty(), "{what}: {:?}", incoming(&w));
    }
    // --name and --format belong to `-` only.
    let file = w.dir.path().join("plain.toml");
    std::fs::write(&file, job_toml("Plain", &["64.39.106.65"])).expect("write");
    let o = w.cli(&["submit", file.to_str().expect("utf8"), "--name", "x.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("only with `-`"), "{}", err(&o));
    assert!(incoming(&w).is_empty());
}

/// Every subcommand the CLI definition shows (not hidden), and `help`.
fn subcommands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

fn generate(what: &str) -> String {
    let o = Command::new(BIN)
        .args(["generate", what])
        .output()
        .expect("runs");
    assert!(o.status.success(), "generate {what}: {}", err(&o));
    assert!(o.stderr.is_empty(), "generate {what}: {}", err(&o));
    out(&o)
}

#[test]
fn the_man_page_and_the_completions_name_every_subcommand() {
    let subs = subcommands();
    assert!(subs.len() >= 8, "{subs:?}");
    let man = generate("man");
    assert!(
        man.lines().any(|l| l.starts_with(".TH baseliner 1 ")),
        "no .TH line"
    );
    for sub in &subs {
        // Each command has a section of its own, with its synopsis.
        let heading = format!(".SS \"baseliner {sub}\"");
        assert!(man.contains(&heading), "the man page has no {heading}");
    }
    assert!(
        man.contains("\\-\\-dry\\-run"),
        "submit's options are in the page"
    );
    assert!(man.contains(&format!(
        "commit {}",
        git_commit().unwrap_or_else(|| "unknown".into())
    )));

    for (shell, marker) in [
        ("bash", "complete -F _baseliner"),
        ("zsh", "#compdef baseliner"),
        ("fish", "complete -c baseliner"),
    ] {
        let script = generate(shell);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in &subs {
            let named = match shell {
                "bash" => script.contains(&format!("baseliner,{sub})")),
                "zsh" => script.contains(&format!("'{sub}:")),
                _ => script.contains(&format!("-a \"{sub}\"")),
            };
            assert!(named, "the {shell} completion does not name {sub}");
        }
        assert!(script.contains("dry-run"), "{shell}: submit's flags");
        // The shell itself reads the script without a syntax error, where it is installed.
        let path = Path::new("/bin").join(shell);
        if path.exists() || Path::new("/usr/bin").join(shell).exists() {
            let o = Command::new(shell)
                .arg("-n")
                .arg("-c")
                .arg(&script)
                .output()
                .expect("shell runs");
            assert!(o.status.success(), "{shell} -n: {}", err(&o));
        }
    }
    let o = Command::new(BIN)
        .args(["generate", "powershell"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
