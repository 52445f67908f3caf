//! TLS between the nodes of a cluster: the peer listener (`--controller-listen`) and the links
//! to it, configured as a Kafka operator configures the KRaft controller listener:
//! `controller.listener.names=CONTROLLER` with `listener.security.protocol.map=CONTROLLER:SSL,...`
//! turns it on. The node's certificate and key are `listener.name.controller.ssl.keystore.*`
//! (KIP-651 PEM, lower-case listener name as in Kafka), else the Kafka listener's
//! (`--tls-cert`/`--tls-key` or `ssl.keystore.*`); the cluster's CA is
//! `listener.name.controller.ssl.truststore.*`, else `--tls-client-ca` /
//! `ssl.truststore.location`. Authentication is mutual and always required: the listener
//! refuses a peer without a certificate signed by that CA (`ssl.client.auth=required`; any
//! other value for the controller listener is refused at start), and a link refuses a listener
//! whose certificate is not signed by it or, unless `ssl.endpoint.identification.algorithm` is
//! empty, does not name the host of its `controller.quorum.voters` address. A node's
//! certificate is used both ways, so it needs both extended key usages (serverAuth and
//! clientAuth), or none.
//!
//! With the authorizer on (`authorizer.class.name`), the peer's principal (its certificate's
//! subject, as [`crate::tls::principal`] names it) must also be in `super.users`: Kafka requires
//! the inter-broker principal to be a super user, and this is what tells a node's certificate
//! from a client's when one CA signs both. Without the authorizer, any certificate of the CA is
//! a node's.
//!
//! SASL on the controller listener is refused: Kafka does not support SCRAM there either (the
//! credentials live in the metadata log the controllers serve), and partita authenticates
//! nodes by certificate.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use partita_core::acl::AuthorizerConfig;
use rustls::pki_types::CertificateDer;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::kafka::listener_names::ListenerNames;
use crate::kafka::security::{SecurityKeys, SecurityProtocol};
use crate::tls::client::{ClientTlsSettings, Pem};
use crate::tls::{ClientAuth, TlsSettings};

/// The `ssl.*` configs read under `listener.name.<controller listener, lower case>.`.
const PREFIXED: [&str; 6] = [
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.truststore.type",
    "ssl.truststore.location",
    "ssl.client.auth",
    "ssl.endpoint.identification.algorithm",
];

