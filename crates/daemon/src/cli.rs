//! The command line (clap): every command of SPEC.md "Commands", with an example in each
//! `--help`.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// baseliner: a vulnerability baseline for newly acquired IP addresses, through the
/// Qualys API, unattended and restart-safe.
#[derive(Debug, Parser)]
#[command(name = "baseliner", version = crate::build_info::version(), propagate_version = true)]
#[command(
    after_help = "Examples:\n  baseliner demo\n  baseliner --config /etc/baseliner/baseliner.toml run\n  baseliner submit --org 'Acme Corp' --ips 64.39.106.0/30\n  baseliner status"
)]
pub struct Cli {
    /// The config file [default: $BASELINER_CONFIG, else /etc/baseliner/baseliner.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log filter, such as `info` or `baseliner=debug` [default: $BASELINER_LOG, else info]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground (systemd Type=notify aware).
    ///
    /// SIGTERM/SIGINT stop it cleanly (a second one exits at once); SIGHUP re-reads the config, with the checks of check-config (a refused one keeps the running config).
    #[command(after_help = "Example:\n  baseliner --config /etc/baseliner/baseliner.toml run")]
    Run,
    /// Validate a job exactly as the daemon will, then drop it into the spool atomically.
    ///
    /// Give a job file (`-`: standard input), or describe the job with flags. Prints the
    /// file's name in incoming/.
    #[command(
        after_help = "Examples:\n  baseliner submit config/jobs/acme.toml\n  make-job | baseliner submit --format json --name acme -\n  baseliner submit --org 'Acme Corp' --ips 64.39.106.0/30 --ips 64.39.106.10 --report-template 1"
    )]
    Submit(SubmitArgs),
    /// Show every job, or one, with its state, scan state, age and last error.
    ///
    /// Reads the spool's status files, never the daemon's store: safe while it runs.
    #[command(
        after_help = "Examples:\n  baseliner status\n  baseliner status 20261128-011500-000042 --json"
    )]
    Status(StatusArgs),
    /// Ask the daemon to cancel a job (and its running scan or report).
    #[command(after_help = "Example:\n  baseliner cancel 20261128-011500-000042")]
    Cancel {
        /// The job id.
        id: String,
    },
    /// Ask the daemon for a new job with the fields of a failed or canceled one (once per job).
    #[command(after_help = "Example:\n  baseliner retry 20261128-011500-000042")]
    Retry {
        /// The failed or canceled job's id.
        id: String,
    },
    /// Ask the daemon to hold a job: it takes no new action (one in flight finishes).
    #[command(after_help = "Example:\n  baseliner hold 20261128-011500-000042")]
    Hold {
        /// The job id.
        id: String,
    },
    /// Ask the daemon to release a held job: it carries on where it stopped.
    #[command(after_help = "Example:\n  baseliner release 20261128-011500-000042")]
    Release {
        /// The job id.
        id: String,
    },
    /// Remove finished jobs (directories and records) older than a duration.
    ///
    /// Through the running daemon, or by itself when none runs (as the daemon's user).
    #[command(
        after_help = "Examples:\n  baseliner purge --older-than 90d --dry-run\n  baseliner purge --older-than 90d"
    )]
    Purge {
        /// Finished jobs whose last step is older than this: "90d", "12h", "30m", "90s".
        #[arg(long, value_name = "DURATION")]
        older_than: String,
        /// List what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate the config and find the password; with --online also log in once.
    #[command(
        after_help = "Examples:\n  baseliner --config ./baseliner.toml check-config\n  baseliner check-config --online"
    )]
    CheckConfig {
        /// Also log in to Qualys once.
        #[arg(long)]
        online: bool,
    },
    /// No setup: run the whole workflow against the built-in simulator on 127.0.0.1.
    #[command(after_help = "Example:\n  baseliner demo --dir /tmp/baseliner-demo")]
    Demo(DemoArgs),
    /// The Qualys simulator alone, for trying a config or a client without touching Qualys.
    #[command(
        after_help = "Example:\n  baseliner sim --listen 127.0.0.1:8080\n  curl -u demo:demo -H 'X-Requested-With: curl' 'http://127.0.0.1:8080/msp/report_template_list.php'"
    )]
    Sim(SimArgs),
    /// Print the man page or a shell completion script, made from this command line.
    #[command(
        after_help = "Examples:\n  baseliner generate man > /usr/local/share/man/man1/baseliner.1\n  baseliner generate bash > /usr/local/share/bash-completion/completions/baseliner"
    )]
    Generate {
        /// What to print.
        #[arg(value_enum)]
        what: Generated,
    },
}

