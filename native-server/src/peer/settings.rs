//! The cluster settings of `partita serve`, from its flags and from Kafka's names given with
//! `--config` (`node.id`, `process.roles`, `controller.quorum.voters`, `advertised.listeners`).
//! A flag wins over the same setting given with `--config`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context, bail, ensure};
use partita_core::controller::BrokerId;
use partita_core::node::Roles;

use crate::cli::ServeArgs;
use crate::config::ClusterKeys;

/// Where this node stands in its cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// `node.id` (default 1).
    pub node_id: BrokerId,
    pub roles: Roles,
    /// The controller the broker first heartbeats with: the first voter (the node itself when
    /// there are none). Every voter runs the controller role as a voter of the Raft quorum;
    /// the active controller is whichever the quorum elects, and brokers follow
    /// NOT_CONTROLLER's pointer to it.
    pub controller_id: BrokerId,
    /// `controller.quorum.voters`, in the order given: every node of the cluster and the
    /// address of its peer listener (HOST:PORT). Empty: a single combined node, as before.
    pub voters: Vec<(BrokerId, String)>,
    /// Where this node listens for its peers (`--controller-listen`, else its voter address).
    pub controller_listen: Option<SocketAddr>,
    /// `advertised.listeners`' host and port, if given: what clients are told to connect to.
    pub advertised: Option<(String, u16)>,
}

impl ClusterSettings {
    /// Resolves the flags and `--config` keys; a clear error for settings that contradict.
    /// `listeners_controller` is the controller listener's address if `listeners` names it
    /// (`kafka::security::ListenerSecurity::controller_listen`): the same as
    /// `--controller-listen`.
    pub fn resolve(
        args: &ServeArgs,
        keys: &ClusterKeys,
        listeners_controller: Option<SocketAddr>,
    ) -> anyhow::Result<ClusterSettings> {
        let controller_listen_flag = match (args.controller_listen, listeners_controller) {
            (Some(flag), Some(config)) => {
                ensure!(
                    flag == config,
                    "--controller-listen {flag} and the controller listener of listeners                      ({config}) differ"
                );
                Some(flag)
            }
            (flag, config) => flag.or(config),
        };
        let node_id = args.node_id.or(keys.node_id).unwrap_or(1);
        ensure!(node_id >= 0, "node.id {node_id} is negative");
        let voters = match args
            .controller_quorum_voters
            .as_deref()
            .or(keys.controller_quorum_voters.as_deref())
        {
            Some(text) => parse_voters(text)?,
            None => Vec::new(),
        };
        let advertised = keys
            .advertised_listeners
            .as_deref()
            .map(parse_advertised_listener)
            .transpose()?;
        let (broker, controller) = match keys.process_roles.as_deref() {
            Some(text) => parse_roles(text)?,
            None => (true, true),
        };
        ensure!(
            broker,
            "process.roles={}: a node without the broker role is not supported yet",
            keys.process_roles.as_deref().unwrap_or_default()
        );
        if voters.is_empty() {
            ensure!(
                controller_listen_flag.is_none(),
                "--controller-listen (or a controller listener in listeners) needs \
                 --controller-quorum-voters (the cluster's nodes)"
            );
            return Ok(ClusterSettings {
                node_id,
                roles: Roles::COMBINED,
                controller_id: node_id,
                voters,
                controller_listen: None,
                advertised,
            });
        }
        let Some((_, own_address)) = voters.iter().find(|(id, _)| *id == node_id) else {
            bail!(
                "node.id {node_id} is not in controller.quorum.voters: every node of the cluster \
                 must be listed there (it is also how nodes find each other)"
            );
        };
        let controller_id = voters[0].0;
        ensure!(
            controller,
            "node {node_id} is in controller.quorum.voters, so it is a voter of the controller \
             quorum: its process.roles must include controller"
        );
        let controller_listen = match controller_listen_flag {
            Some(address) => address,
            None => own_address.parse().with_context(|| {
                format!(
                    "controller.quorum.voters: {own_address} is not an IP:PORT to listen on; \
                     give --controller-listen"
                )
            })?,
        };
        Ok(ClusterSettings {
            node_id,
            roles: Roles {
                broker: true,
                controller: true,
                group_coordinator: true,
            },
            controller_id,
            voters,
            controller_listen: Some(controller_listen),
            advertised,
        })
    }

    /// The node ids of the controller quorum's voters (this node alone when there are none).
    pub fn voter_ids(&self) -> Vec<BrokerId> {
        if self.voters.is_empty() {
            vec![self.node_id]
        } else {
            self.voters.iter().map(|(id, _)| *id).collect()
        }
    }

    /// Whether this node has peers to talk to.
    pub fn is_cluster(&self) -> bool {
        !self.voters.is_empty()
    }

    /// The peers' addresses, by node id (without this node).
    pub fn peers(&self) -> BTreeMap<BrokerId, String> {
        self.voters
            .iter()
            .filter(|(id, _)| *id != self.node_id)
            .cloned()
            .collect()
    }
}

