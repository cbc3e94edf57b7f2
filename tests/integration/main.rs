//! The one integration-test binary: every workspace-level test is a module here,
//! so the workspace links a single test executable (as ripgrep does).
mod action_items;
mod bad_input;
mod cli;
mod client;
mod companions;
mod crash;
mod daemon;
mod environ;
mod faults;
mod hostile_xml;
mod keep_outputs;
mod links;
mod locks;
mod operability;
mod permissions;
mod pipes;
mod preflight;
mod queue;
mod reload;
mod sim_http;
mod staged;
mod status_doc;
mod store_disk;
mod support;
