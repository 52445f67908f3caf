//! `--bootstrap-server`: one `host:port` or a comma-separated list of them, as Kafka's
//! tools take it (`bootstrap.servers`, `ClientUtils.parseAndValidateAddresses`). Any listed
//! server bootstraps: the tools connect to the first that answers, trying each in turn.

use crate::cli::LoginArgs;
use crate::client::KafkaClient;

/// The servers `list` names, in its order: each comma-separated entry trimmed, empty entries
/// dropped. An error when none is left.
pub fn servers(list: &str) -> anyhow::Result<Vec<String>> {
    let servers: Vec<String> = list
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    anyhow::ensure!(!servers.is_empty(), "--bootstrap-server names no server");
    Ok(servers)
}

/// A connection (over TLS and logged in as `login` says, see [`super::connect`]) to the
/// first server of `list` that accepts one, trying them in order. The client's
/// [`KafkaClient::addr`] is the server used. When none answers, the error names each server
/// with why it failed.
pub fn connect_bootstrap(list: &str, login: &LoginArgs) -> anyhow::Result<KafkaClient> {
    let mut failures = Vec::new();
    for server in servers(list)? {
        match super::connect(&server, login) {
            Ok(client) => return Ok(client),
            Err(e) => failures.push(format!("{server}: {e:#}")),
        }
    }
    if failures.len() == 1 {
        anyhow::bail!("{}", failures.remove(0));
    }
    anyhow::bail!(
        "none of the bootstrap servers answered: {}",
        failures.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_split_trimmed_and_needs_a_server() {
        assert_eq!(
            servers(" a:1 ,b:2,,c:3").unwrap(),
            vec!["a:1".to_string(), "b:2".to_string(), "c:3".to_string()]
        );
        assert!(servers(" , ").is_err());
    }

    #[test]
    fn every_dead_server_is_named() {
        let login = LoginArgs::default();
        let error = connect_bootstrap("127.0.0.1:1,127.0.0.1:2", &login)
            .err()
            .expect("nothing listens on ports 1 and 2");
        let text = format!("{error:#}");
        assert!(
            text.contains("127.0.0.1:1") && text.contains("127.0.0.1:2"),
            "{text}"
        );
    }
}
