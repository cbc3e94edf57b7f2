//! Runs the simulator alone with its default settings (`demo`/`demo`, scans of ~10 s):
//! `cargo run -p qualys-sim --example serve [ADDR]`, default `127.0.0.1:0`; prints the URL.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(a) => a.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("address {a:?}: {e}"),
            )
        })?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    qualys_sim::serve_forever(qualys_sim::SimConfig::default(), addr, |a| {
        println!("http://{a}")
    })
    .await
}
