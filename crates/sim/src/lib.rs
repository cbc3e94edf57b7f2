//! qualys-sim: a Qualys VM API simulator over real HTTP/1.1 on loopback, for tests, demos
//! and benchmarks. It writes its own XML (never shared with the client crate) shaped like
//! the real service's: XML declaration, DOCTYPE, evaluation and CONFIDENTIAL comments,
//! CDATA for free text, the real TEXT strings, CODEs and HTTP statuses.
//!
//! # Model
//! A subscription (IPs added through `asset/ip` or `asset_ip.php`), asset groups with
//! unique titles, scans and reports. A scan's TARGET is the requested addresses ∩ the
//! subscription: others are dropped silently; if none remain the launch fails with HTTP 400
//! CODE 1905 `Cannot launch scan. These IPs are not in your subscription: …`. A scan goes
//! `Queued` → `Running` → `Finished` (PROCESSED 0) → PROCESSED 1 on the configured timings,
//! computed from elapsed time when read; `cancel` and [`Sim::set_scan_state`] force a
//! sticky state. Reports are `Running` for `report_running`, then `Finished`; fetching
//! earlier answers HTTP 200 CODE 7001. Findings are deterministic per address (a hash
//! picks whether the host answers, its OS and 2–5 QIDs of severity 1–5); of the seed
//! addresses 64.39.106.0-3 one does not answer and one has a severity-4 finding.
//!
//! # Choices where the real behaviour is not documented
//! - A v2/v3 call (`/api/…`) without `X-Requested-With` gets HTTP 400 CODE 1903
//!   `Missing required header: X-Requested-With` (after authentication), nothing applied.
//! - An unknown `action` gets HTTP 400 CODE 1901 `Unrecognized parameter(s): action=…`.
//! - CIDR in IP lists is refused (1905); hyphen ranges and single addresses are accepted.
//! - Duplicate asset group title: 400 / 1905. Scan fetch before Finished: 400 / 1905.
//! - Report launch needs `report_refs` naming processed scans; formats pdf, xml, csv, html.
//! - Raw results JSON: every value is a string (`"severity":"4"`).
//! - Rate limit: per API key (`path?action=…`), sliding window counting allowed calls
//!   only; concurrency is checked first and a refused call does not hold a slot.
//!   A fault-injected 1965 asks for a 2 s wait.
//!
//! # Trying it with curl
//! `baseliner sim --listen 127.0.0.1:0` (or `cargo run -p qualys-sim --example serve`)
//! prints the URL; with the defaults (user `demo`, password `demo`, scans finish ~10 s
//! after launch, reports 2 s later):
//!
//! ```text
//! S=http://127.0.0.1:PORT; H='X-Requested-With: curl'
//! curl -s -u demo:demo -H "$H" -d action=add -d ips=64.39.106.0-64.39.106.3 -d enable_vm=1 \
//!      "$S/api/2.0/fo/asset/ip/"                     # TEXT IPs successfully added to …
//! curl -s -u demo:demo -H "$H" -d action=add -d title=Acme -d ips=64.39.106.0-64.39.106.3 \
//!      "$S/api/2.0/fo/asset/group/"                  # ITEM ID 2400001
//! curl -s -u demo:demo -H "$H" -d action=launch -d scan_title=Baseline -d asset_groups=Acme \
//!      -d option_title="New IPs option profile" "$S/api/2.0/fo/scan/"
//!                                                    # ITEM REFERENCE scan/<epoch>.36001
//! REF=scan/...                                       # the REFERENCE above
//! curl -s -u demo:demo -H "$H" "$S/api/3.0/fo/scan/?action=list&scan_ref=$REF"
//!                                                    # repeat until STATE Finished, PROCESSED 1
//! curl -s -u demo:demo -H "$H" -d action=launch -d template_id=1 -d output_format=xml \
//!      -d report_refs=$REF -d report_title=Baseline "$S/api/2.0/fo/report/"   # ITEM ID 4927001
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/report/?action=fetch&id=4927001"
//!                                                    # CODE 7001 while Running
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/report/?action=list&id=4927001"  # STATE Finished
//! curl -s -u demo:demo -H "$H" -o report.xml "$S/api/2.0/fo/report/?action=fetch&id=4927001"
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/scan/?action=fetch&scan_ref=$REF&output_format=json"
//! curl -s -i -u demo:demo -H "$H" "$S/api/2.0/fo/scan?action=list"            # 301 + Location
//! ```
//!
//! Every response except the session API's carries the `X-RateLimit-*` and
//! `X-Concurrency-Limit-*` headers (see `curl -i`).
//!
//! # HTTPS
//! [`Sim::start_tls`] (`baseliner sim --tls`) serves the same API over HTTPS with a
//! [`SimTls`] identity made at start: a throwaway CA and a server certificate it signed for
//! `127.0.0.1` and `localhost`. Clients trust [`SimTls::ca_pem`]. This is for third-party
//! clients that only build `https://` URLs, such as Python's `qualysapi`.
//!
//! # In tests
//! [`Sim::start`] on `127.0.0.1:0`, then [`Sim::url`]; [`SimConfig::fast`] makes scans
//! finish in about a second. [`Sim::journal`] records every request; [`Sim::set_faults`]
//! injects 5xx, 999, maintenance pages, slow answers, spurious 409s and
//! drop-after-apply (the change is made, then the connection closes without a response).

mod api_asset;
mod api_report;
mod api_scan;
mod auth;
mod clock;
mod config;
mod ctx;
mod faults;
mod findings;
mod handle;
mod hostile;
mod ips;
mod journal;
mod limits;
mod model;
mod params;
mod raw;
mod reply;
mod report_render;
mod routes;
mod server;
mod snapshot;
mod targets;
mod tls;
mod trickle;
mod xml;

pub use config::{SimConfig, Template};
pub use faults::Faults;
pub use journal::JournalEntry;
pub use server::{serve_forever, serve_forever_tls, Sim};
pub use snapshot::{GroupInfo, ReportInfo, ScanInfo};
pub use tls::{SimTls, TlsError};
