//! Error types: [`ApiError`] for a failed API call (classified by [`ErrorKind`]) and
//! [`ClientError`] for a client that cannot be built from its config.

use std::fmt;
use std::time::Duration;

use crate::limits::Limits;

/// What kind of failure an API call met, which decides what the caller does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Rate limit (CODE 1965, or 409 with a wait header). `wait` is `X-RateLimit-ToWait-Sec`,
    /// else the body's `SECONDS_TO_WAIT`; `None`: back off on your own.
    RateLimited {
        /// How long the server asked to wait, if it said.
        wait: Option<Duration>,
    },
    /// Concurrency limit (CODE 1960 or 1920): too many calls of this API running; back off.
    ConcurrencyLimited,
    /// Bad login or password (CODE 2000, or HTTP 401), or Basic authentication required
    /// (CODE 2010).
    BadCredentials,
    /// The account has expired (CODE 2001).
    AccountExpired,
    /// The user account is inactive (CODE 2002).
    AccountInactive,
    /// The API user must complete registration first (CODE 2003).
    Registration,
    /// API access is blocked for this user, e.g. SecureID authentication is required
    /// (CODE 2011).
    AccessBlocked,
    /// The subscription's license does not cover this API (CODE 2012).
    NotLicensed,
    /// The server's TLS certificate was refused (unknown issuer, expired, not valid for the
    /// host name…): a configuration problem (`[qualys].url`, `[qualys].ca_file`, a proxy,
    /// the clock), not a passing failure. The text says what is wrong with the certificate.
    Certificate,
    /// Qualys refused the caller's source address: it is not in the subscription's
    /// secure-IP list (CODE 2007).
    SourceIpRefused,
    /// Qualys refused a parameter (1901/1903/1904/1905/1907/1908/1922, v1 5000); see the text.
    InvalidParameter,
    /// The report is not ready to be fetched yet (CODE 7001); poll and fetch again later.
    NotReady,
    /// A failure that did not change anything, or happened on a call safe to repeat:
    /// 5xx, CODE 999, a maintenance page, a connect error, a timeout or reset on a safe call.
    Transient,
    /// A call that is not safe to repeat (a launch, add, edit or cancel) was sent and then
    /// failed without a clear answer (timeout, reset, 5xx, 999): it may or may not have been
    /// applied. Re-read the remote state before retrying.
    Ambiguous,
    /// Any other Qualys error code (e.g. a permission error): retrying will not help.
    Rejected,
    /// The response could not be understood (not XML, unexpected root, missing field,
    /// redirect), or was refused unparsed (an internal DTD subset, an entity declaration:
    /// [`crate::XmlRefused`]). Not [`ErrorKind::is_retryable`] for the client (it never
    /// retries), but nothing was learnt either: the daemon retries it with backoff, as a
    /// transient answer (its `…Sent` states look the object up first).
    Protocol,
}

