//! The checks a config must pass before the daemon runs with it — one function,
//! [`check`], called by `check-config`, by `run` at start and by the run loop at each
//! SIGHUP, so that the three never disagree. All offline (the login is `--online`'s, and
//! the daemon's own probe's):
//!
//! - the file is not writable by group or others (whoever may write it may widen
//!   `[scope]` or choose the program `[alerts].command` runs); the install's
//!   0640 root:baseliner-submit is fine;
//! - it parses ([`Config::parse`], errors naming the key);
//! - `[scope].authorized` is not empty (every job would be refused);
//! - the password is found ([`crate::credentials`]);
//! - the Qualys client can be built from it ([`client`]: URL without a path, proxy,
//!   `ca_file` readable);
//! - `[alerts].command`, when set, exists and is executable.

use crate::credentials::{self, CredentialError, Source};
use baseliner_core::config::{Config, ConfigError};
use baseliner_qualys::{Client, ClientConfig, ClientError, Secret};
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a config may not be run with.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The file could not be opened or read.
    #[error("config {path}: {source}")]
    Unreadable {
        /// The config file.
        path: PathBuf,
        /// The IO error.
        source: io::Error,
    },
    /// The file may be written by others than its owner.
    #[error("config {path} is writable by group or others (mode {mode:04o}): whoever can write it can widen [scope] or change [alerts].command; run: chmod go-w {path}")]
    Writable {
        /// The config file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The text is not a valid config.
    #[error("config {path}: {source}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key.
        source: ConfigError,
    },
    /// `[scope].authorized` is empty.
    #[error("[scope].authorized is empty: every job would be refused")]
    EmptyScope,
    /// No password could be had.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// `[qualys].ca_file` could not be read.
    #[error("[qualys].ca_file {path}: {source}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: io::Error,
    },
    /// The Qualys client refuses the settings (a URL with a path, a bad proxy, …).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// `[alerts].command` cannot be run.
    #[error("[alerts].command: {0}")]
    AlertCommand(String),
}

/// A config that passed every check, with what the checks found.
pub struct Checked {
    /// The config.
    pub config: Config,
    /// The Qualys password.
    pub password: Secret,
    /// Where the password came from.
    pub source: Source,
    /// The client built from the config (`check-config --online` logs in with it).
    pub client: Client,
    /// The alert command's program, as found (in `$PATH` for a bare name).
    pub alert_program: Option<PathBuf>,
}

/// Runs every check on the config file at `path`.
pub fn check(path: &Path) -> Result<Checked, PreflightError> {
    let config = read(path, true)?;
    if config.scope.authorized.is_empty() {
        return Err(PreflightError::EmptyScope);
    }
    let (password, source) = credentials::find(config.qualys.password_file.as_deref())?;
    let client = client(&config, password.clone())?;
    let alert_program = match &config.alerts.command {
        Some(argv) => Some(alert_command(argv).map_err(PreflightError::AlertCommand)?),
        None => None,
    };
    Ok(Checked {
        config,
        password,
        source,
        client,
        alert_program,
    })
}