/// TLS for the peer listener and the links, built (every file read) at start.
#[derive(Clone)]
pub struct PeerTls {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
    /// `super.users` when the authorizer is on: the principals a peer may have.
    pub super_users: Option<Vec<String>>,
    /// Where the certificate and CA came from, for the start-up log line.
    pub description: String,
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl PeerTls {
    /// `None` when the controller listener is PLAINTEXT; an error for what does not map
    /// (SASL, a missing CA or certificate, stray `listener.name.*` configs).
    pub fn resolve(
        names: &ListenerNames,
        keys: &SecurityKeys,
        listener_tls: Option<&TlsSettings>,
        authorizer: &AuthorizerConfig,
    ) -> anyhow::Result<Option<PeerTls>> {
        let protocol = names.controller_protocol();
        let prefix = names
            .controller
            .as_deref()
            .map(|name| format!("listener.name.{}.", name.to_ascii_lowercase()));
        let mut own: Vec<(&str, &str)> = Vec::new();
        for (name, value) in &keys.prefixed {
            let key = prefix
                .as_deref()
                .and_then(|prefix| name.strip_prefix(prefix))
                .filter(|key| PREFIXED.contains(key));
            let Some(key) = key else {
                bail!(
                    "--config {name}: of the listener.name.* configs partita reads only the \
                     controller listener's {} (controller.listener.names)",
                    PREFIXED.join(", ")
                );
            };
            own.push((key, value));
        }
        if let Some(inter_broker) = names.inter_broker {
            // Inter-broker traffic travels on the peer listener: it may be more protected than
            // asked, never less.
            ensure!(
                !(inter_broker.tls() || inter_broker.sasl()) || protocol == SecurityProtocol::Ssl,
                "inter-broker traffic asks for {}, but partita carries it on the controller \
                 listener, which is {}: make the controller listener SSL \
                 (listener.security.protocol.map=CONTROLLER:SSL)",
                inter_broker.name(),
                protocol.name()
            );
        }
        match protocol {
            SecurityProtocol::Plaintext => {
                ensure!(
                    own.is_empty(),
                    "listener.name.*.ssl.* configs are given for a PLAINTEXT controller listener"
                );
                return Ok(None);
            }
            SecurityProtocol::Ssl => {}
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl => bail!(
                "the controller listener cannot be {}: partita's nodes authenticate each other \
                 with TLS certificates (SSL with client certificates required). Kafka does not \
                 support SCRAM on the KRaft controller listener either: the credentials live in \
                 the metadata log the controllers serve",
                protocol.name()
            ),
        }
        let get = |key: &str| own.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let listener = prefix.as_deref().unwrap_or_default();
        crate::tls::ensure_pem_stores(&[
            (
                &format!("{listener}ssl.keystore.type"),
                get("ssl.keystore.type"),
            ),
            (
                &format!("{listener}ssl.truststore.type"),
                get("ssl.truststore.type"),
            ),
        ])?;
        if let Some(auth) = get("ssl.client.auth") {
            ensure!(
                ClientAuth::parse(auth)? == ClientAuth::Required,
                "{listener}ssl.client.auth={auth}: the controller listener always requires \
                 the peers' certificates (mutual TLS)"
            );
        }
        let keystore = match get("ssl.keystore.location") {
            Some(location) => {
                ensure!(
                    get("ssl.keystore.type") == Some("PEM"),
                    "{listener}ssl.keystore.location needs {listener}ssl.keystore.type=PEM"
                );
                (PathBuf::from(location), PathBuf::from(location))
            }
            None => listener_tls
                .map(|tls| (tls.cert_chain.clone(), tls.key.clone()))
                .with_context(|| {
                    format!(
                        "an SSL controller listener needs the node's certificate: \
                         {listener}ssl.keystore.location (ssl.keystore.type=PEM), or the Kafka \
                         listener's (--tls-cert and --tls-key, or ssl.keystore.location)"
                    )
                })?,
        };
        let ca = match get("ssl.truststore.location") {
            Some(location) => {
                ensure!(
                    get("ssl.truststore.type") == Some("PEM"),
                    "{listener}ssl.truststore.location needs {listener}ssl.truststore.type=PEM"
                );
                PathBuf::from(location)
            }
            None => listener_tls
                .and_then(|tls| tls.client_ca.clone())
                .with_context(|| {
                    format!(
                        "an SSL controller listener needs the cluster's CA to check the peers' \
                         certificates: {listener}ssl.truststore.location \
                         (ssl.truststore.type=PEM), or --tls-client-ca / ssl.truststore.location"
                    )
                })?,
        };
        let verify_hostname = match get("ssl.endpoint.identification.algorithm")
            .or(keys.endpoint_identification.as_deref())
        {
            None => true,
            Some(https) if https.eq_ignore_ascii_case("https") => true,
            Some("") => false,
            Some(other) => bail!(
                "ssl.endpoint.identification.algorithm={other}: only https (the default) or \
                 empty are known"
            ),
        };
        let server = TlsSettings {
            cert_chain: keystore.0.clone(),
            key: keystore.1.clone(),
            client_ca: Some(ca.clone()),
            client_auth: ClientAuth::Required,
        };
        let client = ClientTlsSettings {
            trust: Some(Pem::File(ca.clone())),
            identity: Some((Pem::File(keystore.0.clone()), Pem::File(keystore.1))),
            verify_hostname,
        };
        let acceptor = server.acceptor().context("the controller listener's TLS")?;
        let connector = TlsConnector::from(client.config().context("the peer links' TLS")?);
        Ok(Some(PeerTls {
            acceptor,
            connector,
            super_users: authorizer.enabled.then(|| authorizer.super_users.clone()),
            description: format!(
                "certificate {}, peers' CA {}{}{}",
                keystore.0.display(),
                ca.display(),
                if verify_hostname {
                    ""
                } else {
                    ", host names not checked"
                },
                if authorizer.enabled {
                    ", peers must be super.users"
                } else {
                    ""
                }
            ),
        }))
    }

    /// The principal of the peer's certificate (already checked against the CA by rustls),
    /// refused unless it is a super user when the authorizer is on.
    pub fn check_peer(
        &self,
        certificates: Option<&[CertificateDer<'static>]>,
    ) -> anyhow::Result<String> {
        check_principal(certificates, self.super_users.as_deref())
    }
}

/// The principal of `certificates`' first (the peer's own), which must be one of
/// `super_users` if given.
pub fn check_principal(
    certificates: Option<&[CertificateDer<'static>]>,
    super_users: Option<&[String]>,
) -> anyhow::Result<String> {
    let first = certificates
        .and_then(|certs| certs.first())
        .context("the peer showed no certificate")?;
    let principal = crate::tls::principal::of_certificate(first)?;
    if let Some(super_users) = super_users {
        ensure!(
            super_users.contains(&principal),
            "the peer's certificate is {principal}, not one of super.users (a node's principal \
             must be a super user when the authorizer is on, as in Kafka)"
        );
    }
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(pairs: &[(&str, &str)]) -> anyhow::Result<Option<PeerTls>> {
        let mut keys = SecurityKeys::default();
        for (name, value) in pairs {
            keys.set(name, value)?;
        }
        let names = ListenerNames::resolve(&keys.listener_names)?;
        PeerTls::resolve(&names, &keys, None, &AuthorizerConfig::default())
    }

    #[test]
    fn plaintext_by_default_and_what_does_not_map_is_refused() {
        assert!(resolve(&[]).unwrap().is_none());
        assert!(
            resolve(&[("controller.listener.names", "CONTROLLER")])
                .unwrap()
                .is_none()
        );
        let error = |pairs: &[(&str, &str)]| format!("{:#}", resolve(pairs).expect_err("refused"));
        let sasl = error(&[
            ("listener.security.protocol.map", "CONTROLLER:SASL_SSL"),
            ("controller.listener.names", "CONTROLLER"),
        ]);
        assert!(
            sasl.contains("SCRAM") && sasl.contains("metadata log"),
            "{sasl}"
        );
        let no_cert = error(&[
            ("listener.security.protocol.map", "CONTROLLER:SSL"),
            ("controller.listener.names", "CONTROLLER"),
        ]);
        assert!(
            no_cert.contains("listener.name.controller.ssl.keystore.location"),
            "{no_cert}"
        );
        assert!(
            error(&[
                ("listener.security.protocol.map", "CONTROLLER:SSL"),
                ("controller.listener.names", "CONTROLLER"),
                ("listener.name.controller.ssl.client.auth", "requested"),
            ])
            .contains("always requires")
        );
        assert!(
            error(&[("listener.name.broker.ssl.keystore.location", "/k.pem")])
                .contains("only the controller listener's")
        );
        assert!(
            error(&[
                ("controller.listener.names", "CONTROLLER"),
                (
                    "listener.security.protocol.map",
                    "CONTROLLER:PLAINTEXT,BROKER:SSL"
                ),
                ("inter.broker.listener.name", "BROKER"),
            ])
            .contains("make the controller listener SSL")
        );
    }
}