/// What `generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generated {
    /// The man page, baseliner(1), in roff.
    Man,
    /// The bash completion script.
    Bash,
    /// The zsh completion script (`_baseliner`).
    Zsh,
    /// The fish completion script.
    Fish,
}

/// `submit`'s arguments.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A job file (.toml or .json), or `-` for standard input. Without it, the flags
    /// describe the job.
    #[arg(conflicts_with_all = ["org", "ips"])]
    pub file: Option<PathBuf>,
    /// With `-`: the job's name in the spool [default: stdin-TIME.toml]; a .toml or .json
    /// extension gives the format.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// With `-`: the job's format, toml or json [default: --name's extension, else toml].
    #[arg(long, value_parser = ["toml", "json"])]
    pub format: Option<String>,
    /// The organization (the asset group's title).
    #[arg(long, requires = "ips")]
    pub org: Option<String>,
    /// Addresses, ranges a-b or CIDRs; repeat or separate with commas.
    #[arg(long, value_delimiter = ',', requires = "org")]
    pub ips: Vec<String>,
    /// The option profile's title.
    #[arg(long)]
    pub option_title: Option<String>,
    /// The report template id (0: no report).
    #[arg(long)]
    pub report_template: Option<u64>,
    /// The report format: pdf, html, mht, xml, csv or docx.
    #[arg(long)]
    pub report_format: Option<String>,
    /// Outputs: report, raw (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub results: Vec<String>,
    /// A scanner appliance's name: makes it an internal scan.
    #[arg(long)]
    pub scanner_appliance: Option<String>,
    /// IP (default), DNS or NETBIOS.
    #[arg(long)]
    pub tracking_method: Option<String>,
    /// The scan title (the job id is appended).
    #[arg(long)]
    pub scan_title: Option<String>,
    /// The asset group's comments.
    #[arg(long)]
    pub comments: Option<String>,
    /// Validate only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also log in and check the job's report template and scanner appliance against the
    /// subscription, as the daemon's pre-flight will (needs the Qualys password).
    #[arg(long)]
    pub online: bool,
}

/// `status`'s arguments.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One job's id.
    pub id: Option<String>,
    /// Print one JSON object (daemon, queued, staged, rejected, jobs) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `demo`'s arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the demo's spool and state [default: a new directory under the temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How long the simulated scan runs, in seconds.
    #[arg(long, default_value_t = 8)]
    pub scan_seconds: u64,
}

/// `sim`'s arguments.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The username the simulator accepts.
    #[arg(long, default_value = "demo")]
    pub user: String,
    /// The password the simulator accepts.
    #[arg(long, default_value = "demo")]
    pub password: String,
    /// Seconds a scan runs before it finishes.
    #[arg(long, default_value_t = 10)]
    pub scan_seconds: u64,
    /// Serve HTTPS with a certificate made at start (for clients that only build https URLs).
    #[arg(long)]
    pub tls: bool,
    /// Where --tls writes the PEM CA certificate clients must trust (default: a file in the
    /// temp directory; the path is printed).
    #[arg(long, requires = "tls")]
    pub tls_cert_out: Option<PathBuf>,
}
