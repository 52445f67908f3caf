//! TLS for the Kafka listener (Kafka's SSL and SASL_SSL security protocols), with rustls and
//! its ring provider. The certificate chain and private key come from PEM files (`--tls-cert`,
//! `--tls-key`, or one PEM keystore as in KIP-651: `ssl.keystore.type=PEM`,
//! `ssl.keystore.location`); client certificates (mTLS) are checked against the CAs of
//! `--tls-client-ca` / `ssl.truststore.location` as `ssl.client.auth` asks.
//!
//! Everything is loaded and checked when `partita serve` starts: a missing or unreadable file,
//! a file without the expected PEM block, or a key that does not match the certificate stops
//! the server with an error naming the file.

pub mod client;
pub mod mapping;
pub mod principal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Kafka's `ssl.client.auth`: whether the listener asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for (Kafka's default).
    #[default]
    None,
    /// A certificate is asked for; a client without one is let in as `User:ANONYMOUS`, a
    /// client with one not signed by a trusted CA is refused.
    Requested,
    /// A client without a certificate signed by a trusted CA is refused in the handshake.
    Required,
}

impl ClientAuth {
    /// Parses `ssl.client.auth`'s values (`required`, `requested`, `none`).
    pub fn parse(value: &str) -> anyhow::Result<ClientAuth> {
        Ok(match value {
            "required" => ClientAuth::Required,
            "requested" => ClientAuth::Requested,
            "none" => ClientAuth::None,
            other => bail!("ssl.client.auth: {other:?} is not required, requested or none"),
        })
    }
}

/// Where the listener's certificate, key and trusted client CAs are (all PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// The certificate chain, the listener's own certificate first.
    pub cert_chain: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1, unencrypted). May be the same file as
    /// `cert_chain` (a KIP-651 PEM keystore).
    pub key: PathBuf,
    /// CA certificates that sign the client certificates accepted.
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

impl TlsSettings {
    /// Reads the files and builds the acceptor; every error names the file at fault.
    pub fn acceptor(&self) -> anyhow::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = read_certificates(&self.cert_chain)?;
        ensure_v3(&certs, &self.cert_chain.display().to_string())?;
        let key = read_key(&self.key)?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?;
        let builder = match (self.client_auth, &self.client_ca) {
            (ClientAuth::None, _) => builder.with_no_client_auth(),
            (auth, Some(ca)) => {
                builder.with_client_cert_verifier(client_verifier(ca, auth, provider)?)
            }
            (_, None) => bail!(
                "ssl.client.auth asks for client certificates but no CA is given to check them \
                 (--tls-client-ca or ssl.truststore.location)"
            ),
        };
        let config = builder.with_single_cert(certs, key).with_context(|| {
            format!(
                "the private key in {} does not go with the certificate in {}",
                self.key.display(),
                self.cert_chain.display()
            )
        })?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Refuses a chain whose own certificate (the first) is not X.509 version 3 before rustls
/// does: rustls takes only v3 and would report it as a key that does not match. `origin`
/// names where the chain came from. A first certificate that does not parse is left to rustls.
pub(crate) fn ensure_v3(
    certs: &[rustls::pki_types::CertificateDer<'_>],
    origin: &str,
) -> anyhow::Result<()> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Some(first) = certs.first() else {
        return Ok(());
    };
    if let Ok((_, cert)) = X509Certificate::from_der(first) {
        let version = cert.version().0 + 1;
        anyhow::ensure!(
            version == 3,
            "the certificate in {origin} is X.509 version {version}; rustls takes only version 3 \
             (with openssl, sign it with `openssl x509 -req ... -extfile FILE`, FILE holding \
             e.g. subjectAltName=IP:127.0.0.1)"
        );
    }
    Ok(())
}

/// KIP-651's rule for `ssl.keystore.type` and `ssl.truststore.type` (each as given, by its
/// config name written as in the error, e.g. `--config ssl.keystore.type`): PEM or nothing.
pub(crate) fn ensure_pem_stores(types: &[(&str, Option<&str>)]) -> anyhow::Result<()> {
    for (name, kind) in types {
        if let Some(kind) = kind {
            anyhow::ensure!(
                *kind == "PEM",
                "{name}={kind}: only PEM stores are supported (KIP-651)"
            );
        }
    }
    Ok(())
}

/// The certificates of a PEM file; an error naming the file if it has none.
pub(crate) fn read_certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let text = std::fs::read(path)
        .with_context(|| format!("reading certificates from {}", path.display()))?;
    certificates_from(&text, &path.display().to_string())
}

/// The certificates of PEM text (`origin` names the file or config it came from in errors).
pub(crate) fn certificates_from(
    pem: &[u8],
    origin: &str,
) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading certificates from {origin}"))?;
    if certs.is_empty() {
        bail!("{origin}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    Ok(certs)
}

/// The private key of a PEM file; an error naming the file if it has none or it is encrypted.
pub(crate) fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let text = std::fs::read(path)
        .with_context(|| format!("reading the private key from {}", path.display()))?;
    key_from(&text, &path.display().to_string())
}

/// The private key in PEM text (`origin` names the file or config it came from in errors).
pub(crate) fn key_from(pem: &[u8], origin: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    if pem.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED") {
        bail!(
            "{origin}: the private key is encrypted; partita reads unencrypted keys only \
             (ssl.key.password is not supported: decrypt it with `openssl pkey`)"
        );
    }
    PrivateKeyDer::from_pem_slice(pem).with_context(|| {
        format!(
            "{origin}: no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in it"
        )
    })
}

/// `certs` (CA certificates from `origin`) as a root store.
pub(crate) fn roots(
    certs: Vec<CertificateDer<'static>>,
    origin: &str,
) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .with_context(|| format!("{origin}: a CA certificate rustls cannot use"))?;
    }
    Ok(roots)
}

fn client_verifier(
    ca: &Path,
    auth: ClientAuth,
    provider: Arc<CryptoProvider>,
) -> anyhow::Result<Arc<dyn rustls::server::danger::ClientCertVerifier>> {
    let roots = roots(read_certificates(ca)?, &ca.display().to_string())?;
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if auth == ClientAuth::Requested {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .with_context(|| format!("client CAs from {}", ca.display()))
}
