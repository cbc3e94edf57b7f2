//! From a handler's [`Reply`] to the hyper response: the body (whole or trickling), the
//! headers, and the limiter's `X-RateLimit-*` / `X-Concurrency-Limit-*` headers and 409
//! bodies (qualys-api.md §2.1, §2.2).

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::Response;

use crate::config::SimConfig;
use crate::limits::wait_words;
use crate::reply::Reply;
use crate::trickle::Trickle;

/// The response body: whole, or trickling out (a fault).
pub(crate) type Body = Either<Full<Bytes>, Trickle>;

/// Builds the hyper response; with `trickle`, the body is sent at that many bytes a second.
pub(crate) fn to_response(r: Reply, trickle: Option<u32>) -> Response<Body> {
    let body = match trickle {
        Some(rate) => Either::Right(Trickle::new(r.body, rate)),
        None => Either::Left(Full::new(r.body)),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    for (k, v) in r.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.append(HeaderName::from_static(k_lower(k)), v);
        }
    }
    resp
}

/// Header names are static and written in their canonical form; hyper wants lower case.
fn k_lower(k: &'static str) -> &'static str {
    match k {
        "Location" => "location",
        "Set-Cookie" => "set-cookie",
        "Retry-After" => "retry-after",
        "Content-Disposition" => "content-disposition",
        "X-RateLimit-Limit" => "x-ratelimit-limit",
        "X-RateLimit-Window-Sec" => "x-ratelimit-window-sec",
        "X-RateLimit-Remaining" => "x-ratelimit-remaining",
        "X-RateLimit-ToWait-Sec" => "x-ratelimit-towait-sec",
        "X-Concurrency-Limit-Limit" => "x-concurrency-limit-limit",
        "X-Concurrency-Limit-Running" => "x-concurrency-limit-running",
        _ => "x-sim-unknown",
    }
}

/// The rate headers of an allowed call.
pub(crate) fn rate_headers(r: Reply, cfg: &SimConfig, remaining: u32, to_wait: u64) -> Reply {
    r.header("X-RateLimit-Limit", cfg.rate_limit.to_string())
        .header(
            "X-RateLimit-Window-Sec",
            cfg.rate_window.as_secs().to_string(),
        )
        .header("X-RateLimit-Remaining", remaining.to_string())
        .header("X-RateLimit-ToWait-Sec", to_wait.to_string())
}

/// The concurrency headers.
pub(crate) fn conc_headers(r: Reply, cfg: &SimConfig, running: u32) -> Reply {
    r.header(
        "X-Concurrency-Limit-Limit",
        cfg.concurrency_limit.to_string(),
    )
    .header("X-Concurrency-Limit-Running", running.to_string())
}

/// 409 / 1960 body.
pub(crate) fn concurrency_reply(running_before: u32, limit: u32) -> Reply {
    let to_finish = (running_before + 1).saturating_sub(limit).max(1);
    let text = format!("This API cannot be run again until {to_finish} currently running API instance(s) has finished.");
    Reply::xml(
        409,
        crate::xml::simple_return(
            Some(1960),
            &text,
            &[("CALLS_TO_FINISH", to_finish.to_string())],
        ),
        Some(1960),
    )
}

/// 409 / 1965 body.
pub(crate) fn rate_reply(to_wait: u64) -> Reply {
    let text = format!(
        "This API cannot be run again for another {}.",
        wait_words(to_wait)
    );
    Reply::xml(
        409,
        crate::xml::simple_return(
            Some(1965),
            &text,
            &[("SECONDS_TO_WAIT", to_wait.to_string())],
        ),
        Some(1965),
    )
}
