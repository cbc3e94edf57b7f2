//! The per-request pipeline: route, authenticate, check the CSRF header and the action,
//! apply limits and faults, run the handler, journal the outcome.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response};

use crate::auth;
use crate::config::SimConfig;
use crate::ctx::Ctx;
use crate::faults::{Fault, FaultPlan};
use crate::journal::JournalEntry;
use crate::limits::{wait_words, Admission, InFlight, Limits, Verdict};
use crate::model::Model;
use crate::params::{decode_form, Params};
use crate::reply::Reply;
use crate::routes::{self, PATHS, SESSION, TEMPLATES};
use crate::trickle::Trickle;

/// Seconds a fault-injected 1965 tells the client to wait.
const FAULT_WAIT_SECS: u64 = 2;

/// The simulator's shared state.
pub(crate) struct Shared {
    /// Configuration.
    pub cfg: SimConfig,
    /// `http://ADDR`.
    pub base_url: String,
    /// The subscription.
    pub model: Mutex<Model>,
    /// Rate and concurrency limiter.
    pub limits: Arc<Mutex<Limits>>,
    /// Fault plan.
    pub faults: Mutex<FaultPlan>,
    /// Every request.
    pub journal: Mutex<Vec<JournalEntry>>,
    /// Live session tokens.
    pub sessions: Mutex<HashSet<String>>,
    /// Counter for session tokens and incident signatures.
    pub counter: AtomicU64,
}

/// Locks a mutex, ignoring poisoning (the data stays usable for a simulator).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped after applying the request (fault injection)")]
pub(crate) struct DropConnection;

/// What processing decided, before journaling.
struct Outcome {
    reply: Reply,
    dropped: bool,
    in_flight: u32,
    during_wait: bool,
    applied_at: Option<SystemTime>,
    trickle: Option<u32>,
}

impl Outcome {
    fn plain(reply: Reply) -> Outcome {
        Outcome {
            reply,
            dropped: false,
            in_flight: 0,
            during_wait: false,
            applied_at: None,
            trickle: None,
        }
    }
}

/// The response body: whole, or trickling out (a fault).
pub(crate) type Body = Either<Full<Bytes>, Trickle>;

/// Serves one request. Everything after reading the request runs in a task of its own, so
/// a client that hangs up does not stop a slow-applied mutation from taking effect or its
/// journal entry from being written (hyper drops this future when the connection closes).
pub(crate) async fn handle(
    sh: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let at = SystemTime::now();
    let arrived = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut params = decode_form(&query);
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.contains("x-www-form-urlencoded"));
    if is_form && !body.is_empty() {
        params.extend(decode_form(&String::from_utf8_lossy(&body)));
    }
    let params = Params(params);
    let action = params.get("action").unwrap_or("").to_owned();
    let api = format!("{path}?action={action}");
    let method = parts.method.to_string();
    let headers = parts.headers;
    let work = tokio::spawn(async move {
        let out = process(
            &sh, &headers, &path, &query, &params, &action, &api, arrived,
        )
        .await;
        let entry = JournalEntry {
            at,
            method,
            path,
            api,
            params: params.0,
            status: if out.dropped { 0 } else { out.reply.status },
            code: out.reply.code,
            applied: out.reply.applied,
            applied_at: out.applied_at,
            dropped: out.dropped,
            in_flight: out.in_flight,
            during_wait: out.during_wait,
        };
        lock(&sh.journal).push(entry);
        out
    });
    let out = match work.await {
        Ok(out) => out,
        Err(_) => return Ok(to_response(Reply::server_error(500), None)),
    };
    if out.dropped {
        return Err(DropConnection);
    }
    Ok(to_response(out.reply, out.trickle))
}

