//! baseliner's core: the decisions, none of the IO.
//!
//! - [`job`], [`ip`], [`scope`]: job files and their validation against the authorized scope;
//! - [`config`]: the daemon's TOML config, validated with errors that name the key;
//! - [`state`], [`machine`]: the job state machine — data, and pure transitions of
//!   (checkpoint, outcome, now);
//! - [`queue`]: job management — retry, hold, retention (pure decisions);
//! - [`schedule`]: which jobs act now, which polls share a call, when the driver wakes;
//! - [`codec`], [`store`]: the versioned encoding and the sled checkpoint store;
//! - [`time`]: wall-clock timestamps and durations;
//! - [`text`]: untrusted text — the format-character check of job fields, escaping for log
//!   lines, sanitizing for terminal table cells.
//!
//! This crate has no async runtime and no HTTP types: the daemon drives it.

pub mod backoff;
pub mod codec;
pub mod config;
pub mod hash;
pub mod ip;
pub mod job;
pub mod machine;
pub mod queue;
pub mod schedule;
pub mod scope;
pub mod state;
pub mod store;
pub mod text;
pub mod time;
pub mod witness;
