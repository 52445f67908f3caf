//! `--command-config FILE`: the Kafka client properties file the Kafka tools take
//! (`kafka-acls.sh --command-config admin.properties`), for what partita's commands support:
//! `security.protocol` PLAINTEXT or SASL_PLAINTEXT, `sasl.mechanism` PLAIN, SCRAM-SHA-256 or
//! SCRAM-SHA-512, and the login in `sasl.jaas.config` (`...PlainLoginModule required
//! username="..." password="...";`, or ScramLoginModule's). Other
//! keys are ignored, as a Kafka tool ignores what its client does not use; a protocol or a
//! mechanism partita's client does not speak is an error naming it.

use anyhow::{Context, bail};

use crate::cli::LoginArgs;

/// The login a properties file describes (none for PLAINTEXT).
pub fn login(path: &std::path::Path) -> anyhow::Result<LoginArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --command-config {}", path.display()))?;
    parse(&text).with_context(|| format!("--command-config {}", path.display()))
}

fn parse(text: &str) -> anyhow::Result<LoginArgs> {
    let mut protocol = "PLAINTEXT".to_string();
    let mut mechanism = "GSSAPI".to_string();
    let mut jaas = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        match key.trim() {
            "security.protocol" => protocol = value.trim().to_ascii_uppercase(),
            "sasl.mechanism" => mechanism = value.trim().to_string(),
            "sasl.jaas.config" => jaas = Some(value.trim().to_string()),
            _ => {}
        }
    }
    match protocol.as_str() {
        "PLAINTEXT" => return Ok(LoginArgs::default()),
        "SASL_PLAINTEXT" => {}
        other => bail!("security.protocol={other} is not supported by partita's commands"),
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
    Ok(LoginArgs {
        sasl_username: Some(option("username")?),
        sasl_password: Some(option("password")?),
        sasl_mechanism: Some(mechanism),
    })
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
        assert!(
            parse("bootstrap.servers=x\n")
                .unwrap()
                .sasl_username
                .is_none()
        );
        assert!(parse("security.protocol=SSL\n").is_err());
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n").is_err());
        let scram = parse(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s\";\n",
        )
        .unwrap();
        assert_eq!(scram.sasl_mechanism.as_deref(), Some("SCRAM-SHA-512"));
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n").is_err());
        assert!(parse("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n").is_err());
    }
}
