//! The client itself: building it from [`ClientConfig`] (TLS, timeouts, proxy, loopback-only
//! plain http) and sending one call (auth, `X-Requested-With`, GET query or POST form),
//! with the one-time 404 version fallback of the scan list.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Response, Url};
use roxmltree::Document;

use crate::api::{api_key, Call};
use crate::classify::{decode, Ctx};
use crate::config::{ApiVersion, ClientConfig, Secret};
use crate::error::{excerpt, ApiError, ClientError, ErrorKind};
use crate::limits::Limits;
use crate::parse::ParseError;
use crate::transport::transport;

/// The largest XML body read into memory (list outputs, returns); fetches stream instead.
pub(crate) const MAX_XML_BODY: usize = 64 * 1024 * 1024;

/// A successful call's value together with the limit headers of its (last) response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<T> {
    /// What the call returned.
    pub value: T,
    /// The limit headers of the response.
    pub limits: Limits,
}

/// A Qualys VM API client. Cheap to clone (clones share the connection pool).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) cfg: Arc<ClientConfig>,
    /// Set once the configured scan list version answered 404 or 400/1901 and the other
    /// one is used.
    pub(crate) scan_list_flipped: Arc<AtomicBool>,
    /// The password every call sends: `cfg.password` until [`Client::set_password`]
    /// replaces it (a SIGHUP that read the password file again). Shared by clones.
    password: Arc<RwLock<Secret>>,
}

