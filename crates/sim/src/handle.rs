//! The per-request pipeline: route, authenticate, check the CSRF header, the action and
//! the parameters, apply limits and faults, run the handler (in a task of its own, so a
//! slow-applied mutation outlives its client), journal the outcome.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::{Request, Response};
use tokio::sync::oneshot;

use crate::auth;
use crate::config::SimConfig;
use crate::ctx::Ctx;
use crate::faults::{Fault, FaultPlan};
use crate::journal::JournalEntry;
use crate::limits::{Admission, InFlight, Limits, Verdict};
use crate::model::Model;
use crate::params::{decode_form, Params};
use crate::reply::Reply;
use crate::respond::{
    conc_headers, concurrency_reply, rate_headers, rate_reply, to_response, Body,
};
use crate::routes::{self, PATHS, SESSION, TEMPLATES};

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
    /// The client left while the request waited to reach the API (a slow answer or
    /// latency): nothing was applied and, as before requests ran in a task of their own,
    /// nothing is journaled.
    abandoned: bool,
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
            abandoned: false,
        }
    }
}

/// One request as read from the connection.
struct Call {
    headers: HeaderMap,
    path: String,
    query: String,
    params: Params,
    action: String,
    api: String,
    /// Arrival (monotonic), the origin of a slow apply's delay.
    arrived: Instant,
}

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
    let call = Call {
        headers: parts.headers,
        path,
        query,
        params,
        action,
        api,
        arrived,
    };
    // Dropped with this future when the client hangs up: the task sees it as closed.
    let (mut client, listening) = oneshot::channel::<()>();
    let work = tokio::spawn(async move {
        let out = process(&sh, &call, &mut client).await;
        if out.abandoned {
            return out;
        }
        let entry = JournalEntry {
            at,
            method,
            path: call.path,
            api: call.api,
            params: call.params.0,
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
    drop(listening);
    if out.dropped {
        return Err(DropConnection);
    }
    Ok(to_response(out.reply, out.trickle))
}

/// Decides on one request; `client` closes when the client hangs up.
async fn process(sh: &Shared, call: &Call, client: &mut oneshot::Sender<()>) -> Outcome {
    let (headers, path, query, p) = (&call.headers, &call.path[..], &call.query[..], &call.params);
    let (action, api, arrived) = (&call.action[..], &call.api[..], call.arrived);
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
        let names = p.0.iter().map(|(k, _)| k.as_str());
        if let Err(r) = routes::unknown_params(routes::session_params(action), true, names) {
            return Outcome::plain(r);
        }
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
    let names = p.0.iter().map(|(k, _)| k.as_str());
    if let Err(r) = routes::unknown_params(route.params, !route.action.is_empty(), names) {
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
        abandoned: false,
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
    // A client that hangs up while its request waits here never reaches the API.
    let wait = cfg.latency + draw.delay;
    if !wait.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = client.closed() => {
                return Outcome { abandoned: true, ..mk(Reply::server_error(500), false) };
            }
        }
    }
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
        Fault::Internal => Some(limited(Reply::internal_error(
            path,
            &user,
            sh.counter.fetch_add(1, Ordering::Relaxed) ^ 0x5eed_0000_0000,
        ))),
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
