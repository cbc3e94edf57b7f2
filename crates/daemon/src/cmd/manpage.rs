//! The man page, baseliner(1), from the command line's definition: clap_mangen's title,
//! name, synopsis, description and global options, then one `.SS` section per command
//! (its usage, description, options and examples, as `--help` shows them), the top-level
//! examples, the files, and the version with its commit.

use crate::build_info;
use clap::{Arg, Command};
use roff::{bold, italic, roman, Roff};
use std::io::Write;

/// Writes the page for `cmd` (the whole CLI) to `w`.
pub fn render(mut cmd: Command, w: &mut dyn Write) -> std::io::Result<()> {
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone())
        .date(build_info::build_date())
        .source(format!("baseliner {}", build_info::VERSION))
        .manual("baseliner manual");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;

    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands_mut() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        command_section(&mut roff, sub);
    }
    if let Some(examples) = cmd.get_after_help() {
        roff.control("SH", ["EXAMPLES"]);
        literal(&mut roff, &strip_heading(&examples.to_string()));
    }
    roff.control("SH", ["FILES"]);
    for (path, what) in FILES {
        let (path, what): (&str, &str) = (path, what);
        roff.control("TP", []);
        roff.text([italic(path)]);
        roff.text([roman(what)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "/usr/share/doc/baseliner/README.md and SPEC.md (the user's contract: config, job \
         files, spool layout, status files, permissions, metrics).",
    )]);
    roff.control("SH", ["VERSION"]);
    roff.text([roman(format!("baseliner {}", build_info::version()))]);
    roff.to_writer(w)
}

const FILES: [(&str, &str); 4] = [
    (
        "/etc/baseliner/baseliner.toml",
        "The config (--config, $BASELINER_CONFIG).",
    ),
    (
        "/var/spool/baseliner/",
        "The spool: incoming/, cancel/, rejected/, jobs/ID/ and daemon.json.",
    ),
    (
        "/var/lib/baseliner/",
        "The state store, the daemon's alone.",
    ),
    (
        "/var/lib/baseliner/baseliner.prom",
        "The metrics, Prometheus text ([paths].metrics).",
    ),
];

/// One command: `.SS "baseliner NAME"`, its usage, description, options and examples.
fn command_section(roff: &mut Roff, sub: &mut Command) {
    roff.control("SS", [format!("baseliner {}", sub.get_name()).as_str()]);
    let usage = sub.render_usage().to_string();
    roff.text([bold(usage.trim().trim_start_matches("Usage: "))]);
    if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
        for para in about.to_string().split("\n\n") {
            roff.control("PP", []);
            roff.text([roman(para.replace('\n', " "))]);
        }
    }
    for arg in sub.get_arguments() {
        if arg.is_hide_set() || arg.is_global_set() || is_builtin(arg) {
            continue;
        }
        roff.control("TP", []);
        roff.text([bold(arg_spec(arg))]);
        let help = arg
            .get_long_help()
            .or_else(|| arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        roff.text([roman(format!("{}{}", help.replace('\n', " "), extras(arg)))]);
    }
    if let Some(examples) = sub.get_after_help() {
        roff.control("PP", []);
        literal(roff, &examples.to_string());
    }
}

/// `--help` and `--version`, which every command has.
fn is_builtin(arg: &Arg) -> bool {
    matches!(arg.get_id().as_str(), "help" | "version")
}

/// `-s, --long <VALUE>`, or `<NAME>` / `[NAME]` for a positional argument.
fn arg_spec(arg: &Arg) -> String {
    let value = arg.get_value_names().and_then(|v| v.first()).map_or_else(
        || arg.get_id().as_str().to_ascii_uppercase(),
        |v| v.to_string(),
    );
    if arg.is_positional() {
        return if arg.is_required_set() {
            format!("<{value}>")
        } else {
            format!("[{value}]")
        };
    }
    let mut names = Vec::new();
    if let Some(s) = arg.get_short() {
        names.push(format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        names.push(format!("--{l}"));
    }
    let mut spec = names.join(", ");
    if arg.get_action().takes_values() {
        spec.push_str(&format!(" <{value}>"));
    }
    spec
}

/// ` [possible values: …]`, ` [default: …]` for an argument that takes a value.
fn extras(arg: &Arg) -> String {
    if !arg.get_action().takes_values() {
        return String::new();
    }
    let mut s = String::new();
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !possible.is_empty() {
        s.push_str(&format!(" [possible values: {}]", possible.join(", ")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() {
        s.push_str(&format!(" [default: {}]", defaults.join(",")));
    }
    s
}

/// An `Examples:` block as preformatted lines.
fn literal(roff: &mut Roff, text: &str) {
    roff.control("nf", []);
    for line in text.lines() {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
}

/// The block without its `Examples:` line (the section heading says it).
fn strip_heading(text: &str) -> String {
    text.lines()
        .skip_while(|l| l.trim_end().ends_with(':') && l.starts_with("Example"))
        .collect::<Vec<_>>()
        .join("\n")
}
