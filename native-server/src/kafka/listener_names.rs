//! Kafka's listener names, as far as they map onto partita's two listeners (one Kafka listener
//! for clients, one peer listener, `--controller-listen`, carrying the controller quorum's and
//! the inter-broker traffic): `listener.security.protocol.map` (`NAME:PROTOCOL,...`),
//! `controller.listener.names`, `inter.broker.listener.name` and
//! `security.inter.broker.protocol`, as Kafka's `KafkaConfig` reads them
//! (`effectiveListenerSecurityProtocolMap`: without an explicit map, the four protocol names
//! map to themselves and, in KRaft, a controller listener name that is none of them maps to
//! PLAINTEXT).

use anyhow::{Context, bail, ensure};

use super::security::SecurityProtocol;

/// The configs as given.
#[derive(Clone, Debug, Default)]
pub struct ListenerNameKeys {
    pub protocol_map: Option<String>,
    pub controller_listener_names: Option<String>,
    pub inter_broker_listener_name: Option<String>,
    pub security_inter_broker_protocol: Option<String>,
}

impl ListenerNameKeys {
    /// The configs `set` takes.
    pub const NAMES: [&str; 4] = [
        "listener.security.protocol.map",
        "controller.listener.names",
        "inter.broker.listener.name",
        "security.inter.broker.protocol",
    ];

    pub fn set(&mut self, name: &str, value: &str) {
        let value = Some(value.to_string());
        match name {
            "listener.security.protocol.map" => self.protocol_map = value,
            "controller.listener.names" => self.controller_listener_names = value,
            "inter.broker.listener.name" => self.inter_broker_listener_name = value,
            _ => self.security_inter_broker_protocol = value,
        }
    }
}

/// The resolved names: each listener name's protocol, and the controller listener's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerNames {
    map: Vec<(String, SecurityProtocol)>,
    /// `controller.listener.names` (one name: partita has one peer listener).
    pub controller: Option<String>,
    /// The protocol inter-broker traffic asks for (`inter.broker.listener.name`'s, or
    /// `security.inter.broker.protocol`), if either is given.
    pub inter_broker: Option<SecurityProtocol>,
}

impl ListenerNames {
    /// Reads the configs; a clear error for a malformed map, a name it lacks, or more than
    /// one controller listener.
    pub fn resolve(keys: &ListenerNameKeys) -> anyhow::Result<ListenerNames> {
        let controller = match keys.controller_listener_names.as_deref() {
            None => None,
            Some(text) => {
                let names: Vec<&str> = text
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .collect();
                ensure!(
                    names.len() == 1,
                    "controller.listener.names={text}: name one listener (partita has one peer \
                     listener, --controller-listen, for the controller quorum and the \
                     inter-broker traffic)"
                );
                Some(names[0].to_string())
            }
        };
        let map = match keys.protocol_map.as_deref() {
            Some(text) => parse_map(text)?,
            None => {
                let mut map: Vec<(String, SecurityProtocol)> = SecurityProtocol::ALL
                    .iter()
                    .map(|p| (p.name().to_string(), *p))
                    .collect();
                if let Some(name) = &controller
                    && map.iter().all(|(n, _)| n != name)
                {
                    map.push((name.clone(), SecurityProtocol::Plaintext));
                }
                map
            }
        };
        let mut names = ListenerNames {
            map,
            controller,
            inter_broker: None,
        };
        names.inter_broker = match (
            keys.inter_broker_listener_name.as_deref(),
            keys.security_inter_broker_protocol.as_deref(),
        ) {
            (Some(_), Some(_)) => bail!(
                "give inter.broker.listener.name or security.inter.broker.protocol, not both \
                 (as Kafka)"
            ),
            (Some(name), None) => Some(names.protocol(name).context("inter.broker.listener.name")?),
            (None, Some(protocol)) => {
                Some(SecurityProtocol::parse(protocol).context("security.inter.broker.protocol")?)
            }
            (None, None) => None,
        };
        if let Some(name) = &names.controller {
            names.protocol(name).context("controller.listener.names")?;
        }
        Ok(names)
    }

