//! The one integration-test binary: every workspace-level test is a module here,
//! so the workspace links a single test executable (as ripgrep does).
mod client;
mod daemon;
mod support;
