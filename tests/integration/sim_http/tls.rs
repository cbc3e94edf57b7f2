//! The simulator over HTTPS (`Sim::start_tls`, what `baseliner sim --tls` serves): the
//! project's own client reaches it once it trusts the generated CA, and not before; plain
//! HTTP to the TLS port gets no HTTP answer.

use std::net::SocketAddr;
use std::time::Duration;

use baseliner_qualys::{Client, ClientConfig, Secret};
use qualys_sim::{Sim, SimConfig, SimTls};

use super::client::send_raw;

async fn tls_sim() -> (Sim, SimTls) {
    let tls = SimTls::generate().expect("TLS identity");
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = Sim::start_tls(SimConfig::fast(), addr, &tls)
        .await
        .expect("TLS simulator starts");
    (sim, tls)
}

fn client(base_url: String, ca: Option<&SimTls>) -> Client {
    let mut cfg = ClientConfig::new(base_url, "demo", Secret::new("demo"));
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.request_timeout = Duration::from_secs(10);
    cfg.extra_ca_pem = ca.map(|t| t.ca_pem().as_bytes().to_vec());
    Client::new(cfg).expect("client for the TLS simulator")
}

#[tokio::test]
async fn own_client_lists_templates_over_https_when_it_trusts_the_ca() {
    let (sim, tls) = tls_sim().await;
    let url = sim.url();
    assert_eq!(url, format!("https://{}", sim.addr()));

    let templates = client(url, Some(&tls))
        .list_report_templates()
        .await
        .expect("template list over HTTPS")
        .value;
    let got: Vec<(u64, String)> = templates.iter().map(|t| (t.id, t.title.clone())).collect();
    let want: Vec<(u64, String)> = SimConfig::fast()
        .templates
        .iter()
        .map(|t| (t.id, t.title.clone()))
        .collect();
    assert_eq!(got, want);

    let journal = sim.journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0].path, "/msp/report_template_list.php");
    assert_eq!(journal[0].status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_certificate_also_names_localhost() {
    let (sim, tls) = tls_sim().await;
    let url = format!("https://localhost:{}", sim.addr().port());
    let templates = client(url, Some(&tls))
        .list_report_templates()
        .await
        .expect("template list via https://localhost")
        .value;
    assert!(templates.iter().any(|t| t.id == 1), "{templates:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn without_the_ca_or_without_tls_no_request_gets_through() {
    let (sim, _tls) = tls_sim().await;
    let err = client(sim.url(), None)
        .list_report_templates()
        .await
        .expect_err("an untrusted certificate must be refused");
    assert_eq!(err.http_status, None, "{err}");

    let other = SimTls::generate().expect("another TLS identity");
    let err = client(sim.url(), Some(&other))
        .list_report_templates()
        .await
        .expect_err("another run's CA must not be trusted");
    assert_eq!(err.http_status, None, "{err}");

    let raw = send_raw(
        sim.addr(),
        "GET /msp/report_template_list.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap_or_default();
    assert!(
        !raw.starts_with(b"HTTP/"),
        "plain HTTP got an HTTP answer: {}",
        String::from_utf8_lossy(&raw)
    );
    assert!(sim.journal().is_empty(), "{:?}", sim.journal());
    sim.shutdown().await;
}
