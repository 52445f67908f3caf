//! A scenario as data: the cluster, its topics, the client processes and their workloads,
//! the network, and the faults at their times. [`super::Simulation::new`] runs any spec; the
//! named scenarios (`scenarios`) are small builders of specs.

use serde::Serialize;

use super::network::NetworkConfig;
use super::node::NodeId;
use crate::Millis;
use crate::client::consumer::ConsumerConfig;
use crate::client::producer::ProducerConfig;
use crate::config::BrokerConfig;
use crate::controller::BrokerId;
use crate::group::CoordinatorConfig;

#[derive(Clone, Debug)]
pub struct ScenarioSpec {
    pub name: String,
    pub brokers: Vec<BrokerId>,
    /// Broker settings (heartbeats, session timeout, topic defaults).
    pub broker_config: BrokerConfig,
    /// Brokers sync before acknowledging (fsync per round) instead of trusting the page cache.
    pub durable: bool,
    pub coordinator: CoordinatorConfig,
    pub network: NetworkConfig,
    pub topics: Vec<TopicSpec>,
    pub clients: Vec<ClientSpec>,
    /// Faults and when they happen.
    pub faults: Vec<(Millis, Fault)>,
    /// The run ends here; the final reads and the checker look at the cluster as it is then.
    pub end_ms: Millis,
}

impl ScenarioSpec {
    /// Three brokers with quick heartbeats and sessions (so failover takes a second or two of
    /// simulated time, not Kafka's nine), a coordinator without the initial rebalance delay,
    /// and a LAN-like network.
    pub fn new(name: &str) -> ScenarioSpec {
        let broker_config = BrokerConfig {
            broker_heartbeat_interval_ms: 200,
            broker_session_timeout_ms: 1_000,
            replica_lag_time_max_ms: 2_000,
            auto_leader_rebalance_enable: false,
            ..BrokerConfig::default()
        };
        let coordinator = CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            group_min_session_timeout_ms: Millis(1_000),
            ..CoordinatorConfig::default()
        };
        ScenarioSpec {
            name: name.to_string(),
            brokers: vec![1, 2, 3],
            broker_config,
            durable: false,
            coordinator,
            network: NetworkConfig::default(),
            topics: Vec::new(),
            clients: Vec::new(),
            faults: Vec::new(),
            end_ms: Millis(10_000),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u16,
    /// Topic-level configs, e.g. `("min.insync.replicas", "2")`.
    pub configs: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub enum ClientSpec {
    Producer(ProducerSpec),
    Consumer(ConsumerSpec),
}

impl ClientSpec {
    pub fn name(&self) -> &str {
        match self {
            ClientSpec::Producer(p) => &p.name,
            ClientSpec::Consumer(c) => &c.name,
        }
    }
}

/// A producer application: `messages` sends to `topic`, one every `interval_ms` from
/// `start_ms`, keyed over `keys` distinct keys (0: keyless). Each value is unique in the run.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    pub name: String,
    pub config: ProducerConfig,
    pub topic: String,
    pub messages: u64,
    pub interval_ms: Millis,
    pub keys: u32,
    pub start_ms: Millis,
}

/// When a consumer application commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CommitMode {
    /// `enable.auto.commit=true`.
    Auto,
    /// At-least-once: process, then `commitSync`.
    SyncAfterProcessing,
    /// At-most-once: `commitSync`, then process.
    SyncBeforeProcessing,
    /// Process, then `commitAsync`.
    AsyncAfterProcessing,
}

/// A consumer application: subscribe, then poll in a loop; each record takes
/// `processing_ms_per_record`; an empty poll waits `poll_idle_ms` before the next.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    pub name: String,
    pub config: ConsumerConfig,
    pub topics: Vec<String>,
    pub start_ms: Millis,
    pub poll_idle_ms: Millis,
    pub processing_ms_per_record: Millis,
    pub commit: CommitMode,
    /// After a crash, a new process starts this much later (`None`: it stays down).
    pub restart_after_ms: Option<Millis>,
}

/// The moment a crashed consumer application dies at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CrashPoint {
    /// Records processed, offsets not yet committed (at-least-once redelivers them).
    AfterProcessingBeforeCommit,
    /// Offsets committed, records not yet processed (at-most-once loses them).
    AfterCommitBeforeProcessing,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Fault {
    CrashBroker(BrokerId),
    RestartBroker(BrokerId),
    /// Crashes whichever broker leads the partition now.
    CrashLeader {
        topic: String,
        partition: u32,
    },
    /// Crashes every replica of the partition except its leader.
    CrashFollowers {
        topic: String,
        partition: u32,
    },
    /// Restarts every crashed broker.
    RestartCrashed,
    /// Cuts every link between the two sets.
    Partition {
        a: Vec<NodeId>,
        b: Vec<NodeId>,
    },
    /// Cuts the partition's leader off from every other node.
    IsolateLeader {
        topic: String,
        partition: u32,
    },
    Heal,
    /// The process stops (a GC pause, SIGSTOP): what reaches it waits until it resumes.
    Pause {
        node: NodeId,
        duration_ms: Millis,
    },
    /// The consumer application's processing slows to this per record.
    SlowConsumer {
        client: usize,
        processing_ms_per_record: Millis,
    },
    /// The consumer application dies at the next such point.
    CrashClient {
        client: usize,
        at: CrashPoint,
    },
    /// Messages whose summary starts with `prefix` are lost with this probability.
    LoseMessages {
        prefix: String,
        per_million: u32,
    },
    /// Stops every extra loss rule.
    StopLosingMessages,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::CrashBroker(id) => write!(f, "crash broker-{id}"),
            Fault::RestartBroker(id) => write!(f, "restart broker-{id}"),
            Fault::CrashLeader { topic, partition } => {
                write!(f, "crash leader of {topic}-{partition}")
            }
            Fault::CrashFollowers { topic, partition } => {
                write!(f, "crash followers of {topic}-{partition}")
            }
            Fault::RestartCrashed => write!(f, "restart crashed brokers"),
            Fault::Partition { a, b } => {
                let names = |nodes: &[NodeId]| {
                    nodes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                write!(f, "partition [{}] | [{}]", names(a), names(b))
            }
            Fault::IsolateLeader { topic, partition } => {
                write!(f, "isolate leader of {topic}-{partition}")
            }
            Fault::Heal => write!(f, "heal"),
            Fault::Pause { node, duration_ms } => write!(f, "pause {node} for {}ms", duration_ms.0),
            Fault::SlowConsumer {
                client,
                processing_ms_per_record,
            } => {
                write!(
                    f,
                    "slow client-{client} to {}ms per record",
                    processing_ms_per_record.0
                )
            }
            Fault::CrashClient { client, at } => write!(f, "crash client-{client} at {at:?}"),
            Fault::LoseMessages {
                prefix,
                per_million,
            } => write!(f, "lose {prefix}* at {per_million}/1e6"),
            Fault::StopLosingMessages => write!(f, "stop losing messages"),
        }
    }
}