/// Builds the hyper response; with `trickle`, the body is sent at that many bytes a second.
fn to_response(r: Reply, trickle: Option<u32>) -> Response<Body> {
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
fn rate_headers(r: Reply, cfg: &SimConfig, remaining: u32, to_wait: u64) -> Reply {
    r.header("X-RateLimit-Limit", cfg.rate_limit.to_string())
        .header(
            "X-RateLimit-Window-Sec",
            cfg.rate_window.as_secs().to_string(),
        )
        .header("X-RateLimit-Remaining", remaining.to_string())
        .header("X-RateLimit-ToWait-Sec", to_wait.to_string())
}

/// The concurrency headers.
fn conc_headers(r: Reply, cfg: &SimConfig, running: u32) -> Reply {
    r.header(
        "X-Concurrency-Limit-Limit",
        cfg.concurrency_limit.to_string(),
    )
    .header("X-Concurrency-Limit-Running", running.to_string())
}

/// 409 / 1960 body.
fn concurrency_reply(running_before: u32, limit: u32) -> Reply {
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
fn rate_reply(to_wait: u64) -> Reply {
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

/// Decides on one request that arrived at `arrived`.
#[allow(clippy::too_many_arguments)]
async fn process(
    sh: &Shared,
    headers: &HeaderMap,
    path: &str,
    query: &str,
    p: &Params,
    action: &str,
    api: &str,
    arrived: Instant,
) -> Outcome {
    let cfg = &sh.cfg;
    if !PATHS.contains(&path) {
        let slashed = format!("{path}/");
        let reply = if PATHS.contains(&slashed.as_str()) {
            let q = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            Reply::moved(&format!("{}{slashed}{q}", sh.base_url))
        } else {
            Reply::not_found(path)
        };
        return Outcome::plain(reply);
    }
    if cfg.retired_apis.iter().any(|a| a == api) {
        return Outcome::plain(Reply::not_found(path));
    }
    let v2 = path.starts_with("/api/");
    let is_login = path == SESSION && action == "login";
    let user = if is_login {
        Some(String::new())
    } else {
        auth::basic_user(cfg, headers).or_else(|| {
            let token = auth::session_cookie(headers).filter(|_| v2)?;
            lock(&sh.sessions)
                .contains(&token)
                .then(|| cfg.username.clone())
        })
    };
    let Some(user) = user else {
        return Outcome::plain(Reply::bad_login());
    };
    if v2 && !headers.contains_key("x-requested-with") {
        return Outcome::plain(Reply::error(
            400,
            1903,
            "Missing required header: X-Requested-With",
        ));
    }
    if action.is_empty() && path != TEMPLATES {
        return Outcome::plain(Reply::missing("action"));
    }
    if path == SESSION {
        let token = format!(
            "{:016x}{:08x}",
            crate::clock::epoch_secs(SystemTime::now()),
            sh.counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let reply = auth::session(cfg, &mut lock(&sh.sessions), p, headers, token);
        sleep(cfg.latency).await;
        return Outcome::plain(reply);
    }
    let route = match routes::route(path, action) {
        Ok(r) => r,
        Err(r) => return Outcome::plain(r),
    };
    if let Err(r) = routes::unknown_params(route, p.0.iter().map(|(k, _)| k.as_str())) {
        return Outcome::plain(r);
    }
    let now = Instant::now();
    let adm: Admission = lock(&sh.limits).arrive(api, now);
    let mut guard = InFlight::new(Arc::clone(&sh.limits), api.to_owned());
    let (in_flight, during_wait) = (adm.in_flight, adm.during_wait);
    let mk = |reply: Reply, dropped: bool| Outcome {
        reply,
        dropped,
        in_flight,
        during_wait,
        applied_at: None,
        trickle: None,
    };
    let remaining = match adm.verdict {
        Verdict::Concurrency => {
            guard.release();
            sleep(cfg.latency).await;
            let r = concurrency_reply(in_flight - 1, cfg.concurrency_limit);
            return mk(conc_headers(r, cfg, in_flight - 1), false);
        }
        Verdict::Rate { to_wait } => {
            guard.release();
            sleep(cfg.latency).await;
            let r = rate_headers(rate_reply(to_wait), cfg, 0, to_wait);
            return mk(conc_headers(r, cfg, in_flight), false);
        }
        Verdict::Allowed { remaining } => remaining,
    };
    let draw = lock(&sh.faults).draw(api, route.kind);
    sleep(cfg.latency + draw.delay).await;
    let limited = |r: Reply| conc_headers(rate_headers(r, cfg, remaining, 0), cfg, in_flight);
    let fault_reply = match draw.fault {
        Fault::None | Fault::DropAfterApply => None,
        Fault::Processing => Some(limited(Reply::error(
            400,
            1981,
            "The request is being processed. Please try again later.",
        ))),
        Fault::ScheduledMaintenance => Some(limited(Reply::error(
            400,
            1999,
            "The system is performing scheduled maintenance. Please try again later.",
        ))),
        Fault::HostileXml => Some(limited(Reply::raw(
            200,
            crate::reply::XML,
            crate::hostile::entity_expansion(),
        ))),
        Fault::Maintenance => Some(Reply::maintenance()),
        Fault::ServerError => Some(Reply::server_error(500)),
        Fault::Internal => Some(Reply::internal_error(
            path,
            &user,
            sh.counter.fetch_add(1, Ordering::Relaxed) ^ 0x5eed_0000_0000,
        )),
        Fault::Concurrency => {
            let r = concurrency_reply(cfg.concurrency_limit, cfg.concurrency_limit);
            Some(conc_headers(r, cfg, cfg.concurrency_limit + 1))
        }
        Fault::Rate | Fault::RateNoHeader => {
            lock(&sh.limits).told_to_wait(api, Instant::now(), FAULT_WAIT_SECS);
            let r = rate_reply(FAULT_WAIT_SECS)
                .header("X-RateLimit-Limit", cfg.rate_limit.to_string())
                .header(
                    "X-RateLimit-Window-Sec",
                    cfg.rate_window.as_secs().to_string(),
                )
                .header("X-RateLimit-Remaining", "0".to_owned());
            let r = if draw.fault == Fault::Rate {
                r.header("X-RateLimit-ToWait-Sec", FAULT_WAIT_SECS.to_string())
            } else {
                r
            };
            Some(conc_headers(r, cfg, in_flight))
        }
    };
    if let Some(r) = fault_reply {
        return mk(r, false);
    }
    // A slow-applied mutation takes effect `slow_apply` after it arrived; this task runs
    // on even when the client has gone.
    sleep((arrived + draw.slow_apply).saturating_duration_since(Instant::now())).await;
    let reply = {
        let mut model = lock(&sh.model);
        let mut c = Ctx {
            cfg,
            model: &mut model,
            p,
            now: Instant::now(),
            wall: SystemTime::now(),
            user: &user,
            base_url: &sh.base_url,
            path,
        };
        (route.handler)(&mut c)
    };
    let applied_at = reply.applied.then(SystemTime::now);
    drop(guard);
    let trickle = draw
        .trickle
        .filter(|_| reply.status == 200 && reply.code.is_none());
    Outcome {
        applied_at,
        trickle,
        ..mk(limited(reply), draw.fault == Fault::DropAfterApply)
    }
}

/// Sleeps unless `d` is zero.
async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