/// `controller.quorum.voters`: `ID@HOST:PORT` entries, comma-separated, ids unique.
pub fn parse_voters(text: &str) -> anyhow::Result<Vec<(BrokerId, String)>> {
    let mut voters: Vec<(BrokerId, String)> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, address) = entry
            .split_once('@')
            .with_context(|| format!("controller.quorum.voters: {entry:?} is not ID@HOST:PORT"))?;
        let id: BrokerId = id
            .parse()
            .ok()
            .filter(|id| *id >= 0)
            .with_context(|| format!("controller.quorum.voters: {id:?} is not a node id"))?;
        check_host_port(address).context("controller.quorum.voters")?;
        ensure!(
            voters.iter().all(|(other, _)| *other != id),
            "controller.quorum.voters: node {id} is listed twice"
        );
        voters.push((id, address.to_string()));
    }
    ensure!(!voters.is_empty(), "controller.quorum.voters is empty");
    Ok(voters)
}

/// `process.roles`: `broker`, `controller` or both, comma-separated.
fn parse_roles(text: &str) -> anyhow::Result<(bool, bool)> {
    let (mut broker, mut controller) = (false, false);
    for role in text.split(',').map(str::trim) {
        match role {
            "broker" => broker = true,
            "controller" => controller = true,
            other => bail!("process.roles: {other:?} is not broker or controller"),
        }
    }
    Ok((broker, controller))
}

/// The first listener of `advertised.listeners` (`NAME://HOST:PORT,...`).
fn parse_advertised_listener(text: &str) -> anyhow::Result<(String, u16)> {
    let first = text.split(',').next().unwrap_or_default().trim();
    let address = first.split_once("://").map_or(first, |(_, a)| a);
    let (host, port) = check_host_port(address).context("advertised.listeners")?;
    Ok((host.to_string(), port))
}

fn check_host_port(address: &str) -> anyhow::Result<(&str, u16)> {
    let (host, port) = address
        .rsplit_once(':')
        .with_context(|| format!("{address:?} is not HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("{address:?}: {port:?} is not a port"))?;
    ensure!(!host.is_empty(), "{address:?} has no host");
    Ok((host.trim_start_matches('[').trim_end_matches(']'), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolve(flags: &[&str]) -> anyhow::Result<ClusterSettings> {
        let mut argv = vec!["partita", "serve"];
        argv.extend_from_slice(flags);
        let cli = crate::cli::Cli::try_parse_from(argv).expect("flags parse");
        let crate::cli::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        let config = crate::config::parse(&args.config)?;
        ClusterSettings::resolve(&args, &config.cluster, None)
    }

    #[test]
    fn no_flags_is_the_single_combined_node() {
        let settings = resolve(&[]).unwrap();
        assert_eq!(settings.node_id, 1);
        assert_eq!(settings.roles, Roles::COMBINED);
        assert!(!settings.is_cluster());
    }

    #[test]
    fn flags_and_kafka_names_give_the_same_cluster() {
        let voters = "1@127.0.0.1:9192,2@127.0.0.1:9193,3@127.0.0.1:9194";
        let by_flags = resolve(&[
            "--node-id",
            "2",
            "--controller-quorum-voters",
            voters,
            "--controller-listen",
            "127.0.0.1:9193",
        ])
        .unwrap();
        let by_config = resolve(&[
            "--config",
            "node.id=2",
            "--config",
            "process.roles=broker,controller",
            "--config",
            &format!("controller.quorum.voters={voters}"),
        ])
        .unwrap();
        assert_eq!(by_flags, by_config);
        assert_eq!(by_flags.controller_id, 1);
        assert!(by_flags.roles.controller, "node 2 is a voter too");
        assert_eq!(
            by_flags.controller_listen,
            Some("127.0.0.1:9193".parse().unwrap())
        );
        assert_eq!(by_flags.peers().keys().copied().collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn advertised_listeners_name_the_client_address() {
        let settings = resolve(&[
            "--config",
            "advertised.listeners=PLAINTEXT://kafka-2.example:19092",
        ])
        .unwrap();
        assert_eq!(
            settings.advertised,
            Some(("kafka-2.example".to_string(), 19092))
        );
    }

    #[test]
    fn contradictions_are_refused_clearly() {
        let error = |flags: &[&str]| format!("{:#}", resolve(flags).expect_err("refused"));
        assert!(
            error(&[
                "--node-id",
                "4",
                "--controller-quorum-voters",
                "1@127.0.0.1:1"
            ])
            .contains("not in controller.quorum.voters")
        );
        assert!(
            error(&["--controller-quorum-voters", "1@127.0.0.1:1,1@127.0.0.1:2"])
                .contains("listed twice")
        );
        assert!(error(&["--controller-quorum-voters", "1@nowhere"]).contains("HOST:PORT"));
        assert!(error(&["--controller-listen", "127.0.0.1:9"]).contains("needs"));
        assert!(
            error(&[
                "--controller-quorum-voters",
                "1@127.0.0.1:1",
                "--config",
                "process.roles=broker"
            ])
            .contains("must include controller")
        );
        assert!(error(&["--config", "process.roles=controller"]).contains("broker role"));
    }
}
