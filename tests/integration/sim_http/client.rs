//! A minimal HTTP/1.1 client over `TcpStream`: one request per connection (`Connection: close`).

use std::net::SocketAddr;

use qualys_sim::{Sim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts a simulator with `cfg` on an ephemeral 127.0.0.1 port.
pub async fn start(cfg: SimConfig) -> Sim {
    Sim::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("sim starts")
}

/// Starts a simulator with [`SimConfig::fast`].
pub async fn start_fast() -> Sim {
    start(SimConfig::fast()).await
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Text between the first `<tag>` and `</tag>`, CDATA markers and whitespace removed.
    pub fn tag(&self, tag: &str) -> Option<String> {
        tag_in(&self.text(), tag)
    }
}

/// Text between the first `<tag>` and `</tag>` in `s`, CDATA stripped and trimmed.
pub fn tag_in(s: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = s.find(&open)? + open.len();
    let end = start + s[start..].find(&format!("</{tag}>"))?;
    let v = s[start..end].trim();
    let v = v
        .strip_prefix("<![CDATA[")
        .and_then(|v| v.strip_suffix("]]>"))
        .unwrap_or(v);
    Some(v.trim().to_owned())
}

/// Raw bytes of what the server sent, or the IO error.
pub async fn send_raw(addr: SocketAddr, request: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    Ok(buf)
}

/// Sends one request; `headers` are added as given.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let raw = send_raw(addr, &req)
        .await
        .expect("request/response over loopback");
    parse(&raw)
}

/// Parses a `Connection: close` response (Content-Length or read-to-end body).
pub fn parse(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("numeric status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A form body from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Basic demo:demo.
pub const AUTH: (&str, &str) = ("Authorization", "Basic ZGVtbzpkZW1v");
/// The CSRF header.
pub const XRW: (&str, &str) = ("X-Requested-With", "qualys-sim tests");

/// An authenticated POST with a form body.
pub async fn post(addr: SocketAddr, path: &str, pairs: &[(&str, &str)]) -> Resp {
    request(addr, "POST", path, &[AUTH, XRW], &form(pairs)).await
}

/// An authenticated GET with a query string.
pub async fn get(addr: SocketAddr, path: &str, pairs: &[(&str, &str)]) -> Resp {
    request(
        addr,
        "GET",
        &format!("{path}?{}", form(pairs)),
        &[AUTH, XRW],
        "",
    )
    .await
}

/// The text of an authenticated `Connection: close` POST of `pairs` to `path`, for tests
/// that send it themselves (to give up early or read slowly).
pub fn post_text(path: &str, pairs: &[(&str, &str)]) -> String {
    let body = form(pairs);
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}: {}\r\n{}: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        AUTH.0,
        AUTH.1,
        XRW.0,
        XRW.1,
        body.len()
    )
}

/// The `REFERENCE` item (`scan/…`) of a scan launch answer.
pub fn scan_reference(r: &Resp) -> String {
    r.text()
        .split("<VALUE>")
        .filter_map(|v| v.split("</VALUE>").next())
        .find(|v| v.starts_with("scan/"))
        .unwrap_or_else(|| panic!("no REFERENCE in {}", r.text()))
        .to_owned()
}