impl ErrorKind {
    /// True when the same call may simply be repeated later (after the wait, or a backoff).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited { .. }
                | ErrorKind::ConcurrencyLimited
                | ErrorKind::NotReady
                | ErrorKind::Transient
        )
    }

    /// True when the server's limits refused the call (it was not executed).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited { .. } | ErrorKind::ConcurrencyLimited
        )
    }

    /// True when the account, the credentials or the connection's configuration (the
    /// server's TLS certificate) are at fault: every call will fail until an operator acts,
    /// so the daemon should pause rather than fail jobs one by one or retry endlessly.
    pub fn is_account_problem(&self) -> bool {
        matches!(
            self,
            ErrorKind::BadCredentials
                | ErrorKind::AccountExpired
                | ErrorKind::AccountInactive
                | ErrorKind::Registration
                | ErrorKind::AccessBlocked
                | ErrorKind::NotLicensed
                | ErrorKind::SourceIpRefused
                | ErrorKind::Certificate
        )
    }

    /// One value of every kind, in declaration order (metrics show every class from the
    /// start, with 0).
    pub fn every() -> [ErrorKind; 16] {
        [
            ErrorKind::RateLimited { wait: None },
            ErrorKind::ConcurrencyLimited,
            ErrorKind::BadCredentials,
            ErrorKind::AccountExpired,
            ErrorKind::AccountInactive,
            ErrorKind::Registration,
            ErrorKind::AccessBlocked,
            ErrorKind::NotLicensed,
            ErrorKind::Certificate,
            ErrorKind::SourceIpRefused,
            ErrorKind::InvalidParameter,
            ErrorKind::NotReady,
            ErrorKind::Transient,
            ErrorKind::Ambiguous,
            ErrorKind::Rejected,
            ErrorKind::Protocol,
        ]
    }

    /// The kind as a metrics label value: [`ErrorKind::name`] in snake case
    /// (`rate_limited`, `bad_credentials`, `tls_certificate_refused`, …).
    pub fn class(&self) -> &'static str {
        match self {
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::ConcurrencyLimited => "concurrency_limited",
            ErrorKind::BadCredentials => "bad_credentials",
            ErrorKind::AccountExpired => "account_expired",
            ErrorKind::AccountInactive => "account_inactive",
            ErrorKind::Registration => "registration_required",
            ErrorKind::AccessBlocked => "api_access_blocked",
            ErrorKind::NotLicensed => "not_licensed",
            ErrorKind::Certificate => "tls_certificate_refused",
            ErrorKind::SourceIpRefused => "source_ip_not_allowed",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::NotReady => "not_ready",
            ErrorKind::Transient => "transient",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Protocol => "protocol",
        }
    }

    /// A short lower-case name, for logs and status files.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::RateLimited { .. } => "rate limited",
            ErrorKind::ConcurrencyLimited => "concurrency limited",
            ErrorKind::BadCredentials => "bad credentials",
            ErrorKind::AccountExpired => "account expired",
            ErrorKind::AccountInactive => "account inactive",
            ErrorKind::Registration => "registration required",
            ErrorKind::AccessBlocked => "API access blocked",
            ErrorKind::NotLicensed => "not licensed",
            ErrorKind::Certificate => "TLS certificate refused",
            ErrorKind::SourceIpRefused => "source IP not allowed",
            ErrorKind::InvalidParameter => "invalid parameter",
            ErrorKind::NotReady => "not ready",
            ErrorKind::Transient => "transient",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Protocol => "protocol",
        }
    }
}

