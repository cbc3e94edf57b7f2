//! `baseliner submit`: validates a job exactly as the daemon will (the same function, the
//! same config), then drops it into `incoming/` through a dot-file and a rename, so the
//! daemon never sees half a file. Prints the name it got in the spool.

use super::{runtime, usage, Failure};
use crate::cli::SubmitArgs;
use crate::fsutil;
use crate::spool::Spool;
use baseliner_core::config::Config;
use baseliner_core::job::{parse_job, JobDraft};
use baseliner_core::text::{escape_log, forbidden_format_char};
use baseliner_core::time::Timestamp;

/// Runs the command.
pub fn submit(cfg: &Config, args: &SubmitArgs) -> Result<(), Failure> {
    let (name, bytes) = match &args.file {
        Some(path) => {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| usage(anyhow::anyhow!("{}: not a file name", path.display())))?
                .to_string();
            if name.chars().any(char::is_control) || forbidden_format_char(&name).is_some() {
                // The daemon would refuse it (intake.rs): say so now.
                return Err(usage(anyhow::anyhow!(
                    "{}: the file name contains control characters or invisible format characters",
                    escape_log(&name)
                )));
            }
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
            (name.trim_start_matches('.').to_string(), bytes)
        }
        None => {
            let Some(org) = &args.org else {
                return Err(usage(anyhow::anyhow!(
                    "give a job file, or --org and --ips (see `baseliner submit --help`)"
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
            (name, draft.to_toml().into_bytes())
        }
    };
    // The name is the submitter's: escaped, so it cannot forge a line of the message.
    let job = parse_job(&name, &bytes, &cfg.job_rules())
        .map_err(|e| usage(anyhow::anyhow!("{}: {e}", escape_log(&name))))?;
    if !crate::actions::has_machine_readable_results(&job) {
        super::out::warn(format_args!(
            "warning: {}: the job asks for no raw results and no XML report, so its findings cannot be read and it cannot alert (add \"raw\" to results, or use report_format = \"xml\")",
            escape_log(&name)
        ));
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
