//! The HTTP/1.1 server on loopback (plain, or HTTPS with a [`SimTls`] identity) and the
//! [`Sim`] handle that controls it.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::config::SimConfig;
use crate::faults::{FaultPlan, Faults};
use crate::handle::{handle, lock, Shared};
use crate::ips::IpSet;
use crate::journal::JournalEntry;
use crate::limits::Limits;
use crate::model::{Group, Model};
use crate::snapshot::{GroupInfo, ReportInfo, ScanInfo};
use crate::tls::SimTls;

/// States [`Sim::set_scan_state`] accepts.
const FORCEABLE: &[&str] = &[
    "Error", "Paused", "Canceled", "Running", "Finished", "Queued",
];

/// A running simulator. Cheap to clone; the server stops on [`Sim::shutdown`] or when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Binds `addr` (e.g. `127.0.0.1:0`) and serves plain HTTP on the current tokio runtime.
    pub async fn start(cfg: SimConfig, addr: SocketAddr) -> std::io::Result<Sim> {
        Sim::launch(cfg, addr, None).await
    }

    /// Like [`Sim::start`], but serves HTTPS with `tls`'s certificate; [`Sim::url`] is then
    /// `https://127.0.0.1:PORT` and clients must trust [`SimTls::ca_pem`].
    pub async fn start_tls(cfg: SimConfig, addr: SocketAddr, tls: &SimTls) -> std::io::Result<Sim> {
        Sim::launch(cfg, addr, Some(tls.acceptor())).await
    }

    async fn launch(
        cfg: SimConfig,
        addr: SocketAddr,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Sim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            limits: Arc::new(Mutex::new(Limits::new(
                cfg.rate_limit,
                cfg.rate_window,
                cfg.concurrency_limit,
            ))),
            cfg,
            base_url: format!("{scheme}://{addr}"),
            model: Mutex::new(Model::default()),
            faults: Mutex::new(FaultPlan::new(Faults::default())),
            journal: Mutex::new(Vec::new()),
            sessions: Mutex::new(HashSet::new()),
            counter: AtomicU64::new(1),
        });
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, tls, Arc::clone(&shared), rx));
        Ok(Sim {
            inner: Arc::new(Inner {
                shared,
                addr,
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://…` when started with [`Sim::start_tls`]).
    pub fn url(&self) -> String {
        self.inner.shared.base_url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Every request received so far, in arrival order of completion.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.inner.shared.journal).clone()
    }

    /// Replaces the fault plan (its PRNG restarts from `faults.seed`).
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.inner.shared.faults) = FaultPlan::new(faults);
    }

    /// Forces scan `scan_ref` into `state` (`Error`, `Paused`, `Canceled`, `Running`,
    /// `Finished`, `Queued`); the state then sticks. False if the scan or state is unknown.
    pub fn set_scan_state(&self, scan_ref: &str, state: &str) -> bool {
        if !FORCEABLE.contains(&state) {
            return false;
        }
        let mut model = lock(&self.inner.shared.model);
        match model.scans.iter_mut().find(|s| s.reference == scan_ref) {
            Some(s) => {
                s.forced = Some(state.to_owned());
                true
            }
            None => false,
        }
    }

    /// The subscription's IP ranges.
    pub fn subscription_ips(&self) -> Vec<(Ipv4Addr, Ipv4Addr)> {
        lock(&self.inner.shared.model)
            .subscription
            .ranges()
            .collect()
    }

    /// Adds `ips` (a Qualys IP list: addresses and `a-b` ranges) to the subscription, as an
    /// `asset/ip` add would, without HTTP and without a journal entry.
    pub fn add_subscription_ips(&self, ips: &str) -> Result<(), String> {
        let set = IpSet::parse(ips).map_err(|e| e.to_string())?;
        lock(&self.inner.shared.model).subscription.extend(&set);
        Ok(())
    }

    /// Creates asset group `title` holding `ips` (a Qualys IP list; addresses need not be in
    /// the subscription), as a group add would, without HTTP; returns its ID. Refused like
    /// the API refuses it: a duplicate title or a bad IP list.
    pub fn add_group(&self, title: &str, ips: &str) -> Result<u64, String> {
        let set = IpSet::parse(ips).map_err(|e| e.to_string())?;
        let mut model = lock(&self.inner.shared.model);
        if model.group_by_title(title).is_some() {
            return Err(format!("an asset group titled {title:?} already exists"));
        }
        let id = model.group_id();
        model.groups.push(Group {
            id,
            title: title.to_owned(),
            ips: set,
            comments: String::new(),
            appliance_ids: Vec::new(),
        });
        Ok(id)
    }

    /// Every asset group, by creation.
    pub fn groups(&self) -> Vec<GroupInfo> {
        lock(&self.inner.shared.model)
            .groups
            .iter()
            .map(GroupInfo::from)
            .collect()
    }

    /// Every scan, by launch.
    pub fn scans(&self) -> Vec<ScanInfo> {
        lock(&self.inner.shared.model)
            .scans
            .iter()
            .map(ScanInfo::from)
            .collect()
    }

    /// Every report, by launch, with the hosts each covers.
    pub fn reports(&self) -> Vec<ReportInfo> {
        lock(&self.inner.shared.model)
            .reports
            .iter()
            .map(ReportInfo::from)
            .collect()
    }

    /// The most calls of `api` (`"<path>?action=<action>"`) ever in flight at once.
    pub fn max_in_flight(&self, api: &str) -> u32 {
        lock(&self.inner.shared.limits).max_in_flight(api)
    }

    /// Stops accepting, closes every connection and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let task = lock(&self.inner.task).take();
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}

/// Runs a simulator until the process ends; calls `on_ready` with the bound address.
pub async fn serve_forever(
    cfg: SimConfig,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let sim = Sim::start(cfg, addr).await?;
    on_ready(sim.addr());
    std::future::pending::<()>().await;
    Ok(())
}

/// [`serve_forever`] over HTTPS with `tls`'s certificate.
pub async fn serve_forever_tls(
    cfg: SimConfig,
    addr: SocketAddr,
    tls: &SimTls,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let sim = Sim::start_tls(cfg, addr, tls).await?;
    on_ready(sim.addr());
    std::future::pending::<()>().await;
    Ok(())
}

/// Accepts connections until told to stop (or the handle is gone), then aborts them.
/// With `tls`, each connection's handshake runs in its own task, so a stalled client holds
/// up no one.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    match tls.clone() {
                        None => conns.spawn(serve_conn(stream, shared)),
                        Some(acceptor) => conns.spawn(async move {
                            match acceptor.accept(stream).await {
                                Ok(stream) => serve_conn(stream, shared).await,
                                Err(e) => {
                                    tracing::debug!(error = %e, "qualys-sim: TLS handshake failed");
                                }
                            }
                        }),
                    };
                }
                Err(e) => {
                    tracing::warn!(error = %e, "qualys-sim: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// Serves one HTTP/1.1 connection; a [`crate::handle::DropConnection`] from the service
/// closes it without writing a response.
async fn serve_conn<S>(stream: S, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
    if let Err(e) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .await
    {
        tracing::debug!(error = %e, "qualys-sim: connection ended");
    }
}
