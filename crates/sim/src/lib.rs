//! qualys-sim: a Qualys VM API simulator (placeholder doc, rewritten below).

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
mod xml;

pub use config::SimConfig;
pub use faults::Faults;
pub use journal::JournalEntry;
pub use server::{serve_forever, Sim};