/// A failed API call: what kind, which API, what the server said, and the limit headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The classification.
    pub kind: ErrorKind,
    /// The API key (`<path>?action=<action>`) of the call.
    pub api: String,
    /// The HTTP status, if a response arrived.
    pub http_status: Option<u16>,
    /// The Qualys CODE (or v1 RETURN number), if the body carried one.
    pub code: Option<u32>,
    /// Qualys's text, a transport error description, or a short excerpt of an unexpected body.
    pub text: String,
    /// The limit headers of the response (all `None` when no response arrived).
    pub limits: Limits,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api, self.kind.name())?;
        if let ErrorKind::RateLimited { wait: Some(w) } = &self.kind {
            write!(f, " (wait {}s)", w.as_secs())?;
        }
        if let Some(status) = self.http_status {
            write!(f, ", HTTP {status}")?;
        }
        if let Some(code) = self.code {
            write!(f, ", CODE {code}")?;
        }
        let text = one_line(&self.text);
        if !text.is_empty() {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Collapses all whitespace runs (newlines included) into single spaces.
///
/// A copy of `baseliner_core::text::one_line`'s rule for Qualys's texts, kept here because
/// the client does not depend on the core (it knows nothing of jobs).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A short, single-line excerpt of an unexpected body, for [`ErrorKind::Protocol`] errors.
pub(crate) fn excerpt(body: &str) -> String {
    const MAX: usize = 160;
    let line = one_line(body);
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// The client could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `base_url` is not a usable URL.
    #[error("qualys url {url:?} is not a valid URL: {reason}")]
    BadUrl {
        /// The configured value.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// Plain `http://` to a host that is not a loopback address.
    #[error("qualys url {url:?} uses plain http to a non-loopback host; use https")]
    InsecureUrl {
        /// The configured value.
        url: String,
    },
    /// The proxy URL was refused.
    #[error("proxy {proxy:?} is not usable: {reason}")]
    BadProxy {
        /// The configured proxy.
        proxy: String,
        /// Why it was refused.
        reason: String,
    },
    /// The extra CA bundle could not be read as PEM certificates.
    #[error("extra CA certificates are not valid PEM: {reason}")]
    BadCa {
        /// Why it was refused.
        reason: String,
    },
    /// The username or user agent cannot be sent in an HTTP header.
    #[error("{field} {value:?} cannot be sent in an HTTP header")]
    BadHeader {
        /// Which config field.
        field: &'static str,
        /// Its value (never the password).
        value: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind) -> ApiError {
        ApiError {
            kind,
            api: "/api/2.0/fo/scan/?action=launch".into(),
            http_status: Some(409),
            code: Some(1965),
            text: " This API cannot be run\nagain ".into(),
            limits: Limits::default(),
        }
    }

    #[test]
    fn every_kind_is_listed_once_with_its_class() {
        // An exhaustive match: a new kind fails to compile here until every() lists it.
        let index = |k: &ErrorKind| match k {
            ErrorKind::RateLimited { .. } => 0,
            ErrorKind::ConcurrencyLimited => 1,
            ErrorKind::BadCredentials => 2,
            ErrorKind::AccountExpired => 3,
            ErrorKind::AccountInactive => 4,
            ErrorKind::Registration => 5,
            ErrorKind::AccessBlocked => 6,
            ErrorKind::NotLicensed => 7,
            ErrorKind::Certificate => 8,
            ErrorKind::SourceIpRefused => 9,
            ErrorKind::InvalidParameter => 10,
            ErrorKind::NotReady => 11,
            ErrorKind::Transient => 12,
            ErrorKind::Ambiguous => 13,
            ErrorKind::Rejected => 14,
            ErrorKind::Protocol => 15,
        };
        for (n, k) in ErrorKind::every().iter().enumerate() {
            assert_eq!(index(k), n, "{k:?}");
            // The class is the name in snake case.
            assert_eq!(k.class(), k.name().to_ascii_lowercase().replace(' ', "_"));
        }
    }

    #[test]
    fn display_is_one_line_with_api_code_and_text() {
        let e = err(ErrorKind::RateLimited {
            wait: Some(Duration::from_secs(181)),
        });
        assert_eq!(
            e.to_string(),
            "/api/2.0/fo/scan/?action=launch rate limited (wait 181s), HTTP 409, CODE 1965: \
             This API cannot be run again"
        );
    }

    #[test]
    fn retryable_table() {
        assert!(ErrorKind::RateLimited { wait: None }.is_retryable());
        assert!(ErrorKind::ConcurrencyLimited.is_retryable());
        assert!(ErrorKind::Transient.is_retryable());
        assert!(ErrorKind::NotReady.is_retryable());
        for k in [
            ErrorKind::Ambiguous,
            ErrorKind::BadCredentials,
            ErrorKind::AccountExpired,
            ErrorKind::Registration,
            ErrorKind::InvalidParameter,
            ErrorKind::Rejected,
            ErrorKind::Protocol,
            ErrorKind::Certificate,
        ] {
            assert!(!k.is_retryable(), "{k:?}");
        }
        for k in [
            ErrorKind::BadCredentials,
            ErrorKind::AccountExpired,
            ErrorKind::AccountInactive,
            ErrorKind::Registration,
            ErrorKind::AccessBlocked,
            ErrorKind::NotLicensed,
            ErrorKind::SourceIpRefused,
            ErrorKind::Certificate,
        ] {
            assert!(k.is_account_problem() && !k.is_retryable(), "{k:?}");
        }
        for k in [
            ErrorKind::Transient,
            ErrorKind::Protocol,
            ErrorKind::Rejected,
            ErrorKind::InvalidParameter,
            ErrorKind::Ambiguous,
        ] {
            assert!(!k.is_account_problem(), "{k:?}");
        }
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "x ".repeat(500);
        let e = excerpt(&long);
        assert!(e.chars().count() <= 161, "{}", e.len());
        assert!(e.ends_with('…'));
    }
}
