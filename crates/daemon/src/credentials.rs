//! Where the Qualys password comes from, in order: `[qualys].password_file` (refused when
//! group- or world-readable, as ssh refuses such keys), `$CREDENTIALS_DIRECTORY/qualys-password`
//! (systemd `LoadCredential=`), then `$BASELINER_QUALYS_PASSWORD`. The password itself is
//! never logged or printed; only its source is.

use baseliner_qualys::Secret;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where the password was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `[qualys].password_file`.
    File(PathBuf),
    /// `$CREDENTIALS_DIRECTORY/qualys-password`.
    SystemdCredential(PathBuf),
    /// `$BASELINER_QUALYS_PASSWORD`.
    Environment,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "password_file {}", p.display()),
            Source::SystemdCredential(p) => write!(f, "systemd credential {}", p.display()),
            Source::Environment => f.write_str("environment variable BASELINER_QUALYS_PASSWORD"),
        }
    }
}

/// Why no password could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The configured file could not be read.
    #[error("[qualys].password_file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The configured file is readable by others.
    #[error("[qualys].password_file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The password is empty.
    #[error("the password from {0} is empty")]
    Empty(Source),
    /// No source had a password.
    #[error("no Qualys password: set [qualys].password_file, run under systemd with LoadCredential=qualys-password:…, or set BASELINER_QUALYS_PASSWORD")]
    Missing,
}

/// Finds the password. `password_file` is the config's value.
pub fn find(password_file: Option<&Path>) -> Result<(Secret, Source), CredentialError> {
    if let Some(path) = password_file {
        let meta = std::fs::metadata(path).map_err(|source| CredentialError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialError::TooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
        return read_secret(path, Source::File(path.to_path_buf()));
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let p = Path::new(&dir).join("qualys-password");
        if p.exists() {
            return read_secret(&p, Source::SystemdCredential(p.clone()));
        }
    }
    if let Ok(v) = std::env::var("BASELINER_QUALYS_PASSWORD") {
        let v = v.trim_end_matches(['\n', '\r']).to_string();
        if v.is_empty() {
            return Err(CredentialError::Empty(Source::Environment));
        }
        return Ok((Secret::new(v), Source::Environment));
    }
    Err(CredentialError::Missing)
}

fn read_secret(path: &Path, source: Source) -> Result<(Secret, Source), CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|e| CredentialError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    let pw = text.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        return Err(CredentialError::Empty(source));
    }
    Ok((Secret::new(pw), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_readable_files_are_refused_and_private_ones_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = find(Some(&p)).expect_err("0640 must be refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(!err.to_string().contains("s3cret"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let (secret, source) = find(Some(&p)).expect("0600 is fine");
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(source, Source::File(p));
    }
}