    /// The protocol of listener `name` (`PROTOCOL` is its own name unless the map was given).
    pub fn protocol(&self, name: &str) -> anyhow::Result<SecurityProtocol> {
        self.map
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .with_context(|| format!("listener {name:?} is not in listener.security.protocol.map"))
    }

    /// Whether `name` is the controller listener.
    pub fn is_controller(&self, name: &str) -> bool {
        self.controller.as_deref() == Some(name)
    }

    /// The controller (peer) listener's protocol: PLAINTEXT unless `controller.listener.names`
    /// names a listener the map makes something else.
    pub fn controller_protocol(&self) -> SecurityProtocol {
        self.controller
            .as_deref()
            .and_then(|name| self.protocol(name).ok())
            .unwrap_or(SecurityProtocol::Plaintext)
    }
}

/// `listener.security.protocol.map`: `NAME:PROTOCOL` pairs, comma-separated, names unique.
fn parse_map(text: &str) -> anyhow::Result<Vec<(String, SecurityProtocol)>> {
    let mut map: Vec<(String, SecurityProtocol)> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, protocol) = entry.split_once(':').with_context(|| {
            format!("listener.security.protocol.map: {entry:?} is not NAME:PROTOCOL")
        })?;
        let protocol =
            SecurityProtocol::parse(protocol.trim()).context("listener.security.protocol.map")?;
        let name = name.trim();
        ensure!(
            map.iter().all(|(n, _)| n != name),
            "listener.security.protocol.map: {name} is listed twice"
        );
        map.push((name.to_string(), protocol));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, &str)]) -> anyhow::Result<ListenerNames> {
        let mut keys = ListenerNameKeys::default();
        for (name, value) in pairs {
            keys.set(name, value);
        }
        ListenerNames::resolve(&keys)
    }

    #[test]
    fn the_map_names_the_controller_listeners_protocol() {
        let resolved = names(&[
            (
                "listener.security.protocol.map",
                "BROKER:SASL_SSL,CONTROLLER:SSL",
            ),
            ("controller.listener.names", "CONTROLLER"),
            ("inter.broker.listener.name", "BROKER"),
        ])
        .unwrap();
        assert_eq!(resolved.controller_protocol(), SecurityProtocol::Ssl);
        assert_eq!(
            resolved.protocol("BROKER").unwrap(),
            SecurityProtocol::SaslSsl
        );
        assert_eq!(resolved.inter_broker, Some(SecurityProtocol::SaslSsl));
        // Without a map, CONTROLLER is PLAINTEXT (Kafka's KRaft default) and SSL is SSL.
        let default = names(&[("controller.listener.names", "CONTROLLER")]).unwrap();
        assert_eq!(default.controller_protocol(), SecurityProtocol::Plaintext);
        assert_eq!(default.protocol("SSL").unwrap(), SecurityProtocol::Ssl);
        assert_eq!(
            names(&[("controller.listener.names", "SSL")])
                .unwrap()
                .controller_protocol(),
            SecurityProtocol::Ssl
        );
    }

    #[test]
    fn what_does_not_map_is_refused_by_name() {
        let error = |pairs: &[(&str, &str)]| format!("{:#}", names(pairs).expect_err("refused"));
        assert!(error(&[("controller.listener.names", "A,B")]).contains("one listener"));
        assert!(
            error(&[
                ("listener.security.protocol.map", "BROKER:SSL"),
                ("controller.listener.names", "CONTROLLER")
            ])
            .contains("CONTROLLER")
        );
        assert!(error(&[("listener.security.protocol.map", "A:TLS")]).contains("TLS"));
        assert!(error(&[("listener.security.protocol.map", "A:SSL,A:SSL")]).contains("twice"));
        assert!(
            error(&[
                ("inter.broker.listener.name", "SSL"),
                ("security.inter.broker.protocol", "SSL")
            ])
            .contains("not both")
        );
    }
}
