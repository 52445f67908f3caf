//! The client side of TLS, for partita's own tools (`--command-config` with
//! `security.protocol=SSL` or `SASL_SSL`) and for the links between the nodes of a cluster.
//!
//! The settings are Kafka's client configs (KIP-651's PEM stores): the CAs trusted to sign the
//! server's certificate (`ssl.truststore.location`, or `ssl.truststore.certificates` inline;
//! without either, the system's CAs in [`SYSTEM_CAS`], as a Java client falls back to the JVM's
//! store), an optional certificate and key to show the server (mTLS: `ssl.keystore.location`
//! holding key and chain, or `ssl.keystore.certificate.chain` and `ssl.keystore.key` inline),
//! and `ssl.endpoint.identification.algorithm` (`https`, the default, checks that the
//! certificate names the host connected to; empty turns that check off, as in Kafka). Every
//! file is read when the config is built; an error names the file or config at fault.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, ensure};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The system's CA bundle (Debian's `ca-certificates`), trusted when no truststore is given.
pub const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// PEM text, in a file or given inline (KIP-651's `ssl.truststore.certificates`,
/// `ssl.keystore.certificate.chain`, `ssl.keystore.key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    /// The text, and the config that gave it (for errors).
    Inline {
        config: String,
        text: String,
    },
}

impl Pem {
    /// The bytes and a name for errors (the file's path or the config's name).
    fn read(&self, what: &str) -> anyhow::Result<(Vec<u8>, String)> {
        match self {
            Pem::File(path) => Ok((
                std::fs::read(path)
                    .with_context(|| format!("reading {what} from {}", path.display()))?,
                path.display().to_string(),
            )),
            Pem::Inline { config, text } => Ok((text.as_bytes().to_vec(), config.clone())),
        }
    }
}

/// How a client speaks TLS to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTlsSettings {
    /// The CAs that sign the servers' certificates; `None`: [`SYSTEM_CAS`].
    pub trust: Option<Pem>,
    /// The certificate chain and private key shown to a server that asks (mTLS). The two may
    /// be the same file (a KIP-651 PEM keystore).
    pub identity: Option<(Pem, Pem)>,
    /// `ssl.endpoint.identification.algorithm=https` (true, Kafka's default): the server's
    /// certificate must name the host connected to (a DNS name or an IP address in its
    /// subject alternative names). False when the config is empty.
    pub verify_hostname: bool,
}

impl ClientTlsSettings {
    /// Reads the files and builds rustls' client config (ring provider, TLS 1.2 and 1.3).
    pub fn config(&self) -> anyhow::Result<Arc<rustls::ClientConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let trust = self
            .trust
            .clone()
            .unwrap_or_else(|| Pem::File(PathBuf::from(SYSTEM_CAS)));
        let (pem, origin) = trust.read("the truststore's CA certificates")?;
        let roots = super::roots(super::certificates_from(&pem, &origin)?, &origin)?;
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .with_context(|| format!("CA certificates from {origin}"))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?;
        let builder = if self.verify_hostname {
            builder.with_webpki_verifier(verifier)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyHostname(verifier)))
        };
        let config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => {
                let (certs, chain_origin) = identity_certificates(chain)?;
                super::ensure_v3(&certs, &chain_origin.to_string())?;
                let (key, key_origin) = identity_key(key)?;
                builder.with_client_auth_cert(certs, key).with_context(|| {
                    format!(
                        "the private key in {key_origin} does not go with the certificate \
                             in {chain_origin}"
                    )
                })?
            }
        };
        Ok(Arc::new(config))
    }
}

fn identity_certificates(pem: &Pem) -> anyhow::Result<(Vec<CertificateDer<'static>>, String)> {
    let (text, origin) = pem.read("the client certificate")?;
    Ok((super::certificates_from(&text, &origin)?, origin))
}

fn identity_key(pem: &Pem) -> anyhow::Result<(PrivateKeyDer<'static>, String)> {
    let (text, origin) = pem.read("the client's private key")?;
    Ok((super::key_from(&text, &origin)?, origin))
}

/// The name a server's certificate is checked against: `host` of `HOST:PORT` (an IP address
/// or a DNS name; IPv6 in brackets).
pub fn server_name(address: &str) -> anyhow::Result<ServerName<'static>> {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    ensure!(!host.is_empty(), "{address:?} has no host");
    ServerName::try_from(host.to_string())
        .with_context(|| format!("{host:?} is neither a DNS name nor an IP address"))
}

/// The web PKI's checks without the hostname's: what Kafka does with
/// `ssl.endpoint.identification.algorithm=` (empty). The chain must still lead to a trusted
/// CA, be within its validity dates and sign the handshake.
#[derive(Debug)]
struct AnyHostname(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostname {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // webpki checks the name last, once the chain is known good.
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_the_host_of_the_address() {
        assert_eq!(
            server_name("127.0.0.1:9093").unwrap(),
            ServerName::try_from("127.0.0.1").unwrap()
        );
        assert_eq!(
            server_name("[::1]:9093").unwrap(),
            ServerName::try_from("::1").unwrap()
        );
        assert_eq!(
            server_name("kafka-1.example:9093").unwrap(),
            ServerName::try_from("kafka-1.example").unwrap()
        );
        assert!(server_name(":9093").is_err());
    }

    #[test]
    fn missing_files_and_inline_garbage_are_named() {
        let settings = ClientTlsSettings {
            trust: Some(Pem::File("/nonexistent/ca.pem".into())),
            identity: None,
            verify_hostname: true,
        };
        assert!(format!("{:#}", settings.config().unwrap_err()).contains("/nonexistent/ca.pem"));
        let settings = ClientTlsSettings {
            trust: Some(Pem::Inline {
                config: "ssl.truststore.certificates".into(),
                text: "not pem".into(),
            }),
            identity: None,
            verify_hostname: false,
        };
        assert!(
            format!("{:#}", settings.config().unwrap_err()).contains("ssl.truststore.certificates")
        );
    }
}