/// Reads and parses the config at `path`; with `private`, a file writable by group or
/// others is refused (its mode is read from the file that was opened, not from the path
/// again). The commands that only read the spool (`submit`, `status`, `cancel`) read it
/// without that check.
pub fn read(path: &Path, private: bool) -> Result<Config, PreflightError> {
    let unreadable = |source| PreflightError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    if private {
        let mode = file.metadata().map_err(unreadable)?.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(PreflightError::Writable {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(unreadable)?;
    Config::parse(&text).map_err(|source| PreflightError::Invalid {
        path: path.to_path_buf(),
        source,
    })
}

/// Builds the Qualys client from the config (the daemon's, `check-config`'s and the
/// demo's).
pub fn client(cfg: &Config, password: Secret) -> Result<Client, PreflightError> {
    let q = &cfg.qualys;
    let mut cc = ClientConfig::new(q.url.clone(), q.username.clone(), password);
    cc.asset_api = crate::adapt::asset_api(q.asset_api);
    cc.scan_list_version = crate::adapt::scan_list_version(q.scan_list_api);
    cc.connect_timeout = q.connect_timeout;
    cc.request_timeout = q.request_timeout;
    cc.proxy = q.proxy.clone();
    cc.max_download = Some(cfg.limits.max_download);
    cc.download_deadline = cfg.limits.download_timeout;
    if let Some(ca) = &q.ca_file {
        cc.extra_ca_pem = Some(std::fs::read(ca).map_err(|source| PreflightError::CaFile {
            path: ca.clone(),
            source,
        })?);
    }
    Ok(Client::new(cc)?)
}

/// The program of `argv` must exist, be a regular file and be executable (by someone:
/// the daemon runs as another user than the operator checking the config). A bare name
/// is looked up in `$PATH`, as the daemon's spawn does.
fn alert_command(argv: &[String]) -> Result<PathBuf, String> {
    let Some(program) = argv.first() else {
        return Err("the command is empty".into());
    };
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join(program)).collect())
            .unwrap_or_default()
    };
    let mut last = format!("{program:?} not found in $PATH");
    for c in candidates {
        match std::fs::metadata(&c) {
            Ok(m) if !m.is_file() => last = format!("{} is not a regular file", c.display()),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                last = format!(
                    "{} is not executable (mode {:o})",
                    c.display(),
                    m.permissions().mode() & 0o7777
                )
            }
            Ok(_) => return Ok(c),
            Err(e) if program.contains('/') => last = format!("{}: {e}", c.display()),
            Err(_) => {}
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[qualys]\nurl = \"https://qualysapi.qualys.com/\"\nusername = \"u\"\npassword_file = \"PW\"\n[scope]\nauthorized = [\"64.39.106.0/24\"]\n";

    /// A config at mode `mode` in `dir`, with a private password file beside it.
    fn config(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let pw = dir.join("pw");
        std::fs::write(&pw, "secret\n").expect("pw");
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let p = dir.join("baseliner.toml");
        std::fs::write(&p, text.replace("PW", &pw.display().to_string())).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p
    }

    #[test]
    fn a_config_others_may_write_is_refused_and_the_installed_mode_accepted() {
        let dir = tempfile::tempdir().expect("tempdir");
        for mode in [0o666, 0o664, 0o646, 0o660, 0o602] {
            let p = config(dir.path(), MINIMAL, mode);
            let e = check(&p).err().expect("refused");
            assert!(matches!(e, PreflightError::Writable { .. }), "{e}");
            let text = e.to_string();
            assert!(text.contains(&format!("mode {mode:04o}")), "{text}");
            assert!(text.contains(&p.display().to_string()), "{text}");
        }
        for mode in [0o640, 0o600, 0o644, 0o400] {
            let p = config(dir.path(), MINIMAL, mode);
            let ok = check(&p).map(|c| c.config.qualys.username);
            assert_eq!(ok.ok().as_deref(), Some("u"), "mode {mode:o}");
        }
        // The reading commands do not care.
        let p = config(dir.path(), MINIMAL, 0o666);
        assert!(read(&p, false).is_ok());
    }

    #[test]
    fn an_empty_scope_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = MINIMAL.replace("[\"64.39.106.0/24\"]", "[]");
        let e = check(&config(dir.path(), &text, 0o600))
            .err()
            .expect("refused");
        assert!(e.to_string().contains("[scope].authorized"), "{e}");
    }

    #[test]
    fn alert_commands_must_exist_and_be_executable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("notify");
        std::fs::write(&script, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let argv = |p: &Path| vec![p.to_string_lossy().into_owned()];
        let e = alert_command(&argv(&script)).expect_err("not executable");
        assert!(e.contains("not executable"), "{e}");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(alert_command(&argv(&script)).expect("ok"), script);
        let e = alert_command(&argv(&dir.path().join("nope"))).expect_err("missing");
        assert!(e.contains("nope"), "{e}");
        let e = alert_command(&argv(dir.path())).expect_err("a directory");
        assert!(e.contains("not a regular file"), "{e}");
        let e = alert_command(&["no-such-program-xyz".into()]).expect_err("not in PATH");
        assert!(e.contains("not found in $PATH"), "{e}");
        assert!(alert_command(&["sh".into()]).is_ok(), "found in PATH");
    }
}
