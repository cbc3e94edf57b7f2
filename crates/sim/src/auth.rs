//! Authentication: Basic credentials, the QualysSession cookie, and the session API.

use std::collections::HashSet;

use base64::Engine as _;
use hyper::header::{HeaderMap, AUTHORIZATION, COOKIE};

use crate::config::SimConfig;
use crate::params::Params;
use crate::reply::Reply;

/// Name of the session cookie.
const COOKIE_NAME: &str = "QualysSession";

/// The login of valid Basic credentials in `headers`, if any.
pub(crate) fn basic_user(cfg: &SimConfig, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    (user == cfg.username && pass == cfg.password).then(|| user.to_owned())
}

/// The QualysSession cookie value in `headers`, if any.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == COOKIE_NAME).then(|| v.to_owned())
        })
}

/// The session API: `login` (username, password) sets the cookie, `logout` ends it.
pub(crate) fn session(
    cfg: &SimConfig,
    sessions: &mut HashSet<String>,
    p: &Params,
    headers: &HeaderMap,
    token: String,
) -> Reply {
    match p.get("action").unwrap_or("") {
        "login" => {
            let (Some(u), Some(pw)) = (p.get("username"), p.get("password")) else {
                return Reply::missing("username, password");
            };
            if u != cfg.username || pw != cfg.password {
                return Reply::bad_login();
            }
            sessions.insert(token.clone());
            Reply::ok("Logged in", &[])
                .header(
                    "Set-Cookie",
                    format!("{COOKIE_NAME}={token}; path=/api; secure"),
                )
                .header(
                    "Set-Cookie",
                    format!("DWRSESSIONID={token}; path=/; secure"),
                )
        }
        "logout" => match session_cookie(headers) {
            Some(t) if sessions.remove(&t) => Reply::ok("Logged out", &[]).header(
                "Set-Cookie",
                format!("{COOKIE_NAME}=deleted; path=/api; expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            ),
            _ => Reply::error(401, 2000, "Bad Login/Password"),
        },
        other => Reply::error(
            400,
            1901,
            &format!("Unrecognized parameter(s): action={other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn basic_and_cookie_parsing() {
        let cfg = SimConfig::default();
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic ZGVtbzpkZW1v"),
        ); // demo:demo
        assert_eq!(basic_user(&cfg, &h).as_deref(), Some("demo"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic ZGVtbzp4")); // demo:x
        assert_eq!(basic_user(&cfg, &h), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=b; QualysSession=abc123"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("abc123"));
    }
}
