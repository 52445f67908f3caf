//! `--config NAME=VALUE`: broker configs (parsed by the core's `BrokerConfig`) and the group
//! coordinator's, with Kafka's names.

use anyhow::{Context, bail};
use partita_core::Millis;
use partita_core::acl::AuthorizerConfig;
use partita_core::broker::ReplicaFetchSettings;
use partita_core::config::BrokerConfig;
use partita_core::group::CoordinatorConfig;

use crate::kafka::limits::Limits;
use crate::kafka::security::SecurityKeys;

pub struct ServerConfig {
    pub broker: BrokerConfig,
    pub groups: CoordinatorConfig,
    pub limits: Limits,
    /// The cluster settings given under Kafka's names (resolved with the flags by
    /// `crate::peer::ClusterSettings`).
    pub cluster: ClusterKeys,
    /// A follower's replica fetcher: `replica.socket.timeout.ms` (how long a request to a
    /// leader may stay unanswered before it is sent again; Kafka's default, 30 s).
    pub replica_fetch: ReplicaFetchSettings,
    /// `listeners` and the `ssl.*` configs (resolved with the flags by
    /// `crate::kafka::security::ListenerSecurity`).
    pub security: SecurityKeys,
    /// `authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`.
    pub authorizer: AuthorizerConfig,
}

/// `node.id`, `process.roles`, `controller.quorum.voters` and `advertised.listeners`, as given.
#[derive(Clone, Debug, Default)]
pub struct ClusterKeys {
    pub node_id: Option<i32>,
    pub process_roles: Option<String>,
    pub controller_quorum_voters: Option<String>,
    pub advertised_listeners: Option<String>,
}

/// Kafka's defaults with `pairs` (each `NAME=VALUE`) applied.
pub fn parse(pairs: &[String]) -> anyhow::Result<ServerConfig> {
    let mut broker_pairs = Vec::new();
    let mut groups = CoordinatorConfig::default();
    let mut limits = Limits::default();
    let mut cluster = ClusterKeys::default();
    let mut replica_fetch = ReplicaFetchSettings::default();
    let mut security = SecurityKeys::default();
    let mut authorizer = AuthorizerConfig::default();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("--config {pair}: expected NAME=VALUE"))?;
        let number = || {
            value
                .parse::<u64>()
                .with_context(|| format!("--config {name}: {value:?} is not a number"))
        };
        match name {
            "group.min.session.timeout.ms" => {
                groups.group_min_session_timeout_ms = Millis(number()?)
            }
            "group.max.session.timeout.ms" => {
                groups.group_max_session_timeout_ms = Millis(number()?)
            }
            "group.initial.rebalance.delay.ms" => {
                groups.group_initial_rebalance_delay_ms = Millis(number()?)
            }
            "group.max.size" => groups.group_max_size = usize::try_from(number()?)?,
            "offset.metadata.max.bytes" => {
                groups.offset_metadata_max_bytes = usize::try_from(number()?)?
            }
            "offsets.retention.minutes" => groups.offsets_retention_ms = Millis(number()? * 60_000),
            "node.id" => {
                cluster.node_id = Some(
                    value
                        .parse()
                        .with_context(|| format!("--config node.id: {value:?} is not a number"))?,
                )
            }
            "replica.socket.timeout.ms" => {
                replica_fetch.request_timeout_ms = Millis(number()?.max(1))
            }
            // A follower's fetches: how long the leader may hold one and for how many bytes
            // (`partita chaos` slows followers down with these so acks=1 has a window to lose).
            "replica.fetch.wait.max.ms" => replica_fetch.wait_max_ms = Millis(number()?),
            "replica.fetch.min.bytes" => {
                replica_fetch.min_bytes = usize::try_from(number()?.max(1))?
            }
            "replica.fetch.max.bytes" => {
                replica_fetch.partition_max_bytes = usize::try_from(number()?.max(1))?
            }
            "replica.fetch.response.max.bytes" => {
                replica_fetch.response_max_bytes = usize::try_from(number()?.max(1))?
            }
            "replica.fetch.backoff.ms" => replica_fetch.backoff_ms = Millis(number()?),
            "process.roles" => cluster.process_roles = Some(value.to_string()),
            "controller.quorum.voters" => {
                cluster.controller_quorum_voters = Some(value.to_string())
            }
            "advertised.listeners" => cluster.advertised_listeners = Some(value.to_string()),
            "log.dirs" | "log.dir" => bail!(
                "--config {name}: give the data directory as --data-dir DIR (one directory; \
                 several log directories, JBOD, are not supported)"
            ),
            name if SecurityKeys::accepts(name) => security
                .set(name, value)
                .with_context(|| format!("--config {name}"))?,
            name if Limits::NAMES.contains(&name) => limits.set(name, value)?,
            name if AuthorizerConfig::NAMES.contains(&name) => authorizer
                .set(name, value)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--config {name}"))?,
            _ => broker_pairs.push((name, value)),
        }
    }
    if groups.group_min_session_timeout_ms > groups.group_max_session_timeout_ms {
        bail!("--config group.min.session.timeout.ms is above group.max.session.timeout.ms");
    }
    let broker = BrokerConfig::from_pairs(broker_pairs).context("--config")?;
    Ok(ServerConfig {
        broker,
        groups,
        limits,
        cluster,
        replica_fetch,
        security,
        authorizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_and_group_keys_go_to_their_configs() {
        let config = parse(&[
            "num.partitions=3".into(),
            "group.initial.rebalance.delay.ms=0".into(),
        ])
        .unwrap();
        assert_eq!(config.broker.num_partitions, 3);
        assert_eq!(config.groups.group_initial_rebalance_delay_ms, Millis(0));
    }

    #[test]
    fn cluster_keys_and_the_replica_socket_timeout_are_kept() {
        let config = parse(&[
            "node.id=2".into(),
            "process.roles=broker,controller".into(),
            "replica.socket.timeout.ms=2000".into(),
            "replica.fetch.wait.max.ms=800".into(),
            "replica.fetch.min.bytes=65536".into(),
        ])
        .unwrap();
        assert_eq!(config.replica_fetch.wait_max_ms, Millis(800));
        assert_eq!(config.replica_fetch.min_bytes, 65536);
        assert_eq!(config.cluster.node_id, Some(2));
        assert_eq!(
            config.cluster.process_roles.as_deref(),
            Some("broker,controller")
        );
        assert_eq!(config.replica_fetch.request_timeout_ms, Millis(2000));
        assert!(parse(&["node.id=two".into()]).is_err());
    }

    #[test]
    fn bad_input_is_refused_with_its_name() {
        let error = |pairs: &[&str]| {
            let pairs: Vec<String> = pairs.iter().map(|p| p.to_string()).collect();
            format!("{:#}", parse(&pairs).err().expect("refused"))
        };
        assert!(error(&["num.partitions"]).contains("expected NAME=VALUE"));
        assert!(error(&["group.max.size=lots"]).contains("group.max.size"));
        assert!(error(&["no.such.key=1"]).contains("no.such.key"));
        assert!(error(&["log.dirs=/var/lib/kafka"]).contains("--data-dir"));
        // Kafka's thread and socket settings are accepted, without effect.
        assert!(
            parse(&[
                "num.io.threads=8".into(),
                "socket.send.buffer.bytes=-1".into()
            ])
            .is_ok()
        );
    }
}
