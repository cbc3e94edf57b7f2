//! Black-box tests of the simulator over real HTTP on 127.0.0.1, with a minimal
//! HTTP/1.1 client (no HTTP library on the client side), and of its HTTPS mode through
//! the project's own client (`tls`).

mod client;
mod errors;
mod faults;
mod limits;
mod strict;
mod tls;
mod workflow;
