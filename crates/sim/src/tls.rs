//! Optional HTTPS for the simulator, for clients that only speak `https://`: a throwaway
//! certificate authority and a server certificate for `127.0.0.1` and `localhost`, both
//! made in memory at start (ring, no files read), and the rustls acceptor that serves them.
//! Clients trust the simulator by trusting [`SimTls::ca_pem`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// Names the server certificate is valid for.
const SERVER_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// Why the simulator's TLS identity could not be made or saved.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused to make a key or certificate.
    #[error("generating the simulator's {what}: {reason}")]
    Generate {
        /// Which part: `CA key`, `CA certificate`, `server key`, `server certificate`.
        what: &'static str,
        /// rcgen's message.
        reason: String,
    },
    /// rustls refused the certificate and key.
    #[error("building the simulator's TLS server configuration: {reason}")]
    Config {
        /// rustls's message.
        reason: String,
    },
    /// The CA certificate could not be written.
    #[error("writing the simulator's CA certificate to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

/// A TLS identity for one simulator run: a fresh CA (its PEM is what clients trust) and a
/// server certificate it signed for `127.0.0.1` and `localhost`. Cheap to clone.
#[derive(Clone)]
pub struct SimTls {
    ca_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for SimTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTls")
            .field("ca_pem_len", &self.ca_pem.len())
            .finish_non_exhaustive()
    }
}

impl SimTls {
    /// Makes a new CA and server certificate (ECDSA P-256) and the acceptor serving them.
    pub fn generate() -> Result<SimTls, TlsError> {
        let gen = |what| {
            move |e: rcgen::Error| TlsError::Generate {
                what,
                reason: e.to_string(),
            }
        };
        let ca_key = KeyPair::generate().map_err(gen("CA key"))?;
        let mut ca = CertificateParams::default();
        ca.distinguished_name = name("baseliner qualys-sim throwaway CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).map_err(gen("CA certificate"))?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(gen("server key"))?;
        let names: Vec<String> = SERVER_NAMES.iter().map(|s| (*s).to_owned()).collect();
        let mut server = CertificateParams::new(names).map_err(gen("server certificate"))?;
        server.distinguished_name = name("qualys-sim on loopback");
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.use_authority_key_identifier_extension = true;
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .map_err(gen("server certificate"))?;

        let chain: Vec<CertificateDer<'static>> =
            vec![server_cert.der().clone(), ca_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let config_err = |e: tokio_rustls::rustls::Error| TlsError::Config {
            reason: e.to_string(),
        };
        let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(config_err)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(config_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(SimTls {
            ca_pem: ca_cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The CA certificate as PEM: what a client adds to its trusted roots.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes [`SimTls::ca_pem`] to `path` (created or replaced).
    pub fn write_ca_pem(&self, path: &Path) -> Result<(), TlsError> {
        std::fs::write(path, &self.ca_pem).map_err(|source| TlsError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// The acceptor that wraps accepted TCP connections.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

/// A distinguished name with just a common name.
fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_identities_differ_and_the_ca_is_one_pem_certificate() {
        let a = SimTls::generate().expect("first identity");
        let b = SimTls::generate().expect("second identity");
        assert_ne!(a.ca_pem(), b.ca_pem(), "each run makes its own CA");
        let pem = a.ca_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
        assert!(
            pem.trim_end().ends_with("-----END CERTIFICATE-----"),
            "{pem}"
        );
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1, "{pem}");
        assert!(!pem.contains("PRIVATE KEY"), "the key never leaves memory");
    }

    #[test]
    fn write_ca_pem_writes_the_pem_and_names_the_path_on_failure() {
        let tls = SimTls::generate().expect("identity");
        let dir = std::env::temp_dir().join(format!("qualys-sim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("ca.pem");
        tls.write_ca_pem(&path).expect("write");
        let read = std::fs::read_to_string(&path).expect("read back");
        assert_eq!(read, tls.ca_pem());
        let missing = dir.join("no-such-dir").join("ca.pem");
        let err = tls.write_ca_pem(&missing).expect_err("parent is missing");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
