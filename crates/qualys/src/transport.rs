//! Classifying a failure below HTTP (connect, TLS, timeout, reset) into an [`ApiError`]:
//! a refused TLS certificate is a configuration problem of its own
//! ([`ErrorKind::Certificate`], which pauses the daemon) with a message saying what is
//! wrong with the certificate; everything else is transient or ambiguous.

use std::error::Error as StdError;

use tokio_rustls::rustls::{CertificateError, Error as TlsError};

use crate::classify::Ctx;
use crate::error::{ApiError, ErrorKind};
use crate::limits::Limits;

/// Classifies a transport failure: a certificate the client refused is
/// [`ErrorKind::Certificate`]; a connect error never reached the server (`Transient`);
/// anything else (timeout, reset) is `Transient` only for a safe call.
pub(crate) fn transport(
    ctx: Ctx<'_>,
    e: &reqwest::Error,
    status: Option<u16>,
    limits: Limits,
) -> ApiError {
    if let Some(problem) = certificate_problem(e) {
        return ctx.error(ErrorKind::Certificate, status, None, problem, limits);
    }
    let kind = if e.is_builder() {
        ErrorKind::Protocol
    } else if e.is_connect() {
        ErrorKind::Transient
    } else {
        ctx.unclear()
    };
    let mut text = e.to_string();
    let mut source = StdError::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ctx.error(kind, status, None, text, limits)
}

/// The rustls error somewhere in `e`'s source chain, also inside (nested) `io::Error`s,
/// whose `source()` skips the error they wrap.
fn tls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a TlsError> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<TlsError>() {
            return Some(tls);
        }
        current = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
    }
    None
}

/// What is wrong with the server's certificate, when that is why `e` failed.
fn certificate_problem(e: &reqwest::Error) -> Option<String> {
    match tls_error(e)? {
        TlsError::InvalidCertificate(c) => Some(describe(c)),
        _ => None,
    }
}

/// An operator's sentence for a refused certificate.
pub(crate) fn describe(c: &CertificateError) -> String {
    let what = match c {
        CertificateError::UnknownIssuer => {
            "it is issued by a certificate authority this client does not trust \
             (add that CA with [qualys].ca_file, or check for an intercepting proxy)"
                .to_string()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired (check the server, and this machine's clock)".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet (check this machine's clock)".to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it is not valid for the host name in [qualys].url (check the URL, or the proxy)"
                .to_string()
        }
        CertificateError::Revoked => "it has been revoked".to_string(),
        CertificateError::BadSignature => "its signature is invalid".to_string(),
        other => format!("it was refused ({other:?})"),
    };
    format!("the server's TLS certificate is not accepted: {what}; every call will fail until this is fixed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_the_problem() {
        assert!(describe(&CertificateError::UnknownIssuer).contains("does not trust"));
        assert!(describe(&CertificateError::UnknownIssuer).contains("[qualys].ca_file"));
        assert!(describe(&CertificateError::Expired).contains("expired"));
        assert!(describe(&CertificateError::NotValidForName).contains("host name"));
        assert!(describe(&CertificateError::NotValidYet).contains("clock"));
    }

    #[test]
    fn a_tls_error_is_found_inside_an_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            TlsError::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            tls_error(&io),
            Some(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ));
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            TlsError::InvalidCertificate(CertificateError::Expired),
        ));
        assert!(matches!(
            tls_error(&nested),
            Some(TlsError::InvalidCertificate(CertificateError::Expired))
        ));
        let plain = std::io::Error::other("reset");
        assert!(tls_error(&plain).is_none());
    }
}
