//! baseliner-qualys: a typed async client for the Qualys VM API calls baseliner needs —
//! add IPs, asset groups, appliances, scans, reports, templates, a login check — with
//! tolerant XML parsing, error classification ([`ErrorKind`]) and the rate-limit headers
//! ([`Limits`]) of every response.
//!
//! Every call has an API key (`<path>?action=<action>`, see [`Client::api_for`]) so the
//! caller can run one rate governor per key around it. The client itself never retries.

#![allow(
    clippy::result_large_err,
    reason = "ApiError carries the limit headers by design; errors are rare next to network time"
)]

mod api;
mod body_kind;
mod calls;
mod classify;
mod client;
mod config;
mod error;
mod fetch;
mod ips;
mod limits;
mod parse;
mod transport;

pub use api::{api_key, Call};
pub use body_kind::BodyKind;
pub use calls::ReportTarget;
pub use calls::TrackingMethod;
pub use client::{Client, Reply};
pub use config::{ApiVersion, AssetApi, ClientConfig, Secret};
pub use error::{ApiError, ClientError, ErrorKind};
pub use fetch::{Download, FetchError};
pub use ips::format_ips;
pub use limits::{Limits, MAX_TO_WAIT};
pub use parse::assets::{Appliance, AssetGroup, AssetGroupPage};
pub use parse::prolog::{check_xml_prolog, XmlRefused};
pub use parse::reports::{Report, ReportState, ReportTemplate};
pub use parse::scans::{LaunchedScan, Scan, ScanState};
pub use parse::simple::Outcome;
pub use parse::ParseError;
