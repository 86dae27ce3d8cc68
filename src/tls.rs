//! TLS for TCP connections, with rustls and its `ring` crypto provider.
//!
//! The TLS handshake happens inside the MySQL connection phase: after the server greeting, the
//! client sends an SSLRequest (the first 32 bytes of its handshake response, with `CLIENT_SSL`),
//! both sides start TLS on the same socket, and the handshake response follows encrypted. See
//! `src/actor/connect.rs` and `docs/security.md`.
//!
//! What the certificate check covers follows MySQL's `--ssl-mode`:
//!
//! | mode | chain to a trusted CA | host name |
//! |---|---|---|
//! | `preferred`, `required` | no | no |
//! | `verify_ca` | yes | no |
//! | `verify_identity` | yes | yes |
//!
//! Without a chain check, the handshake signature is still verified against the certificate
//! the server presented, so the session is encrypted to whoever holds that certificate's key.
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::{Error, Result};
use crate::opts::{Opts, SslMode};

/// The crypto provider used for every connection.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// A TLS error with the rustls error as its source.
pub(crate) fn rustls_error(detail: impl Into<String>, err: rustls::Error) -> Error {
    Error::tls(detail).with_source(err)
}

/// The name the server's certificate is checked against, and sent as SNI (IP addresses are not
/// sent as SNI, but checked against the certificate's IP addresses).
pub(crate) fn server_name(opts: &Opts) -> Result<ServerName<'static>> {
    let name = opts.tls_server_name();
    let name = name.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(name.to_owned())
        .map_err(|e| Error::tls(format!("invalid TLS server name {name:?}")).with_source(e))
}

/// Builds the client configuration for `opts` (which must not be [`SslMode::Disabled`]).
pub(crate) fn client_config(opts: &Opts) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| rustls_error("no TLS protocol version available", e))?;
    let verifier: Arc<dyn ServerCertVerifier> = match opts.ssl_mode() {
        SslMode::Disabled | SslMode::Preferred | SslMode::Required => Arc::new(EncryptOnly {
            algorithms: provider.signature_verification_algorithms,
        }),
        SslMode::VerifyCa => Arc::new(ChainOnly(webpki_verifier(opts, &provider)?)),
        SslMode::VerifyIdentity => webpki_verifier(opts, &provider)?,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (opts.ssl_cert(), opts.ssl_key()) {
        (Some(cert), Some(key)) => {
            let chain = load_certs(cert, "ssl_cert")?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                Error::tls(format!("cannot read a private key from {}", key.display()))
                    .with_source(e)
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| rustls_error("invalid client certificate or key", e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::config(
                "ssl_cert and ssl_key must be given together for a client certificate",
            ))
        }
    };
    Ok(Arc::new(config))
}

fn load_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::tls(format!(
                "{what}: cannot read certificates from {}",
                path.display()
            ))
            .with_source(e)
        })?;
    if certs.is_empty() {
        return Err(Error::tls(format!(
            "{what}: no certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// The system's trust anchors, loaded once per process.
fn native_roots() -> Result<Arc<RootCertStore>> {
    static ROOTS: OnceLock<std::result::Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "none found".into());
                return Err(format!("no usable system root certificate ({why})"));
            }
            Ok(Arc::new(store))
        })
        .clone()
        .map_err(|why| Error::tls(format!("{why}: set ssl_ca")))
}

fn webpki_verifier(
    opts: &Opts,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>> {
    let roots = match opts.ssl_ca() {
        Some(path) => {
            let mut store = RootCertStore::empty();
            for cert in load_certs(path, "ssl_ca")? {
                store.add(cert).map_err(|e| {
                    rustls_error(format!("ssl_ca: unusable CA in {}", path.display()), e)
                })?;
            }
            Arc::new(store)
        }
        None => native_roots()?,
    };
    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| Error::tls("cannot build the certificate verifier").with_source(e))
}

/// `preferred`/`required`: any certificate, but the handshake must be signed with its key.
#[derive(Debug)]
struct EncryptOnly {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify_ca`: the full WebPKI check, except that a certificate valid for another name is
/// accepted. The name is checked after the chain, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn server_name_from_host_or_override() {
        let o = Opts::new().with_host("db.example");
        assert!(matches!(server_name(&o).unwrap(), ServerName::DnsName(_)));
        let o = Opts::new().with_host("127.0.0.1");
        assert!(matches!(server_name(&o).unwrap(), ServerName::IpAddress(_)));
        let o = Opts::new().with_host("::1");
        assert!(matches!(server_name(&o).unwrap(), ServerName::IpAddress(_)));
        let o = Opts::new()
            .with_host("10.0.0.1")
            .with_tls_server_name("db.internal");
        assert!(matches!(server_name(&o).unwrap(), ServerName::DnsName(_)));
        let o = Opts::new().with_tls_server_name("not a name!");
        assert_eq!(server_name(&o).unwrap_err().kind(), ErrorKind::Tls);
    }

    #[test]
    fn configs_for_every_mode() {
        for mode in [SslMode::Preferred, SslMode::Required] {
            client_config(&Opts::new().with_ssl_mode(mode)).unwrap();
        }
    }

    #[test]
    fn missing_files_are_tls_errors() {
        let o = Opts::new()
            .with_ssl_mode(SslMode::VerifyCa)
            .with_ssl_ca("/nonexistent/ca.pem");
        let e = client_config(&o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let o = Opts::new()
            .with_ssl_mode(SslMode::Required)
            .with_ssl_client_cert("/nonexistent/c.pem", "/nonexistent/k.pem");
        assert_eq!(client_config(&o).unwrap_err().kind(), ErrorKind::Tls);
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let o = Opts::new()
            .with_ssl_mode(SslMode::VerifyIdentity)
            .with_ssl_ca(&path);
        let e = client_config(&o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.to_string().contains("no certificate"), "{e}");
    }
}
