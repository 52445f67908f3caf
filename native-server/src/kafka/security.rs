//! The Kafka listener's security protocol (Kafka's `security.protocol` values PLAINTEXT, SSL,
//! SASL_PLAINTEXT, SASL_SSL) and its TLS settings, from the flags (`--tls-cert`, `--tls-key`,
//! `--tls-client-ca`, `--sasl-plain-user`) and Kafka's configs (`listeners`,
//! `sasl.enabled.mechanisms`,
//! `ssl.keystore.type=PEM` with `ssl.keystore.location` as in KIP-651, `ssl.truststore.type`,
//! `ssl.truststore.location`, `ssl.client.auth`, `ssl.principal.mapping.rules`). Without
//! `listeners` the protocol follows the
//! flags: TLS if a certificate is given, SASL if a mechanism is enabled (PLAIN with
//! `--sasl-plain-user`, SCRAM with `sasl.enabled.mechanisms`).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail, ensure};

use super::listener_names::{ListenerNameKeys, ListenerNames};
use crate::tls::mapping::SslPrincipalMapper;
use crate::tls::{ClientAuth, TlsSettings};

/// Kafka's security protocols for a client listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    /// The four, in Kafka's order.
    pub const ALL: [SecurityProtocol; 4] = [
        SecurityProtocol::Plaintext,
        SecurityProtocol::Ssl,
        SecurityProtocol::SaslPlaintext,
        SecurityProtocol::SaslSsl,
    ];

    /// A protocol by its Kafka name.
    pub fn parse(name: &str) -> anyhow::Result<SecurityProtocol> {
        Ok(match name {
            "PLAINTEXT" => SecurityProtocol::Plaintext,
            "SSL" => SecurityProtocol::Ssl,
            "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
            "SASL_SSL" => SecurityProtocol::SaslSsl,
            other => bail!("{other:?} is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    pub fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    pub fn sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// The security configs given with `--config`, as given.
#[derive(Clone, Debug, Default)]
pub struct SecurityKeys {
    pub listeners: Option<String>,
    pub keystore_type: Option<String>,
    pub keystore_location: Option<PathBuf>,
    pub truststore_type: Option<String>,
    pub truststore_location: Option<PathBuf>,
    pub client_auth: Option<ClientAuth>,
    /// `sasl.enabled.mechanisms`, as given (read by `sasl::SaslMechanisms::resolve`).
    pub sasl_enabled_mechanisms: Option<String>,
    /// `listener.security.protocol.map`, `controller.listener.names`, ...
    pub listener_names: ListenerNameKeys,
    /// `ssl.endpoint.identification.algorithm`, as given (the peer links' client side).
    pub endpoint_identification: Option<String>,
    /// `listener.name.NAME.ssl.*` configs, as given (full name, value): read for the
    /// controller listener by `crate::peer::security`.
    pub prefixed: Vec<(String, String)>,
    /// `ssl.principal.mapping.rules`, parsed when set (an invalid rule refuses the start).
    pub principal_mapping: Option<Arc<SslPrincipalMapper>>,
}

impl SecurityKeys {
    /// Whether `set` takes `name`.
    pub fn accepts(name: &str) -> bool {
        Self::NAMES.contains(&name)
            || ListenerNameKeys::NAMES.contains(&name)
            || name == "ssl.endpoint.identification.algorithm"
            || name.starts_with("listener.name.")
    }

    /// The configs `set` takes (and the ones it refuses with a reason), besides those of
    /// [`SecurityKeys::accepts`].
    pub const NAMES: [&str; 11] = [
        "listeners",
        "ssl.principal.mapping.rules",
        "sasl.enabled.mechanisms",
        "ssl.keystore.type",
        "ssl.keystore.location",
        "ssl.truststore.type",
        "ssl.truststore.location",
        "ssl.client.auth",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
    ];

    pub fn set(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        match name {
            name if ListenerNameKeys::NAMES.contains(&name) => self.listener_names.set(name, value),
            "ssl.endpoint.identification.algorithm" => {
                self.endpoint_identification = Some(value.to_string())
            }
            name if name.starts_with("listener.name.") => {
                self.prefixed.push((name.to_string(), value.to_string()))
            }
            "listeners" => self.listeners = Some(value.to_string()),
            "sasl.enabled.mechanisms" => self.sasl_enabled_mechanisms = Some(value.to_string()),
            "ssl.keystore.type" => self.keystore_type = Some(value.to_string()),
            "ssl.keystore.location" => self.keystore_location = Some(value.into()),
            "ssl.truststore.type" => self.truststore_type = Some(value.to_string()),
            "ssl.truststore.location" => self.truststore_location = Some(value.into()),
            "ssl.client.auth" => self.client_auth = Some(ClientAuth::parse(value)?),
            "ssl.principal.mapping.rules" => {
                let mapper = SslPrincipalMapper::parse(value).with_context(|| {
                    format!("Invalid value {value} for configuration ssl.principal.mapping.rules")
                })?;
                self.principal_mapping = Some(Arc::new(mapper));
            }
            "ssl.key.password" => bail!(
                "encrypted private keys are not supported; give an \
                 unencrypted PEM key (`openssl pkey -in KEY -out PLAIN`)"
            ),
            // KIP-651: PEM stores have no store password.
            _ => bail!("PEM stores have no password (KIP-651); remove it"),
        }
        Ok(())
    }
}

/// How the Kafka listener is secured.
#[derive(Debug)]
pub struct ListenerSecurity {
    pub protocol: SecurityProtocol,
    /// The address `listeners` names, if given (it replaces `--listen`).
    pub listen: Option<SocketAddr>,
    /// The controller listener's address, if `listeners` names it (`controller.listener.names`;
    /// `--controller-listen` is the same).
    pub controller_listen: Option<SocketAddr>,
    /// The listener names and their protocols.
    pub names: ListenerNames,
    pub tls: Option<TlsSettings>,
    /// `ssl.principal.mapping.rules` (`DEFAULT` when not given).
    pub principal_mapping: Arc<SslPrincipalMapper>,
}

/// What the flags say (the `serve` flags this module reads).
pub struct SecurityFlags<'a> {
    pub tls_cert: Option<&'a PathBuf>,
    pub tls_key: Option<&'a PathBuf>,
    pub tls_client_ca: Option<&'a PathBuf>,
    /// Whether any SASL mechanism is enabled (`sasl::SaslMechanisms`).
    pub sasl_users: bool,
}

impl ListenerSecurity {
    /// Combines the flags and the configs, refusing contradictions with a message naming them.
    pub fn resolve(flags: &SecurityFlags, keys: &SecurityKeys) -> anyhow::Result<ListenerSecurity> {
        let tls = tls_settings(flags, keys)?;
        let names = ListenerNames::resolve(&keys.listener_names)?;
        let mut controller_listen = None;
        let (protocol, listen) = match &keys.listeners {
            Some(listeners) => {
                let (protocol, listen, controller) = parse_listeners(listeners, &names)?;
                controller_listen = controller;
                (protocol, Some(listen))
            }
            None => (
                match (tls.is_some(), flags.sasl_users) {
                    (false, false) => SecurityProtocol::Plaintext,
                    (true, false) => SecurityProtocol::Ssl,
                    (false, true) => SecurityProtocol::SaslPlaintext,
                    (true, true) => SecurityProtocol::SaslSsl,
                },
                None,
            ),
        };
        let name = protocol.name();
        ensure!(
            protocol.tls() == tls.is_some(),
            if protocol.tls() {
                format!(
                    "listeners={name}://... needs a certificate: --tls-cert and --tls-key, or \
                     --config ssl.keystore.type=PEM with ssl.keystore.location"
                )
            } else {
                format!("listeners={name}://... does not use TLS, yet a certificate is given")
            }
        );
        ensure!(
            protocol.sasl() == flags.sasl_users,
            if protocol.sasl() {
                format!(
                    "listeners={name}://... needs a SASL mechanism: SASL/PLAIN users \
                     (--sasl-plain-user) or sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512"
                )
            } else {
                format!(
                    "listeners={name}://... has no SASL, yet a SASL mechanism is enabled \
                     (--sasl-plain-user or sasl.enabled.mechanisms)"
                )
            }
        );
        Ok(ListenerSecurity {
            protocol,
            listen,
            controller_listen,
            names,
            tls,
            principal_mapping: keys.principal_mapping.clone().unwrap_or_default(),
        })
    }
}

fn tls_settings(flags: &SecurityFlags, keys: &SecurityKeys) -> anyhow::Result<Option<TlsSettings>> {
    crate::tls::ensure_pem_stores(&[
        ("--config ssl.keystore.type", keys.keystore_type.as_deref()),
        (
            "--config ssl.truststore.type",
            keys.truststore_type.as_deref(),
        ),
    ])?;
    let keystore = match (flags.tls_cert, flags.tls_key, &keys.keystore_location) {
        (Some(_), _, Some(_)) => {
            bail!("give either --tls-cert/--tls-key or ssl.keystore.location, not both")
        }
        (Some(cert), Some(key), None) => Some((cert.clone(), key.clone())),
        (Some(_), None, None) | (None, Some(_), None) => {
            bail!("--tls-cert and --tls-key go together")
        }
        (None, Some(_), Some(_)) => {
            bail!("give either --tls-key or ssl.keystore.location, not both")
        }
        (None, None, Some(location)) => {
            ensure!(
                keys.keystore_type.as_deref() == Some("PEM"),
                "--config ssl.keystore.location needs ssl.keystore.type=PEM (KIP-651; JKS and \
                 PKCS12 stores are not supported)"
            );
            // A KIP-651 PEM keystore: the key and the certificate chain in one file.
            Some((location.clone(), location.clone()))
        }
        (None, None, None) => None,
    };
    let client_ca = match (flags.tls_client_ca, &keys.truststore_location) {
        (Some(_), Some(_)) => {
            bail!("give either --tls-client-ca or ssl.truststore.location, not both")
        }
        (Some(ca), None) | (None, Some(ca)) => Some(ca.clone()),
        (None, None) => None,
    };
    // --tls-client-ca alone asks for client certificates; ssl.client.auth says otherwise.
    let client_auth = keys.client_auth.unwrap_or(match flags.tls_client_ca {
        Some(_) => ClientAuth::Required,
        None => ClientAuth::None,
    });
    let Some((cert_chain, key)) = keystore else {
        ensure!(
            client_ca.is_none() && keys.client_auth.is_none(),
            "client certificates (--tls-client-ca, ssl.truststore.location, ssl.client.auth) \
             need TLS: give --tls-cert and --tls-key"
        );
        return Ok(None);
    };
    Ok(Some(TlsSettings {
        cert_chain,
        key,
        client_ca,
        client_auth,
    }))
}

/// `listeners`: one Kafka listener `NAME://HOST:PORT` (an empty host: all interfaces; the name
/// a protocol, or a name of `listener.security.protocol.map`), and optionally the controller
/// listener named by `controller.listener.names`. The Kafka listener's protocol and address,
/// and the controller listener's address.
fn parse_listeners(
    text: &str,
    names: &ListenerNames,
) -> anyhow::Result<(SecurityProtocol, SocketAddr, Option<SocketAddr>)> {
    let mut kafka = None;
    let mut controller = None;
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, address) = entry
            .split_once("://")
            .with_context(|| format!("listeners={text}: expected NAME://HOST:PORT"))?;
        let listen = parse_address(text, address)?;
        if names.is_controller(name) {
            ensure!(
                controller.is_none(),
                "listeners={text}: {name} is listed twice"
            );
            controller = Some(listen);
            continue;
        }
        ensure!(
            kafka.is_none(),
            "listeners={text}: one Kafka listener only, besides the controller listener \
             (controller.listener.names)"
        );
        let protocol = names
            .protocol(name)
            .with_context(|| format!("listeners={text}"))?;
        kafka = Some((protocol, listen));
    }
    let (protocol, listen) =
        kafka.with_context(|| format!("listeners={text}: no Kafka listener for the clients"))?;
    Ok((protocol, listen, controller))
}

/// `HOST:PORT` of a `listeners` entry (an empty host: all interfaces).
fn parse_address(text: &str, address: &str) -> anyhow::Result<SocketAddr> {
    let address = if address.starts_with(':') {
        format!("0.0.0.0{address}")
    } else {
        address.to_string()
    };
    let listen = address
        .to_socket_addrs()
        .with_context(|| format!("listeners={text}: {address:?} is not HOST:PORT"))?
        .next()
        .with_context(|| format!("listeners={text}: {address:?} resolves to no address"))?;
    Ok(listen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, &str)]) -> anyhow::Result<SecurityKeys> {
        let mut keys = SecurityKeys::default();
        for (name, value) in pairs {
            keys.set(name, value)?;
        }
        Ok(keys)
    }

    fn flags<'a>(cert: Option<&'a PathBuf>, sasl_users: bool) -> SecurityFlags<'a> {
        SecurityFlags {
            tls_cert: cert,
            tls_key: cert,
            tls_client_ca: None,
            sasl_users,
        }
    }

    #[test]
    fn without_listeners_the_flags_pick_the_protocol() {
        let pem = PathBuf::from("server.pem");
        let resolve = |cert, sasl| {
            ListenerSecurity::resolve(&flags(cert, sasl), &SecurityKeys::default())
                .unwrap()
                .protocol
        };
        assert_eq!(resolve(None, false), SecurityProtocol::Plaintext);
        assert_eq!(resolve(Some(&pem), false), SecurityProtocol::Ssl);
        assert_eq!(resolve(None, true), SecurityProtocol::SaslPlaintext);
        assert_eq!(resolve(Some(&pem), true), SecurityProtocol::SaslSsl);
    }

    #[test]
    fn a_pem_keystore_and_listeners_map_to_the_tls_settings() {
        let keys = keys(&[
            ("listeners", "SASL_SSL://127.0.0.1:0"),
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.location", "/etc/partita/broker.pem"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/etc/partita/ca.pem"),
            ("ssl.client.auth", "requested"),
        ])
        .unwrap();
        let security = ListenerSecurity::resolve(&flags(None, true), &keys).unwrap();
        assert_eq!(security.protocol, SecurityProtocol::SaslSsl);
        assert_eq!(security.listen, Some("127.0.0.1:0".parse().unwrap()));
        let tls = security.tls.unwrap();
        assert_eq!(tls.cert_chain, tls.key);
        assert_eq!(tls.client_ca, Some("/etc/partita/ca.pem".into()));
        assert_eq!(tls.client_auth, ClientAuth::Requested);
    }

    #[test]
    fn listeners_go_through_the_protocol_map_and_may_name_the_controller_listener() {
        let named = keys(&[
            (
                "listeners",
                "BROKER://127.0.0.1:9092,CONTROLLER://127.0.0.1:9193",
            ),
            (
                "listener.security.protocol.map",
                "BROKER:PLAINTEXT,CONTROLLER:SSL",
            ),
            ("controller.listener.names", "CONTROLLER"),
        ])
        .unwrap();
        let security = ListenerSecurity::resolve(&flags(None, false), &named).unwrap();
        assert_eq!(security.protocol, SecurityProtocol::Plaintext);
        assert_eq!(security.listen, Some("127.0.0.1:9092".parse().unwrap()));
        assert_eq!(
            security.controller_listen,
            Some("127.0.0.1:9193".parse().unwrap())
        );
        assert_eq!(security.names.controller_protocol(), SecurityProtocol::Ssl);
        // Without controller.listener.names, two listeners are still one too many.
        let two = keys(&[("listeners", "PLAINTEXT://:9092,SSL://:9093")]).unwrap();
        let error = ListenerSecurity::resolve(&flags(None, false), &two).unwrap_err();
        assert!(format!("{error:#}").contains("one Kafka listener"));
    }

    #[test]
    fn contradictions_are_refused_by_name() {
        let pem = PathBuf::from("server.pem");
        let error = |flags: SecurityFlags, pairs: &[(&str, &str)]| {
            let result = keys(pairs).and_then(|keys| ListenerSecurity::resolve(&flags, &keys));
            format!("{:#}", result.expect_err("refused"))
        };
        assert!(error(flags(None, false), &[("listeners", "SSL://:9093")]).contains("--tls-cert"));
        assert!(
            error(
                flags(Some(&pem), false),
                &[("listeners", "PLAINTEXT://:9092")]
            )
            .contains("does not use TLS")
        );
        assert!(
            error(
                flags(Some(&pem), false),
                &[("listeners", "SASL_SSL://:9093")]
            )
            .contains("--sasl-plain-user")
        );
        assert!(error(flags(None, false), &[("listeners", "HTTPS://:1")]).contains("HTTPS"));
        assert!(error(flags(None, false), &[("ssl.keystore.type", "JKS")]).contains("only PEM"));
        assert!(
            error(flags(None, false), &[("ssl.keystore.location", "k.pem")])
                .contains("ssl.keystore.type=PEM")
        );
        assert!(error(flags(None, false), &[("ssl.key.password", "x")]).contains("encrypted"));
        assert!(error(flags(None, false), &[("ssl.client.auth", "required")]).contains("need TLS"));
        assert!(error(flags(None, false), &[("ssl.client.auth", "maybe")]).contains("maybe"));
    }
}
