//! Client configuration: where the API is, who logs in, which API versions to use,
//! timeouts and transport options. The password is wrapped so it never prints.

use std::fmt;
use std::time::Duration;

/// A secret string (the Qualys password). `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for building the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which API adds IPs and asset groups: v2 (`/api/2.0/fo/asset/...`) or legacy v1 (`/msp/*.php`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssetApi {
    /// `/msp/asset_ip.php` and `/msp/asset_group.php`.
    V1,
    /// `/api/2.0/fo/asset/ip/` and `/api/2.0/fo/asset/group/`.
    #[default]
    V2,
}

/// The path version of an endpoint that exists in more than one version (scan list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/api/2.0/...`
    V2,
    /// `/api/3.0/...`
    #[default]
    V3,
}

impl ApiVersion {
    /// The other version (used for the one-time 404 fallback).
    pub fn other(self) -> ApiVersion {
        match self {
            ApiVersion::V2 => ApiVersion::V3,
            ApiVersion::V3 => ApiVersion::V2,
        }
    }

    /// The path segment, `"2.0"` or `"3.0"`.
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V2 => "2.0",
            ApiVersion::V3 => "3.0",
        }
    }
}

/// Everything [`crate::Client::new`] needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The platform's API server, e.g. `https://qualysapi.qualys.com` (no path).
    pub base_url: String,
    /// The API user's login.
    pub username: String,
    /// The API user's password.
    pub password: Secret,
    /// Which API adds IPs and asset groups.
    pub asset_api: AssetApi,
    /// Path version of the scan list call (v3 by default).
    pub scan_list_version: ApiVersion,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Total time allowed for one whole XML call, response body included (a body that
    /// trickles in ends at this deadline); also the read timeout of downloads.
    pub request_timeout: Duration,
    /// Total time allowed for one download (scan results, report file), from the request
    /// to the renamed file; past it the download fails as transient and leaves no `.part`.
    pub download_deadline: Duration,
    /// An HTTP(S) proxy URL for every call.
    pub proxy: Option<String>,
    /// Extra trusted CA certificates (PEM), added to the system roots.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Largest file one download may write; a larger body is abandoned and its temporary
    /// file removed ([`crate::FetchError::TooLarge`]). `None`: no cap.
    pub max_download: Option<u64>,
}

impl ClientConfig {
    /// A config with defaults for everything but the server and the credentials:
    /// v2 asset API, v3 scan list, 10 s connect timeout, 120 s request timeout, a 2 h
    /// download deadline, no proxy, no download cap.
    pub fn new(base_url: impl Into<String>, username: impl Into<String>, password: Secret) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            username: username.into(),
            password,
            asset_api: AssetApi::default(),
            scan_list_version: ApiVersion::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            download_deadline: Duration::from_secs(2 * 3600),
            proxy: None,
            extra_ca_pem: None,
            user_agent: concat!("baseliner/", env!("CARGO_PKG_VERSION")).to_string(),
            max_download: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_in_debug() {
        let cfg = ClientConfig::new("https://x.invalid", "user", Secret::new("hunter2-pw"));
        let shown = format!("{cfg:?} {}", cfg.password);
        assert!(!shown.contains("hunter2-pw"), "{shown}");
        assert!(shown.contains("***"));
        assert_eq!(cfg.password.expose(), "hunter2-pw");
    }

    #[test]
    fn version_other_flips() {
        assert_eq!(ApiVersion::V3.other(), ApiVersion::V2);
        assert_eq!(ApiVersion::V2.other().segment(), "3.0");
    }
}
