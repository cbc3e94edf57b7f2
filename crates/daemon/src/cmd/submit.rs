//! `baseliner submit`: validates a job exactly as the daemon will (the same function, the
//! same config), then drops it into `incoming/` through a dot-file and a rename, so the
//! daemon never sees half a file. Prints the name it got in the spool. The job comes from
//! a file, from standard input (`-`, at most a job file's size), or from flags. With
//! `--online` it first runs the daemon's pre-flight on the job against the subscription
//! (its report template and scanner appliance), so a job that would fail is refused before
//! it queues.

use super::{runtime, usage, Failure};
use crate::cli::SubmitArgs;
use crate::fsutil;
use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::job::{parse_job, JobDraft};
use baseliner_core::text::{escape_log, forbidden_format_char};
use baseliner_core::time::Timestamp;
use std::io::Read;
use std::path::Path;

/// Runs the command.
pub fn submit(cfg: &Config, args: &SubmitArgs) -> Result<(), Failure> {
    let from_stdin = args.file.as_deref() == Some(Path::new("-"));
    if !from_stdin && (args.name.is_some() || args.format.is_some()) {
        return Err(usage(anyhow::anyhow!(
            "--name and --format go only with `-` (the job on standard input)"
        )));
    }
    let (name, bytes, shown) = match &args.file {
        Some(_) if from_stdin => {
            let name = stdin_name(args)?;
            let bytes = read_stdin()?;
            let shown = format!("standard input ({})", escape_log(&name));
            (name, bytes, shown)
        }
        Some(path) => {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| usage(anyhow::anyhow!("{}: not a file name", path.display())))?
                .to_string();
            check_name(&name)?;
            let meta = std::fs::metadata(path)
                .map_err(|e| usage(anyhow::anyhow!("{}: {e}", path.display())))?;
            if meta.len() > crate::intake::MAX_JOB_FILE {
                return Err(usage(anyhow::anyhow!(
                    "{}: {} bytes; job files are limited to {} bytes",
                    path.display(),
                    meta.len(),
                    crate::intake::MAX_JOB_FILE
                )));
            }
            let bytes = std::fs::read(path)
                .map_err(|e| usage(anyhow::anyhow!("{}: {e}", path.display())))?;
            let name = name.trim_start_matches('.').to_string();
            let shown = escape_log(&name).to_string();
            (name, bytes, shown)
        }
        None => {
            let Some(org) = &args.org else {
                return Err(usage(anyhow::anyhow!(
                    "give a job file, `-` for standard input, or --org and --ips (see `baseliner submit --help`)"
                )));
            };
            let draft = JobDraft {
                organization: org.clone(),
                ips: args.ips.clone(),
                option_title: args.option_title.clone(),
                report_template_id: args.report_template,
                report_format: args.report_format.clone(),
                results: (!args.results.is_empty()).then(|| args.results.clone()),
                scanner_appliance: args.scanner_appliance.clone(),
                tracking_method: args.tracking_method.clone(),
                scan_title: args.scan_title.clone(),
                comments: args.comments.clone(),
            };
            let name = format!("{}-{}.toml", slug(org), stamp(Timestamp::now()));
            let shown = escape_log(&name).to_string();
            (name, draft.to_toml().into_bytes(), shown)
        }
    };
    // The name is the submitter's: escaped, so it cannot forge a line of the message.
    let job = parse_job(&name, &bytes, &cfg.job_rules())
        .map_err(|e| usage(anyhow::anyhow!("{shown}: {e}")))?;
    if !crate::actions::has_machine_readable_results(&job) {
        super::out::warn(format_args!(
            "warning: {}: the job asks for no raw results and no XML report, so its findings cannot be read and it cannot alert (add \"raw\" to results, or use report_format = \"xml\")",
            escape_log(&name)
        ));
    }
    if args.online {
        online(cfg, &job, &name)?;
    }
    if args.dry_run {
        return crate::outln!(
            super::out::Out::new(),
            "{name}: valid ({}, {} address(es)); not submitted (--dry-run)",
            job.organization,
            job.ips.len()
        );
    }
    let spool = Spool::new(cfg.paths.spool.clone());
    let incoming = spool.incoming();
    if !incoming.is_dir() {
        return Err(runtime(anyhow::anyhow!(
            "{} does not exist: is the spool set up (the daemon creates it at start)?",
            incoming.display()
        )));
    }
    for candidate in candidate_names(&name) {
        let target = incoming.join(&candidate);
        let created = fsutil::write_new(&target, &bytes)
            .map_err(|e| runtime(anyhow::anyhow!("{}: {e}", target.display())))?;
        if created {
            return crate::outln!(super::out::Out::new(), "{candidate}");
        }
    }
    Err(runtime(anyhow::anyhow!(
        "no free name for {name} in {}",
        incoming.display()
    )))
}

