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
use crate::controller::{BrokerId, CreateTopic};
use crate::group::CoordinatorConfig;

#[derive(Clone, Debug)]
pub struct ScenarioSpec {
    pub name: String,
    pub brokers: Vec<BrokerId>,
    /// Voters of the controller quorum, controller-only nodes with ids from
    /// [`super::node::CONTROLLER_NODE_ID`] (1 to [`super::node::CONTROLLERS_MAX`]).
    pub controllers: u32,
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
            // Once a simulated second (Kafka: five minutes), so that a topic with a small
            // retention shows its log start moving within a scenario.
            log_retention_check_interval_ms: 1_000,
            // `__consumer_offsets` at the simulation's scale (Kafka: 50 partitions): a
            // handful, so that a few groups still land on different coordinators.
            offsets_topic_num_partitions: 5,
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
            controllers: 3,
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

/// Why a spec cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid scenario: {0}")]
pub struct SpecError(pub String);

/// Bounds on a spec's size, so a hand-made spec cannot exhaust the browser.
pub const BROKERS_MAX: usize = 16;
pub const CLIENTS_MAX: usize = 64;

impl ScenarioSpec {
    /// Checks what the builders cannot express: ids, sizes, client configs, fault targets.
    /// Topic configs are checked by the controller when the topic is created.
    pub fn validate(&self) -> Result<(), SpecError> {
        let fail = |what: String| Err(SpecError(what));
        if self.brokers.is_empty() || self.brokers.len() > BROKERS_MAX {
            return fail(format!(
                "{} brokers (1 to {BROKERS_MAX})",
                self.brokers.len()
            ));
        }
        let mut ids = self.brokers.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.brokers.len()
            || ids[0] < 0
            || ids[ids.len() - 1] >= super::node::CONTROLLER_NODE_ID
        {
            return fail(format!(
                "broker ids {:?} must be distinct, not negative and below {}",
                self.brokers,
                super::node::CONTROLLER_NODE_ID
            ));
        }
        if !(1..=super::node::CONTROLLERS_MAX).contains(&self.controllers) {
            return fail(format!(
                "{} controllers (1 to {})",
                self.controllers,
                super::node::CONTROLLERS_MAX
            ));
        }
        if self.clients.len() > CLIENTS_MAX {
            return fail(format!(
                "{} clients (at most {CLIENTS_MAX})",
                self.clients.len()
            ));
        }
        if self.network.latency_ms_min > self.network.latency_ms_max {
            return fail("latency_ms_min above latency_ms_max".into());
        }
        for client in &self.clients {
            match client {
                ClientSpec::Producer(p) => p
                    .config
                    .validate()
                    .map_err(|e| SpecError(format!("{}: {e}", p.name)))?,
                ClientSpec::Consumer(c) => {
                    if c.config.heartbeat_interval_ms >= c.config.session_timeout_ms
                        || c.config.max_poll_records == 0
                    {
                        return fail(format!(
                            "{}: heartbeat.interval.ms must be below session.timeout.ms and max.poll.records positive",
                            c.name
                        ));
                    }
                }
            }
        }
        for (_, fault) in &self.faults {
            let client = match fault {
                Fault::SlowConsumer { client, .. } | Fault::CrashClient { client, .. } => {
                    Some(*client)
                }
                _ => None,
            };
            if client.is_some_and(|c| c >= self.clients.len()) {
                return fail(format!("fault {fault} names no client"));
            }
            if let Fault::Partition { a, b } = fault
                && a.iter().any(|n| b.contains(n))
            {
                return fail(format!("fault {fault}: a node is on both sides"));
            }
        }
        Ok(())
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

impl TopicSpec {
    /// The controller's command that creates this topic.
    pub fn to_create(&self) -> CreateTopic {
        CreateTopic {
            name: self.name.clone(),
            partitions: Some(self.partitions),
            replication_factor: Some(self.replication_factor),
            assignment: None,
            configs: self.configs.clone(),
        }
    }
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
/// With `tombstone_every` = N > 0, send n is a tombstone (a null value) when n % N = N - 1.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    pub name: String,
    pub config: ProducerConfig,
    pub topic: String,
    pub messages: u64,
    pub interval_ms: Millis,
    pub keys: u32,
    pub start_ms: Millis,
    /// Every this-many-th send is a tombstone; 0 for none.
    pub tombstone_every: u64,
    /// A transactional producer (`transactional.id` set) and how it groups its sends into
    /// transactions; `None` for a plain producer.
    pub transactions: Option<TxnWorkload>,
}

/// A transactional producer's workload: `initTransactions`, then transactions of
/// `per_transaction` sends spread round-robin over the topic's `partitions`, committed, or
/// aborted every `abort_every`-th (0: never).
#[derive(Clone, Debug)]
pub struct TxnWorkload {
    pub transactional_id: String,
    pub partitions: u32,
    pub per_transaction: u64,
    pub abort_every: u64,
    /// `transaction.timeout.ms`.
    pub timeout_ms: i64,
}

/// A consume-transform-produce application (the consumer's records go on, one output each,
/// to `output`): with `exactly_once` it produces in transactions of a transactional producer
/// and commits the consumer's offsets in the same transaction (`sendOffsetsToTransaction`);
/// without, it produces with an idempotent producer and then commits the offsets
/// (`commitSync`), at least once.
#[derive(Clone, Debug)]
pub struct Transform {
    pub output: String,
    /// Input partition p goes to output partition p % `output_partitions`.
    pub output_partitions: u32,
    pub exactly_once: bool,
    /// The transactional id with `exactly_once` (every life of the application uses it, so a
    /// new life fences the previous one).
    pub transactional_id: String,
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
    /// A consume-transform-produce application; `None` for a plain consumer.
    pub transform: Option<Transform>,
}

/// The moment a crashed consumer application dies at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CrashPoint {
    /// Records processed, offsets not yet committed (at-least-once redelivers them). For a
    /// consume-transform-produce application: its output produced (in an open transaction
    /// with exactly-once), offsets not committed.
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
    /// Crashes one follower of the partition (the first running one in replica order).
    CrashFollower {
        topic: String,
        partition: u32,
    },
    /// Restarts every crashed broker and controller.
    RestartCrashed,
    /// Crashes whichever controller is active now (the quorum's leader).
    CrashActiveController,
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
    /// Crashes the broker coordinating `group` now (the leader of its `__consumer_offsets`
    /// partition): the partition's new leader loads the group and its committed offsets from
    /// its replica.
    CrashCoordinator {
        group: String,
    },
    /// Crashes the broker coordinating `transactional_id` now (the leader of its
    /// `__transaction_state` partition): the partition's new leader loads the transaction
    /// states from its replica and finishes what was in PrepareCommit or PrepareAbort.
    CrashTransactionCoordinator {
        transactional_id: String,
    },
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
    /// The application shuts down cleanly and for good: a consumer closes and leaves its group.
    StopClient {
        client: usize,
    },
    /// An operator creates a topic (`kafka-topics.sh --create`).
    CreateTopic(TopicSpec),
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
            Fault::CrashFollower { topic, partition } => {
                write!(f, "crash a follower of {topic}-{partition}")
            }
            Fault::RestartCrashed => write!(f, "restart crashed brokers and controllers"),
            Fault::CrashActiveController => write!(f, "crash the active controller"),
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
            Fault::CrashCoordinator { group } => {
                write!(f, "crash the coordinator of group {group}")
            }
            Fault::CrashTransactionCoordinator { transactional_id } => {
                write!(
                    f,
                    "crash the coordinator of transactional id {transactional_id}"
                )
            }
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
            Fault::StopClient { client } => write!(f, "stop client-{client}"),
            Fault::CreateTopic(topic) => write!(
                f,
                "create topic {} with {} partitions, replication factor {}",
                topic.name, topic.partitions, topic.replication_factor
            ),
            Fault::LoseMessages {
                prefix,
                per_million,
            } => write!(f, "lose {prefix}* at {per_million}/1e6"),
            Fault::StopLosingMessages => write!(f, "stop losing messages"),
        }
    }
}
