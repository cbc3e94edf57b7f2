//! The baseliner daemon and CLI as a library: the binary (`main.rs`) is a thin shell
//! over [`cmd::dispatch`], and benchmarks and tests reach the same code.
//!
//! - [`engine`]: the run loop, the driver of the core's state machine;
//! - [`exec`]: performs one action against Qualys and reports its outcome;
//! - [`adapt`]: the conversions between the core's and the client's types;
//! - [`governor`]: per-API rate and concurrency governors fed by response headers;
//! - [`intake`], [`spool`], [`status`], [`daemon_status`], [`fsutil`], [`leftovers`]: the
//!   spool and its durable files;
//! - [`requests`]: the request directories (`cancel/`, `retry/`, `hold/`, `purge/`);
//!   [`removal`]: finished jobs removed (`[retention]`, `purge`);
//! - [`lock`]: one daemon per spool and per state directory;
//! - [`recovery`]: the store held against the spool's status files (a lost store rebuilt);
//! - [`preflight`]: the checks a config must pass (check-config, run, SIGHUP);
//!   [`harden`]: the daemon's process made non-dumpable;
//! - [`probe`]: the login check at start and after SIGHUP;
//! - [`outputs`], [`actions`]: a finished job's files and the action items made from them;
//! - [`cmd`], [`cli`]: the commands; [`build_info`]: the version, commit and build date.

pub mod actions;
pub mod adapt;
pub mod build_info;
pub mod cli;
pub mod cmd;
pub mod crashpoint;
pub mod credentials;
pub mod daemon_status;
pub mod engine;
pub mod exec;
pub mod fsutil;
pub mod governor;
pub mod harden;
pub mod held;
pub mod intake;
pub mod jobcheck;
pub mod leftovers;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod outputs;
pub mod preflight;
pub mod probe;
pub mod recovery;
pub mod removal;
pub mod requests;
pub mod sdnotify;
pub mod signals;
pub mod spool;
pub mod status;
pub mod waits;
