//! qualys-sim: a Qualys VM API simulator over real HTTP/1.1 on loopback, for tests, demos
//! and benchmarks. It writes its own XML (never shared with the client crate) shaped like
//! the real service's: XML declaration, DOCTYPE, evaluation and CONFIDENTIAL comments,
//! CDATA for free text, the real TEXT strings, CODEs and HTTP statuses.
//!
//! # Model
//! Each rule names the section of `shared/qualys-api.md` it comes from; where a fact is
//! uncertain (\[U\] there) the simulator takes the stricter reading and says so.
//!
//! - **Subscription** (§4.1, §4.2): IPs added through `asset/ip` (`enable_vm` or
//!   `enable_pc` required, 1922) or `asset_ip.php`; [`Sim::add_subscription_ips`] seeds it
//!   without HTTP.
//! - **Asset groups** (§5.1): unique titles (duplicate → 1905); `title` and `comments` at
//!   most 255 characters and the title `All` reserved (→ 1905, also for `set_title` /
//!   `set_comments` on edit); [`Sim::add_group`] seeds one without HTTP.
//! - **Scan launch** (§6.1): `option_title` / `option_id` must name one of
//!   [`SimConfig::option_profiles`] (unknown → 1905 `… (no option profile with this
//!   title)`; both → 1904); `scan_title` at most 2000 characters (→ 1905). Targets:
//!   `asset_groups` is **split at every comma** and each part must be an existing title
//!   (so `Acme, Inc.` fails naming `Inc.`, `Victim,Acme` scans both groups),
//!   `asset_group_ids` is a comma list of group IDs (unknown → 1905), mixing the two →
//!   1904, plus `ip`. TARGET is the union of the groups' IP sets and `ip`, ∩ the
//!   subscription: others are dropped silently; if none remain the launch fails with HTTP
//!   400 CODE 1905 `Cannot launch scan. These IPs are not in your subscription: …`.
//!   [`SimConfig::excluded_ips`] stay in TARGET but are not scanned. `show_ags=1` lists
//!   ASSET_GROUP_TITLE_LIST (§6.2).
//! - **Scan lifecycle** (§6.2): `Queued` → `Running` → `Finished` (PROCESSED 0) →
//!   PROCESSED 1 on the configured timings, computed from elapsed time when read; `cancel`
//!   and [`Sim::set_scan_state`] force a sticky state; SUB_STATE `No_Host` when no scanned
//!   host answered.
//! - **Raw results** (§6.4, details in the `raw` module): `mode` defaults to `brief` (ip,
//!   dns, netbios, qid, results — no severity); `mode=extended` gives full records;
//!   `json`/`csv` hold findings only, `json_extended`/`csv_extended` add the scan metadata
//!   first, host-coverage objects (`hosts_not_scanned_host_not_alive_ip`,
//!   `hosts_not_scanned_excluded_host_ip`) and `target_distribution_across_scanner_appliances`
//!   last. Findings are deterministic per address (a hash picks whether the host answers,
//!   its OS and 2–5 QIDs of severity 1–5, `Vuln`, `Potential Vuln` or `Ig`); of the seed
//!   addresses 64.39.106.0-3 one does not answer and one has a severity-4 finding.
//! - **Templates** (§7.1): `report_template_list.php` lists [`SimConfig::templates`] with
//!   ID, TYPE (`Auto`/`Manual`), TEMPLATE_TYPE and TITLE, like the recorded sample. By
//!   default 1–3 are the stock `Auto`/`Scan` "Technical Report", "Executive Report" and
//!   "High Severity Report", 4 is `Manual`/`Scan` "Scan Results", 5 `Auto`/`Patch`.
//! - **Report launch** (§7.2): a `Manual` template needs `report_refs` naming processed
//!   scans and refuses `ips`/`asset_group_ids` (1905); an `Auto` template refuses
//!   `report_refs` (undocumented: strict, 1905), needs `ips` and/or `asset_group_ids` (1922)
//!   and covers exactly those hosts ∩ the subscription ([`Sim::reports`] shows them; only
//!   hosts a processed scan has scanned have findings in it); a
//!   template whose TEMPLATE_TYPE is not `Scan` → 1905; `report_title` at most 128
//!   characters (1905); formats pdf, xml, csv, html. Reports are `Running` for
//!   `report_running`, then `Finished`; fetching earlier answers HTTP 200 CODE 7001 (§7.4).
//! - **Parameters** (§0): every endpoint has an allow-list (the `routes` module, each with
//!   its §); anything else → HTTP 400 CODE 1901 `Unrecognized parameter(s): …` naming every
//!   unknown name, nothing applied. Names are case-sensitive.
//! - **Limits** (§2.1, §2.2): per API key (`path?action=…`), sliding window counting
//!   allowed calls only; concurrency is checked first and a refused call does not hold a
//!   slot. The headers: see *Rate-limit headers* below.
//!
//! # Choices where the real behaviour is not documented
//! - A v2/v3 call (`/api/…`) without `X-Requested-With` gets HTTP 400 CODE 1903
//!   `Missing required header: X-Requested-With` (after authentication), nothing applied
//!   (§0 \[U\]).
//! - An unknown `action` gets HTTP 400 CODE 1901 `Unrecognized parameter(s): action=…`.
//! - A documented parameter the simulator does not model (`fqdn`, `echo_request`, …) is
//!   refused like an unknown one, so no client believes it had an effect.
//! - CIDR in IP lists is refused (1905); hyphen ranges and single addresses are accepted
//!   (§0 \[U\]).
//! - Scan fetch before Finished: 400 / 1905 (§6.4 \[U\]).
//! - Raw results JSON: every value is a string (`"severity":"4"`); the coverage keys are
//!   the simulator's (§6.4 \[U\]).
//! - 1981 and 1999 (§3.2, texts not captured) are answered HTTP 400 with a SIMPLE_RETURN,
//!   so a client must classify them by CODE, not by status.
//! - A fault-injected 1965 asks for a 2 s wait.
//!
//! # Rate-limit headers
//! Every answer of a call that reached the limiter carries `X-RateLimit-Limit`,
//! `-Window-Sec`, `-Remaining`, `-ToWait-Sec` and `X-Concurrency-Limit-Limit`, `-Running`
//! (§2.1); a 409 / 1960 carries only the concurrency pair, as in the guide's sample (§2.2).
//! The session API's answers carry none (§2.1), and neither do answers given before the
//! limiter (a 301 or 404 for a wrong path, 401 / 2000, 1903 for a missing header or
//! action, 1901 for an unknown action or parameter) or the HTML pages of the 5xx and
//! maintenance faults, which stand for a front end that never reached the API.
//!
//! # Faults ([`Faults`], for tests)
//! HTML 500 pages, CODE 999 (GENERIC_RETURN, §3.1), 503 maintenance pages, slow answers,
//! spurious 409s (1960, 1965 with and without ToWait), drop-after-apply (the change is
//! made, then the connection closes without a response), **slow apply** (a mutation — IP
//! add, group add/edit, scan launch, report launch — takes effect `slow_apply` after it
//! arrived, whether or not the client is still connected, §2.4; the journal's
//! `applied_at` says when), CODE 1981 and 1999 (§3.2), a **hostile body** (an internal DTD
//! subset with a flat entity expansion, ~480 KB → ~5 GB; real Qualys sends only external
//! DOCTYPEs, §8.2) and **trickling downloads** (scan and report fetch bodies at a few bytes
//! per second). `only_apis` restricts a plan to chosen APIs; with probability 1.0 a fault
//! hits every call of them.
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
//! curl -s -u demo:demo -H "$H" -d action=launch -d scan_title=Baseline -d asset_group_ids=2400001 \
//!      -d option_title="New IPs option profile" "$S/api/2.0/fo/scan/"
//!                                                    # ITEM REFERENCE scan/<epoch>.36001
//! REF=scan/...                                       # the REFERENCE above
//! curl -s -u demo:demo -H "$H" "$S/api/3.0/fo/scan/?action=list&scan_ref=$REF"
//!                                                    # repeat until STATE Finished, PROCESSED 1
//! curl -s -u demo:demo -H "$H" "$S/msp/report_template_list.php"     # TYPE Auto / Manual
//! curl -s -u demo:demo -H "$H" -d action=launch -d template_id=1 -d output_format=xml \
//!      -d asset_group_ids=2400001 -d report_title=Baseline "$S/api/2.0/fo/report/"
//!                                                    # ITEM ID 4927001 (Auto: hosts, no report_refs)
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/report/?action=fetch&id=4927001"
//!                                                    # CODE 7001 while Running
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/report/?action=list&id=4927001"  # STATE Finished
//! curl -s -u demo:demo -H "$H" -o report.xml "$S/api/2.0/fo/report/?action=fetch&id=4927001"
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/scan/?action=fetch&scan_ref=$REF&output_format=json_extended&mode=extended"
//!                                                    # metadata, full findings, distribution last
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/scan/?action=fetch&scan_ref=$REF&output_format=json"
//!                                                    # brief: no severity
//! curl -s -u demo:demo -H "$H" "$S/api/2.0/fo/scan/?action=list&bogus=1"      # 400 CODE 1901
//! curl -s -i -u demo:demo -H "$H" "$S/api/2.0/fo/scan?action=list"            # 301 + Location
//! ```
//!
//! # HTTPS
//! [`Sim::start_tls`] (`baseliner sim --tls`) serves the same API over HTTPS with a
//! [`SimTls`] identity made at start: a throwaway CA and a server certificate it signed for
//! `127.0.0.1` and `localhost`. Clients trust [`SimTls::ca_pem`]. This is for third-party
//! clients that only build `https://` URLs, such as Python's `qualysapi`.
//!
//! # In tests
//! [`Sim::start`] on `127.0.0.1:0`, then [`Sim::url`]; [`SimConfig::fast`] makes scans
//! finish in about a second. [`Sim::add_subscription_ips`] and [`Sim::add_group`] seed the
//! model; [`Sim::groups`], [`Sim::scans`] and [`Sim::reports`] show it (targets included);
//! [`Sim::journal`] records every request (with `applied_at`); [`Sim::set_faults`] injects
//! the faults above.

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
mod respond;
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
