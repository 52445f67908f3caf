//! `--command-config FILE`: the Kafka client properties file the Kafka tools take
//! (`kafka-acls.sh --command-config admin.properties`), for what partita's commands support:
//! `security.protocol` PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; `sasl.mechanism` PLAIN,
//! SCRAM-SHA-256 or SCRAM-SHA-512 and the login in `sasl.jaas.config` (`...PlainLoginModule
//! required username="..." password="...";`, or ScramLoginModule's); and for TLS, KIP-651's PEM
//! stores: `ssl.truststore.type=PEM` with `ssl.truststore.location` (a file of CA
//! certificates) or `ssl.truststore.certificates` (the PEM inline), `ssl.keystore.type=PEM`
//! with `ssl.keystore.location` (key and chain in one file) or `ssl.keystore.certificate.chain`
//! and `ssl.keystore.key` inline, for a client certificate, and
//! `ssl.endpoint.identification.algorithm` (`https`, the default, or empty). The file is read
//! as Java reads properties: `#`/`!` comments, `=` or `:` separators, a line ending in `\`
//! continued on the next. Other keys are ignored, as a Kafka tool ignores what its client does
//! not use; a protocol, mechanism or store type partita's client does not speak is an error
//! naming it.

use std::path::Path;

use anyhow::{Context, bail, ensure};

use crate::tls::client::{ClientTlsSettings, Pem};

/// What a properties file says about reaching the brokers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ClientProperties {
    pub sasl_username: Option<String>,
    pub sasl_password: Option<String>,
    pub sasl_mechanism: Option<String>,
    /// Set for SSL and SASL_SSL.
    pub tls: Option<ClientTlsSettings>,
}

/// Reads and checks the file (not the files it names: [`ClientTlsSettings::config`] does).
pub fn read(path: &Path) -> anyhow::Result<ClientProperties> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --command-config {}", path.display()))?;
    parse(&text).with_context(|| format!("--command-config {}", path.display()))
}

/// The key/value pairs of a Java properties text, continuation lines joined.
fn properties(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = if logical.is_empty() {
            line.trim()
        } else {
            line.trim_start()
        };
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        // An odd number of trailing backslashes continues the line.
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        if let Some((key, value)) = logical.split_once(['=', ':']) {
            pairs.push((key.trim().to_string(), value.trim().to_string()));
        }
        logical.clear();
    }
    if let Some((key, value)) = logical.split_once(['=', ':']) {
        pairs.push((key.trim().to_string(), value.trim().to_string()));
    }
    pairs
}

