//! Deterministic scan findings: every address maps, through a hash, to a host that is
//! alive or not, its names and OS, and a few vulnerabilities from a small catalog.

use std::net::Ipv4Addr;

/// One entry of the simulator's vulnerability catalog (wording written for the simulator).
#[derive(Debug)]
pub(crate) struct Vuln {
    /// Qualys ID.
    pub qid: u32,
    /// Title.
    pub title: &'static str,
    /// Severity 1–5.
    pub severity: u8,
    /// `Vuln`, `Potential Vuln` or `Ig` (information gathered).
    pub kind: &'static str,
    /// Port, 0 when host-level.
    pub port: u16,
    /// `tcp`, `udp` or `icmp`.
    pub protocol: &'static str,
    /// Service name.
    pub service: &'static str,
    /// Found over TLS.
    pub ssl: bool,
    /// CVE ids, comma-separated (may be empty).
    pub cve: &'static str,
    /// CVSS base score.
    pub cvss: &'static str,
    /// Threat text.
    pub threat: &'static str,
    /// Impact text.
    pub impact: &'static str,
    /// Solution text.
    pub solution: &'static str,
    /// Result text (what the scanner saw).
    pub result: &'static str,
}

/// The catalog findings are drawn from.
pub(crate) const CATALOG: &[Vuln] = &[
    Vuln {
        qid: 82003,
        title: "ICMP Timestamp Request",
        severity: 1,
        kind: "Vuln",
        port: 0,
        protocol: "icmp",
        service: "",
        ssl: false,
        cve: "CVE-1999-0524",
        cvss: "0.0",
        threat: "The host answers ICMP timestamp requests, revealing its clock.",
        impact: "The clock value can help an attacker defeat time-based protections.",
        solution: "Filter ICMP timestamp requests and replies at the edge.",
        result: "Timestamp of host (network byte order): 3982741",
    },
    Vuln {
        qid: 38628,
        title: "TLS Protocol Version 1.0 Enabled",
        severity: 3,
        kind: "Vuln",
        port: 443,
        protocol: "tcp",
        service: "https",
        ssl: true,
        cve: "",
        cvss: "5.0",
        threat: "The service still negotiates TLS 1.0, an outdated protocol version.",
        impact: "Weak protocol versions ease downgrade and decryption attacks.",
        solution: "Disable TLS 1.0 and 1.1; offer TLS 1.2 or later only.",
        result: "TLSv1.0 is supported",
    },
    Vuln {
        qid: 38173,
        title: "TLS Certificate Signature Verification Failed",
        severity: 2,
        kind: "Vuln",
        port: 443,
        protocol: "tcp",
        service: "https",
        ssl: true,
        cve: "",
        cvss: "9.4",
        threat: "The certificate chain presented by the service does not verify.",
        impact: "Clients cannot authenticate the server; interception becomes easier.",
        solution: "Install a certificate issued by a trusted authority, with its chain.",
        result: "Certificate #0 CN=sim.invalid unable to get local issuer certificate",
    },
    Vuln {
        qid: 11827,
        title: "HTTP Security Header Not Detected",
        severity: 2,
        kind: "Vuln",
        port: 80,
        protocol: "tcp",
        service: "http",
        ssl: false,
        cve: "",
        cvss: "5.0",
        threat: "Responses lack common protective HTTP headers.",
        impact: "Browsers apply fewer defenses against framing and content sniffing.",
        solution: "Send X-Frame-Options, X-Content-Type-Options and a content security policy.",
        result: "X-Frame-Options header missing on GET /",
    },
    Vuln {
        qid: 86728,
        title: "Web Server Uses Plain-Text Form Based Authentication",
        severity: 2,
        kind: "Potential Vuln",
        port: 80,
        protocol: "tcp",
        service: "http",
        ssl: false,
        cve: "",
        cvss: "4.3",
        threat: "A login form posts credentials without TLS.",
        impact: "Credentials can be read on the network path.",
        solution: "Serve login forms and their targets over HTTPS only.",
        result: "Form at /login posts to http://",
    },
    Vuln {
        qid: 38739,
        title: "Deprecated SSH Cryptographic Settings",
        severity: 3,
        kind: "Vuln",
        port: 22,
        protocol: "tcp",
        service: "ssh",
        ssl: false,
        cve: "CVE-2008-5161",
        cvss: "2.6",
        threat: "The SSH server offers CBC-mode ciphers and SHA-1 based MACs.",
        impact: "Weak algorithms may allow recovery of plaintext in rare conditions.",
        solution: "Restrict the server to modern ciphers, key exchanges and MACs.",
        result: "Ciphers offered: aes128-cbc,3des-cbc",
    },
    Vuln {
        qid: 105489,
        title: "OpenSSH Outdated Version Detected",
        severity: 4,
        kind: "Vuln",
        port: 22,
        protocol: "tcp",
        service: "ssh",
        ssl: false,
        cve: "CVE-2023-38408,CVE-2023-51385",
        cvss: "9.8",
        threat: "The SSH server banner reports a release with known flaws.",
        impact: "Remote attackers may execute code or bypass restrictions.",
        solution: "Upgrade OpenSSH to the vendor's current release.",
        result: "SSH-2.0-OpenSSH_7.4",
    },
    Vuln {
        qid: 150004,
        title: "Path-Based Vulnerability",
        severity: 3,
        kind: "Potential Vuln",
        port: 8080,
        protocol: "tcp",
        service: "http",
        ssl: false,
        cve: "",
        cvss: "5.3",
        threat: "An administrative path answers without authentication.",
        impact: "Configuration details may be disclosed.",
        solution: "Restrict administrative paths to trusted networks.",
        result: "GET /admin/ returned 200",
    },
    Vuln {
        qid: 91527,
        title: "Remote Desktop Service Remote Code Execution",
        severity: 5,
        kind: "Vuln",
        port: 3389,
        protocol: "tcp",
        service: "ms-wbt-server",
        ssl: false,
        cve: "CVE-2019-0708",
        cvss: "10.0",
        threat: "The remote desktop service is vulnerable to a pre-authentication flaw.",
        impact: "An unauthenticated attacker can run code with system privileges.",
        solution: "Apply the vendor's security update and enable network level authentication.",
        result: "RDP protocol negotiation accepted legacy security layer",
    },
    Vuln {
        qid: 13910,
        title: "Apache HTTP Server Multiple Vulnerabilities",
        severity: 4,
        kind: "Vuln",
        port: 80,
        protocol: "tcp",
        service: "http",
        ssl: false,
        cve: "CVE-2021-41773,CVE-2021-42013",
        cvss: "7.5",
        threat: "The web server banner reports a release with path traversal flaws.",
        impact: "Files outside the document root may be read, code may be run.",
        solution: "Upgrade the HTTP server to the vendor's current release.",
        result: "Server: Apache/2.4.49 (Unix)",
    },
    Vuln {
        qid: 45038,
        title: "Host Scan Time",
        severity: 1,
        kind: "Ig",
        port: 0,
        protocol: "tcp",
        service: "",
        ssl: false,
        cve: "",
        cvss: "",
        threat: "Informational: how long the host took to scan.",
        impact: "None.",
        solution: "None required.",
        result: "Scan duration: 412 seconds",
    },
    Vuln {
        qid: 70000,
        title: "NetBIOS Name Accessible",
        severity: 2,
        kind: "Vuln",
        port: 137,
        protocol: "udp",
        service: "netbios-ns",
        ssl: false,
        cve: "",
        cvss: "5.0",
        threat: "The NetBIOS name service answers from the scanner's network.",
        impact: "Host and workgroup names are disclosed.",
        solution: "Block UDP 137 at the perimeter.",
        result: "NetBIOS name: SIMHOST",
    },
];