/// True when `url` may be used with plain http: a loopback address or `localhost`.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks and normalizes the base URL: http(s), a host, no path beyond `/`, http only to loopback.
fn base_url(raw: &str) -> Result<Url, ClientError> {
    let bad = |reason: &str| ClientError::BadUrl {
        url: raw.to_string(),
        reason: reason.to_string(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.host().is_none() {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials belong in username/password, not in the URL",
        ));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(bad("give the server only, without a path"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("no query or fragment allowed"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ClientError::InsecureUrl {
            url: raw.to_string(),
        }),
        other => Err(bad(&format!("scheme {other:?} is not http or https"))),
    }
}

impl Client {
    /// Builds a client. Plain `http://` is refused unless the host is loopback; redirects
    /// are never followed; system proxy variables are ignored (only `cfg.proxy` is used).
    pub fn new(cfg: ClientConfig) -> Result<Client, ClientError> {
        let base = base_url(&cfg.base_url)?;
        let mut headers = HeaderMap::new();
        headers.insert("X-Requested-With", HeaderValue::from_static("baseliner"));
        if HeaderValue::from_str(&cfg.username).is_err() || cfg.username.contains(':') {
            return Err(ClientError::BadHeader {
                field: "username",
                value: cfg.username.clone(),
            });
        }
        let user_agent =
            HeaderValue::from_str(&cfg.user_agent).map_err(|_| ClientError::BadHeader {
                field: "user_agent",
                value: cfg.user_agent.clone(),
            })?;
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.request_timeout)
            .redirect(reqwest::redirect::Policy::none());
        builder = match &cfg.proxy {
            Some(p) => {
                builder.proxy(reqwest::Proxy::all(p).map_err(|e| ClientError::BadProxy {
                    proxy: p.clone(),
                    reason: e.to_string(),
                })?)
            }
            None => builder.no_proxy(),
        };
        if let Some(pem) = &cfg.extra_ca_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientError::BadCa {
                    reason: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(ClientError::BadCa {
                    reason: "no certificate found".into(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(Client {
            http,
            base,
            password: Arc::new(RwLock::new(cfg.password.clone())),
            cfg: Arc::new(cfg),
            scan_list_flipped: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Replaces the password of this client and of every clone of it: the calls sent from
    /// now on log in with `password` (calls already sent keep the one they had).
    pub fn set_password(&self, password: Secret) {
        // A panic while holding the lock left a whole `Secret` behind: still usable.
        let mut held = self.password.write().unwrap_or_else(|p| p.into_inner());
        *held = password;
    }

    /// The password the next call sends.
    pub(crate) fn password(&self) -> Secret {
        self.password
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The scan list version in use (the configured one, or the other after a 404 or a
    /// 400/1901).
    pub fn scan_list_version(&self) -> ApiVersion {
        if self.scan_list_flipped.load(Ordering::Relaxed) {
            self.cfg.scan_list_version.other()
        } else {
            self.cfg.scan_list_version
        }
    }

    /// The path of a call under the current config and fallback state.
    pub(crate) fn path(&self, call: Call) -> &'static str {
        call.path(self.cfg.asset_api, self.scan_list_version())
    }

    /// The API key (`<path>?action=<action>`) the next `call` will use: the unit by
    /// which Qualys counts rate and concurrency limits.
    pub fn api_for(&self, call: Call) -> String {
        api_key(self.path(call), call.action())
    }

    /// Sends one call to `path` with `params` (plus `action`), without reading the body.
    pub(crate) async fn send(
        &self,
        call: Call,
        path: &str,
        params: &[(&str, String)],
        total_timeout: bool,
    ) -> Result<Response, ApiError> {
        let key = api_key(path, call.action());
        let ctx = Ctx {
            api: &key,
            safe: call.safe_to_repeat(),
        };
        let mut url = self.base.clone();
        url.set_path(path);
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 1);
        if !call.action().is_empty() {
            all.push(("action", call.action()));
        }
        all.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let request = if call.is_post() {
            self.http.post(url).form(&all)
        } else {
            url.query_pairs_mut().extend_pairs(&all);
            self.http.get(url)
        };
        let request = if total_timeout {
            request.timeout(self.cfg.request_timeout)
        } else {
            request
        };
        request
            .basic_auth(&self.cfg.username, Some(self.password().expose()))
            .send()
            .await
            .map_err(|e| transport(ctx, &e, None, Limits::default()))
    }

    /// GETs an absolute URL the server handed out (a 1980 next-page URL). Refused unless
    /// it points at the configured server, so credentials never go anywhere else.
    pub(crate) async fn send_url(&self, call: Call, raw: &str) -> Result<Response, ApiError> {
        let key = self.api_for(call);
        let ctx = Ctx {
            api: &key,
            safe: call.safe_to_repeat(),
        };
        let url = Url::parse(raw.trim()).map_err(|e| {
            ctx.error(
                ErrorKind::Protocol,
                None,
                None,
                format!("next-page URL {raw:?} is invalid: {e}"),
                Limits::default(),
            )
        })?;
        if url.origin() != self.base.origin() {
            return Err(ctx.error(
                ErrorKind::Protocol,
                None,
                None,
                format!("next-page URL {raw:?} is not on the configured server"),
                Limits::default(),
            ));
        }
        self.http
            .get(url)
            .timeout(self.cfg.request_timeout)
            .basic_auth(&self.cfg.username, Some(self.password().expose()))
            .send()
            .await
            .map_err(|e| transport(ctx, &e, None, Limits::default()))
    }

    /// One XML call: send, read the body (bounded), classify and parse. The scan list
    /// falls back to the other path version once when the one in use answers 404, or 400
    /// with CODE 1901 (a version that does not know the call's parameters; §0, issue 11 §6).
    pub(crate) async fn xml_call<T>(
        &self,
        call: Call,
        params: &[(&str, String)],
        parse: impl FnOnce(&Document<'_>) -> Result<T, ParseError>,
    ) -> Result<Reply<T>, ApiError> {
        let mut path = self.path(call);
        let mut response = self.send(call, path, params, true).await?;
        if call == Call::ListScans {
            let key = api_key(path, call.action());
            let ctx = Ctx {
                api: &key,
                safe: call.safe_to_repeat(),
            };
            let refused = match response.status().as_u16() {
                404 => Some("404"),
                400 => {
                    let limits = Limits::from_headers(response.headers());
                    let body = read_body(ctx, &mut response, Vec::new()).await?;
                    match decode(ctx, 400, limits, &body, |_| Ok(())) {
                        // Qualys's text is not logged: it is untrusted.
                        Err(e) if e.code == Some(1901) => Some("400 CODE 1901"),
                        Err(e) => return Err(e),
                        Ok(()) => {
                            return Err(ctx.error(
                                ErrorKind::Protocol,
                                Some(400),
                                None,
                                "HTTP 400 with a success body",
                                limits,
                            ))
                        }
                    }
                }
                _ => None,
            };
            if let Some(why) = refused {
                let from = self.scan_list_version();
                let to = from.other();
                tracing::warn!(
                    api = %key,
                    "scan list answered {} on version {}; falling back to {}",
                    why,
                    from.segment(),
                    to.segment()
                );
                self.scan_list_flipped.fetch_xor(true, Ordering::Relaxed);
                path = call.path(self.cfg.asset_api, to);
                response = self.send(call, path, params, true).await?;
            }
        }
        let key = api_key(path, call.action());
        read_and_decode(
            Ctx {
                api: &key,
                safe: call.safe_to_repeat(),
            },
            response,
            parse,
        )
        .await
    }
}

/// Reads a whole (bounded) body and decodes it.
pub(crate) async fn read_and_decode<T>(
    ctx: Ctx<'_>,
    mut response: Response,
    parse: impl FnOnce(&Document<'_>) -> Result<T, ParseError>,
) -> Result<Reply<T>, ApiError> {
    let status = response.status().as_u16();
    let limits = Limits::from_headers(response.headers());
    let body = read_body(ctx, &mut response, Vec::new()).await?;
    decode(ctx, status, limits, &body, parse).map(|value| Reply { value, limits })
}

/// Reads the rest of `response` after the bytes already in `body`, refusing more than
/// [`MAX_XML_BODY`] bytes in all.
pub(crate) async fn read_body(
    ctx: Ctx<'_>,
    response: &mut Response,
    mut body: Vec<u8>,
) -> Result<Vec<u8>, ApiError> {
    let status = response.status().as_u16();
    let limits = Limits::from_headers(response.headers());
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_XML_BODY {
                    return Err(ctx.error(
                        ErrorKind::Protocol,
                        Some(status),
                        None,
                        format!(
                            "body larger than {MAX_XML_BODY} bytes: {}",
                            excerpt(&String::from_utf8_lossy(&body))
                        ),
                        limits,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport(ctx, &e, Some(status), limits)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn cfg(url: &str) -> ClientConfig {
        ClientConfig::new(url, "user", Secret::new("s3cret-pw"))
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/",
            "http://localhost:1",
            "https://qualysapi.qualys.com",
        ] {
            assert!(Client::new(cfg(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://qualysapi.qualys.com",
            "http://10.0.0.1",
            "http://[::2]",
        ] {
            assert!(
                matches!(Client::new(cfg(bad)), Err(ClientError::InsecureUrl { .. })),
                "{bad}"
            );
        }
        for bad in [
            "ftp://x",
            "https://h/api/2.0/",
            "not a url",
            "https://u:p@h",
        ] {
            assert!(
                matches!(Client::new(cfg(bad)), Err(ClientError::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_hides_password() {
        let client = Client::new(cfg("https://qualysapi.qualys.com")).expect("valid config");
        let shown = format!("{client:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
    }

    #[test]
    fn a_new_password_reaches_every_clone_and_never_prints() {
        let client = Client::new(cfg("https://qualysapi.qualys.com")).expect("valid config");
        let clone = client.clone();
        assert_eq!(clone.password().expose(), "s3cret-pw");
        client.set_password(Secret::new("n3w-pw"));
        assert_eq!(clone.password().expose(), "n3w-pw", "clones share it");
        assert_eq!(client.password().expose(), "n3w-pw");
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("n3w-pw") && !shown.contains("s3cret-pw"),
            "{shown}"
        );
    }

    #[test]
    fn bad_username_and_ca_refused() {
        let mut c = cfg("https://h");
        c.username = "a:b".into();
        assert!(matches!(Client::new(c), Err(ClientError::BadHeader { .. })));
        let mut c = cfg("https://h");
        c.extra_ca_pem = Some(b"garbage".to_vec());
        assert!(matches!(Client::new(c), Err(ClientError::BadCa { .. })));
    }

    #[test]
    fn api_for_follows_config() {
        let mut c = cfg("https://h");
        c.scan_list_version = ApiVersion::V2;
        let client = Client::new(c).expect("valid config");
        assert_eq!(
            client.api_for(Call::ListScans),
            "/api/2.0/fo/scan/?action=list"
        );
        client.scan_list_flipped.store(true, Ordering::Relaxed);
        assert_eq!(
            client.api_for(Call::ListScans),
            "/api/3.0/fo/scan/?action=list"
        );
    }
}