/// `--online`: logs in and runs the daemon's pre-flight on the job
/// ([`crate::jobcheck::check_online`]): a job that would fail before its scan is refused
/// now (exit 2, naming the field).
fn online(cfg: &Config, job: &baseliner_core::job::Job, name: &str) -> Result<(), Failure> {
    let (password, _) =
        crate::credentials::find(cfg.qualys.password_file.as_deref()).map_err(|e| {
            runtime(anyhow::anyhow!(
                "--online needs the Qualys password (as the daemon finds it): {e}"
            ))
        })?;
    let client = super::run::client_for(cfg, password)?;
    let rt = super::runtime_for_daemon()?;
    let lines = rt
        .block_on(async {
            client
                .check_login()
                .await
                .map_err(|e| format!("login to {} failed: {e}", cfg.qualys.url))?;
            crate::jobcheck::check_online(&client, job).await
        })
        .map_err(|e| usage(anyhow::anyhow!("{}: {}", escape_log(name), escape_log(&e))))?;
    for l in lines {
        eprintln!("{l}");
    }
    Ok(())
}

/// Refuses a file name the daemon would refuse (intake.rs): control characters, invisible
/// format characters.
fn check_name(name: &str) -> Result<(), Failure> {
    if name.chars().any(char::is_control) || forbidden_format_char(name).is_some() {
        return Err(usage(anyhow::anyhow!(
            "{}: the file name contains control characters or invisible format characters",
            escape_log(name)
        )));
    }
    Ok(())
}

/// The spool name of a job read from standard input: `--name` (its `.toml`/`.json`
/// extension, else `--format`'s, else `.toml`), or `stdin-TIME.EXT`.
fn stdin_name(args: &SubmitArgs) -> Result<String, Failure> {
    let format = args.format.as_deref();
    let Some(given) = &args.name else {
        let ext = format.unwrap_or("toml");
        return Ok(format!("stdin-{}.{ext}", stamp(Timestamp::now())));
    };
    check_name(given)?;
    let name = given.trim_start_matches('.');
    if name.is_empty() || name.contains('/') {
        return Err(usage(anyhow::anyhow!(
            "--name must be a plain file name, not {}",
            escape_log(given)
        )));
    }
    let own = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|e| e == "toml" || e == "json");
    match (own, format) {
        (Some(own), Some(f)) if own != f => Err(usage(anyhow::anyhow!(
            "--name {} is .{own}, but --format {f}: give one or make them agree",
            escape_log(name)
        ))),
        (Some(_), _) => Ok(name.to_string()),
        (None, f) => Ok(format!("{name}.{}", f.unwrap_or("toml"))),
    }
}

/// Reads the job from standard input, refusing more than a job file may hold (read at
/// most one byte past the limit, never the whole stream) and an empty input.
fn read_stdin() -> Result<Vec<u8>, Failure> {
    let limit = crate::intake::MAX_JOB_FILE;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| usage(anyhow::anyhow!("standard input: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(usage(anyhow::anyhow!(
            "standard input holds more than {limit} bytes; job files are limited to {limit} bytes"
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(usage(anyhow::anyhow!(
            "standard input is empty: give the job on it (`baseliner submit - < job.toml`)"
        )));
    }
    Ok(bytes)
}

/// `NAME.EXT`, then `NAME-2.EXT`, `NAME-3.EXT`, … (bounded).
fn candidate_names(name: &str) -> impl Iterator<Item = String> + '_ {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "toml"));
    std::iter::once(name.to_string()).chain((2..1000).map(move |n| format!("{stem}-{n}.{ext}")))
}

/// A file-name-safe form of an organization name.
fn slug(org: &str) -> String {
    let s: String = org
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let s: String = s.chars().take(40).collect();
    if s.is_empty() {
        "job".into()
    } else {
        s
    }
}

fn stamp(t: Timestamp) -> String {
    t.to_rfc3339()
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string()
}