/// Operating systems a host may report.
const OSES: &[&str] = &[
    "Linux 3.x",
    "Ubuntu / Linux 5.x",
    "Windows Server 2016",
    "FreeBSD 13",
    "Cisco IOS 15",
];

/// Salt of the host hash, chosen so that of the seed addresses 64.39.106.0-3 one is down
/// and another has a severity-4 finding (the unit tests check both).
const HOST_SALT: u64 = 1;

/// splitmix64 of an address: the source of every per-host decision.
fn host_hash(ip: Ipv4Addr) -> u64 {
    let mut z = u64::from(u32::from(ip)).wrapping_add(HOST_SALT);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What the scan found about one address.
#[derive(Debug)]
pub(crate) struct Host {
    /// The address.
    pub ip: Ipv4Addr,
    /// DNS name.
    pub dns: String,
    /// NetBIOS name.
    pub netbios: String,
    /// Operating system.
    pub os: &'static str,
    /// Findings, highest severity first.
    pub vulns: Vec<&'static Vuln>,
}

/// The host at `ip`, or `None` if it does not answer (about one address in five).
pub(crate) fn host(ip: Ipv4Addr) -> Option<Host> {
    let h = host_hash(ip);
    if h.is_multiple_of(5) {
        return None;
    }
    let o = ip.octets();
    let count = 2 + (h >> 8) as usize % 4;
    let mut picks: Vec<usize> = Vec::with_capacity(count);
    let mut x = h >> 16;
    while picks.len() < count {
        let i = (x % CATALOG.len() as u64) as usize;
        if !picks.contains(&i) {
            picks.push(i);
        }
        x = x
            .rotate_right(7)
            .wrapping_mul(0x2545_F491_4F6C_DD1D)
            .wrapping_add(1);
    }
    let mut vulns: Vec<&'static Vuln> = picks.into_iter().filter_map(|i| CATALOG.get(i)).collect();
    vulns.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.qid.cmp(&b.qid)));
    Some(Host {
        ip,
        dns: format!("host-{}-{}-{}-{}.sim.invalid", o[0], o[1], o[2], o[3]),
        netbios: format!("SIM{:03}{:03}", o[2], o[3]),
        os: OSES
            .get((h >> 40) as usize % OSES.len())
            .copied()
            .unwrap_or("Linux 3.x"),
        vulns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_ips() -> Vec<Ipv4Addr> {
        (0..4).map(|i| Ipv4Addr::new(64, 39, 106, i)).collect()
    }

    #[test]
    fn seed_hosts_include_a_severe_finding_and_a_down_host() {
        let down = seed_ips()
            .into_iter()
            .filter(|&ip| host(ip).is_none())
            .count();
        assert_eq!(down, 1, "one seed host does not answer");
        let worst = seed_ips()
            .into_iter()
            .filter_map(host)
            .flat_map(|h| h.vulns)
            .map(|v| v.severity)
            .max();
        assert!(
            worst.is_some_and(|s| s >= 4),
            "worst severity of the seed hosts: {worst:?}"
        );
    }

    #[test]
    fn deterministic_and_some_hosts_are_down() {
        let ips: Vec<Ipv4Addr> = (0..=255).map(|i| Ipv4Addr::new(10, 1, 2, i)).collect();
        let a: Vec<Option<Vec<u32>>> = ips
            .iter()
            .map(|&ip| host(ip).map(|h| h.vulns.iter().map(|v| v.qid).collect()))
            .collect();
        let b: Vec<Option<Vec<u32>>> = ips
            .iter()
            .map(|&ip| host(ip).map(|h| h.vulns.iter().map(|v| v.qid).collect()))
            .collect();
        assert_eq!(a, b);
        let down = a.iter().filter(|h| h.is_none()).count();
        assert!(
            (20..90).contains(&down),
            "about a fifth of 256 hosts down, got {down}"
        );
        assert!(a.iter().flatten().all(|v| (2..=5).contains(&v.len())));
        let sevs: std::collections::BTreeSet<u8> = ips
            .iter()
            .filter_map(|&ip| host(ip))
            .flat_map(|h| h.vulns)
            .map(|v| v.severity)
            .collect();
        assert_eq!(sevs.into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    }
}