fn parse(text: &str) -> anyhow::Result<ClientProperties> {
    let mut protocol = "PLAINTEXT".to_string();
    let mut mechanism = "GSSAPI".to_string();
    let mut jaas = None;
    let mut ssl = SslProperties::default();
    for (key, value) in properties(text) {
        match key.as_str() {
            "security.protocol" => protocol = value.to_ascii_uppercase(),
            "sasl.mechanism" => mechanism = value,
            "sasl.jaas.config" => jaas = Some(value),
            key if key.starts_with("ssl.") => ssl.set(key, value)?,
            _ => {}
        }
    }
    let (tls, sasl) = match protocol.as_str() {
        "PLAINTEXT" => (false, false),
        "SSL" => (true, false),
        "SASL_PLAINTEXT" => (false, true),
        "SASL_SSL" => (true, true),
        other => {
            bail!("security.protocol={other} is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
        }
    };
    let mut properties = ClientProperties {
        tls: if tls { Some(ssl.settings()?) } else { None },
        ..ClientProperties::default()
    };
    if !sasl {
        return Ok(properties);
    }
    if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(&mechanism.as_str()) {
        bail!(
            "sasl.mechanism={mechanism} is not supported by partita's commands \
             (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)"
        );
    }
    let jaas = jaas.context("sasl.jaas.config is missing")?;
    let option = |name: &str| -> anyhow::Result<String> {
        let start = jaas
            .find(&format!("{name}=\""))
            .with_context(|| format!("sasl.jaas.config has no {name}=\"...\""))?
            + name.len()
            + 2;
        let end = jaas[start..]
            .find('"')
            .with_context(|| format!("sasl.jaas.config: {name} is not closed"))?;
        Ok(jaas[start..start + end].to_string())
    };
    properties.sasl_username = Some(option("username")?);
    properties.sasl_password = Some(option("password")?);
    properties.sasl_mechanism = Some(mechanism);
    Ok(properties)
}

/// The `ssl.*` client properties, as given.
#[derive(Default)]
struct SslProperties {
    truststore_type: Option<String>,
    truststore_location: Option<String>,
    truststore_certificates: Option<String>,
    keystore_type: Option<String>,
    keystore_location: Option<String>,
    keystore_chain: Option<String>,
    keystore_key: Option<String>,
    endpoint_identification: Option<String>,
}

impl SslProperties {
    fn set(&mut self, key: &str, value: String) -> anyhow::Result<()> {
        match key {
            "ssl.truststore.type" => self.truststore_type = Some(value),
            "ssl.truststore.location" => self.truststore_location = Some(value),
            "ssl.truststore.certificates" => self.truststore_certificates = Some(value),
            "ssl.keystore.type" => self.keystore_type = Some(value),
            "ssl.keystore.location" => self.keystore_location = Some(value),
            "ssl.keystore.certificate.chain" => self.keystore_chain = Some(value),
            "ssl.keystore.key" => self.keystore_key = Some(value),
            "ssl.endpoint.identification.algorithm" => self.endpoint_identification = Some(value),
            "ssl.key.password" => bail!(
                "ssl.key.password: encrypted private keys are not supported; give an \
                 unencrypted PEM key (`openssl pkey -in KEY -out PLAIN`)"
            ),
            "ssl.keystore.password" | "ssl.truststore.password" => {
                bail!("{key}: PEM stores have no password (KIP-651); remove it")
            }
            // ssl.protocol, ssl.enabled.protocols, ssl.cipher.suites, ...: rustls' safe
            // defaults (TLS 1.2 and 1.3) apply.
            _ => {}
        }
        Ok(())
    }

    fn settings(self) -> anyhow::Result<ClientTlsSettings> {
        crate::tls::ensure_pem_stores(&[
            ("ssl.truststore.type", self.truststore_type.as_deref()),
            ("ssl.keystore.type", self.keystore_type.as_deref()),
        ])?;
        let pem_type = |name: &str, kind: &Option<String>| -> anyhow::Result<()> {
            ensure!(
                kind.as_deref() == Some("PEM"),
                "{name} needs {}=PEM (KIP-651; JKS and PKCS12 stores are not supported)",
                if name.starts_with("ssl.truststore") {
                    "ssl.truststore.type"
                } else {
                    "ssl.keystore.type"
                }
            );
            Ok(())
        };
        let trust = match (self.truststore_location, self.truststore_certificates) {
            (Some(_), Some(_)) => {
                bail!("give ssl.truststore.location or ssl.truststore.certificates, not both")
            }
            (Some(location), None) => {
                pem_type("ssl.truststore.location", &self.truststore_type)?;
                Some(Pem::File(location.into()))
            }
            (None, Some(text)) => {
                pem_type("ssl.truststore.certificates", &self.truststore_type)?;
                Some(inline("ssl.truststore.certificates", &text))
            }
            (None, None) => None,
        };
        let identity = match (
            self.keystore_location,
            self.keystore_chain,
            self.keystore_key,
        ) {
            (Some(location), None, None) => {
                pem_type("ssl.keystore.location", &self.keystore_type)?;
                // A KIP-651 PEM keystore: the key and the certificate chain in one file.
                Some((
                    Pem::File(location.clone().into()),
                    Pem::File(location.into()),
                ))
            }
            (None, Some(chain), Some(key)) => {
                pem_type("ssl.keystore.certificate.chain", &self.keystore_type)?;
                Some((
                    inline("ssl.keystore.certificate.chain", &chain),
                    inline("ssl.keystore.key", &key),
                ))
            }
            (None, None, None) => None,
            (Some(_), _, _) => bail!(
                "give ssl.keystore.location or ssl.keystore.certificate.chain with \
                 ssl.keystore.key, not both"
            ),
            _ => bail!("ssl.keystore.certificate.chain and ssl.keystore.key go together"),
        };
        let verify_hostname = match self.endpoint_identification.as_deref() {
            None => true,
            Some(algorithm) if algorithm.eq_ignore_ascii_case("https") => true,
            Some("") => false,
            Some(other) => bail!(
                "ssl.endpoint.identification.algorithm={other}: only https (check the broker's \
                 host name, the default) or empty (do not) are known"
            ),
        };
        Ok(ClientTlsSettings {
            trust,
            identity,
            verify_hostname,
        })
    }
}

/// PEM given inline in a properties file. Java's continuation lines lose the line breaks
/// (KIP-651's examples put each line of the PEM on its own, ended with `\`), so each block is
/// rebuilt: its markers on lines of their own, the base64 between them without whitespace.
fn inline(config: &str, text: &str) -> Pem {
    let mut pem = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end = format!("-----END {label}-----");
        let Some(body_end) = body.find(&end) else {
            break;
        };
        let base64: Vec<char> = body[..body_end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        pem.push_str(&format!("-----BEGIN {label}-----\n"));
        for line in base64.chunks(64) {
            pem.extend(line);
            pem.push('\n');
        }
        pem.push_str(&end);
        pem.push('\n');
        rest = &body[body_end + end.len()..];
    }
    Pem::Inline {
        config: config.to_string(),
        text: pem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_login_is_read() {
        let login = parse(
            "# admin\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"a=b\";\n",
        )
        .unwrap();
        assert_eq!(login.sasl_username.as_deref(), Some("admin"));
        assert_eq!(login.sasl_password.as_deref(), Some("a=b"));
        assert!(login.tls.is_none());
        assert!(
            parse("bootstrap.servers=x\n")
                .unwrap()
                .sasl_username
                .is_none()
        );
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n").is_err());
        let scram = parse(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s\";\n",
        )
        .unwrap();
        assert_eq!(scram.sasl_mechanism.as_deref(), Some("SCRAM-SHA-512"));
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n").is_err());
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n").is_err());
        assert!(parse("security.protocol=HTTPS\n").is_err());
    }

    #[test]
    fn ssl_properties_map_to_the_tls_settings() {
        let ssl = parse(
            "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/ca.pem\n\
             ssl.keystore.type=PEM\nssl.keystore.location=/client.pem\n\
             ssl.endpoint.identification.algorithm=\n",
        )
        .unwrap()
        .tls
        .unwrap();
        assert_eq!(ssl.trust, Some(Pem::File("/ca.pem".into())));
        assert_eq!(
            ssl.identity,
            Some((
                Pem::File("/client.pem".into()),
                Pem::File("/client.pem".into())
            ))
        );
        assert!(!ssl.verify_hostname);
        // Without a truststore: the system's CAs; the host name is checked by default.
        let bare = parse("security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=x required username=\"u\" password=\"p\";\n").unwrap();
        let tls = bare.tls.unwrap();
        assert!(tls.trust.is_none() && tls.verify_hostname);
        assert_eq!(bare.sasl_username.as_deref(), Some("u"));
    }

    #[test]
    fn inline_pem_over_continuation_lines_is_rebuilt() {
        let text = "security.protocol=SSL\nssl.truststore.type=PEM\n\
                    ssl.truststore.certificates=-----BEGIN CERTIFICATE----- \\\n  QUJD \\\n  REVG\\\n  -----END CERTIFICATE-----\n";
        let tls = parse(text).unwrap().tls.unwrap();
        assert_eq!(
            tls.trust,
            Some(Pem::Inline {
                config: "ssl.truststore.certificates".into(),
                text: "-----BEGIN CERTIFICATE-----\nQUJDREVG\n-----END CERTIFICATE-----\n".into()
            })
        );
    }

    #[test]
    fn stores_partita_cannot_read_are_refused_by_name() {
        let error = |text: &str| format!("{:#}", parse(text).expect_err("refused"));
        assert!(
            error("security.protocol=SSL\nssl.truststore.location=/t.jks\n")
                .contains("ssl.truststore.type=PEM")
        );
        assert!(error("security.protocol=SSL\nssl.truststore.type=JKS\n").contains("only PEM"));
        assert!(error("ssl.truststore.password=x\n").contains("no password"));
        assert!(error("ssl.key.password=x\n").contains("encrypted"));
        assert!(
            error("security.protocol=SSL\nssl.keystore.type=PEM\nssl.keystore.key=k\n")
                .contains("go together")
        );
        assert!(
            error("security.protocol=SSL\nssl.endpoint.identification.algorithm=ldap\n")
                .contains("ldap")
        );
    }
}
