//! What a person can do to the running cluster from the page, in the page's own terms (crash
//! broker 2, send a burst of keyed messages to `orders`, ...). Each becomes a simulator fault
//! or a new client when it is applied, against the simulation as it is at that moment, so a
//! replay from the seed (a step back, a shared link) applies it exactly as the first time.
//!
//! Each has a short text form for the URL: fields joined by `~`, a character topic names
//! cannot contain, e.g. `crash~2`, `topic~payments~4~2~small`,
//! `send~orders~3~-1~0~consistent_random~20~0`.

use partita_core::Millis;
use partita_core::assignor::AssignorKind;
use partita_core::controller::validate_topic_name;
use partita_core::partitioner::{KeyHash, Partitioner};
use partita_core::sim::scenarios;
use partita_core::sim::{ClientSpec, CommitMode, CrashPoint, Fault, NodeId, Simulation};

/// How long "pause" stops a consumer: longer than the scenarios' session timeouts, so the
/// group notices.
pub const PAUSE_MS: u64 = 5_000;
/// Processing time per record once a consumer is slowed.
pub const SLOW_MS_PER_RECORD: u64 = 200;
/// The group a consumer added from the page joins when no consumer of the scenario reads its
/// topic.
pub const PAGE_GROUP: &str = "playground-group";
/// Bounds on what a link may ask for, so that a link typed by hand cannot make the page
/// create a million partitions or send forever. The page's own forms stay within them.
pub const PARTITIONS_MAX: u32 = 24;
pub const REPLICATION_FACTOR_MAX: u16 = 16;
pub const MESSAGES_MAX: u64 = 1_000;
pub const KEYS_MAX: u32 = 100;
pub const INTERVAL_MS_MAX: u64 = 10_000;

/// A retention small enough to watch the log start move: about 1 KiB per partition (a dozen
/// of the simulation's records) in segments of 512 bytes.
const SMALL_RETENTION: [(&str, &str); 2] = [("retention.bytes", "1024"), ("segment.bytes", "512")];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageAction {
    CrashBroker(i32),
    RestartBroker(i32),
    /// A network partition between the broker and every other node.
    CutOff(i32),
    Heal,
    PauseClient(usize),
    SlowClient(usize),
    /// The consumer dies after processing, before committing.
    CrashClient(usize),
    /// The client shuts down cleanly and for good.
    RemoveClient(usize),
    CreateTopic {
        name: String,
        partitions: u32,
        replication_factor: u16,
        small_retention: bool,
    },
    /// A new producer sends `messages`, `interval_ms` apart.
    Send {
        topic: String,
        keys: u32,
        acks: i16,
        idempotent: bool,
        partitioner: KeyHash,
        messages: u64,
        interval_ms: u64,
    },
    /// A new consumer of `topic` joins a group.
    AddConsumer {
        topic: String,
    },
}

/// What a page action does to the simulation.
pub enum Effect {
    Fault(Fault),
    /// Boxed: a client's spec is several times the size of a fault.
    AddClient(Box<ClientSpec>),
}

impl PageAction {
    /// The fault or client this action is, for the simulation as it is now.
    pub fn effect(&self, sim: &Simulation) -> Effect {
        use PageAction::*;
        let spec = sim.spec();
        let next_name = |kind: &str| format!("{kind}-{}", spec.clients.len());
        match self {
            CrashBroker(id) => Effect::Fault(Fault::CrashBroker(*id)),
            RestartBroker(id) => Effect::Fault(Fault::RestartBroker(*id)),
            CutOff(id) => {
                let me = NodeId::Broker(*id);
                let others = partita_core::sim::controller_ids(spec.controllers)
                    .into_iter()
                    .map(NodeId::Controller)
                    .chain(spec.brokers.iter().map(|&b| NodeId::Broker(b)))
                    .chain((0..spec.clients.len()).map(NodeId::Client))
                    .filter(|n| *n != me)
                    .collect();
                Effect::Fault(Fault::Partition {
                    a: vec![me],
                    b: others,
                })
            }
            Heal => Effect::Fault(Fault::Heal),
            PauseClient(client) => Effect::Fault(Fault::Pause {
                node: NodeId::Client(*client),
                duration_ms: Millis(PAUSE_MS),
            }),
            SlowClient(client) => Effect::Fault(Fault::SlowConsumer {
                client: *client,
                processing_ms_per_record: Millis(SLOW_MS_PER_RECORD),
            }),
            CrashClient(client) => Effect::Fault(Fault::CrashClient {
                client: *client,
                at: CrashPoint::AfterProcessingBeforeCommit,
            }),
            RemoveClient(client) => Effect::Fault(Fault::StopClient { client: *client }),
            CreateTopic {
                name,
                partitions,
                replication_factor,
                small_retention,
            } => {
                let configs: &[(&str, &str)] = if *small_retention {
                    &SMALL_RETENTION
                } else {
                    &[]
                };
                let topic = scenarios::topic(name, *partitions, *replication_factor, configs);
                Effect::Fault(Fault::CreateTopic(topic))
            }
            Send {
                topic,
                keys,
                acks,
                idempotent,
                partitioner,
                messages,
                interval_ms,
            } => {
                let name = next_name("web-producer");
                // As in librdkafka, idempotence means acks=all.
                let acks = if *idempotent { -1 } else { *acks };
                let mut producer =
                    scenarios::producer(&name, topic, *messages, *interval_ms, *keys, acks);
                producer.config.enable_idempotence = *idempotent;
                producer.config.partitioner = Partitioner::new(*partitioner, true);
                Effect::AddClient(Box::new(ClientSpec::Producer(producer)))
            }
            AddConsumer { topic } => {
                let name = next_name("web-consumer");
                // A copy of the scenario's consumer of the topic (same group, same pace) if
                // there is one, else a consumer of a group of its own.
                let template = spec.clients.iter().find_map(|c| match c {
                    ClientSpec::Consumer(c) if c.topics.contains(topic) => Some(c.clone()),
                    _ => None,
                });
                let mut consumer = template.unwrap_or_else(|| {
                    scenarios::consumer(
                        &name,
                        PAGE_GROUP,
                        topic,
                        AssignorKind::CooperativeSticky,
                        CommitMode::Auto,
                    )
                });
                consumer.config.client_id = name.clone();
                consumer.name = name;
                consumer.restart_after_ms = None;
                Effect::AddClient(Box::new(ClientSpec::Consumer(consumer)))
            }
        }
    }

    /// The URL form: fields joined by `~`.
    pub fn encode(&self) -> String {
        use PageAction::*;
        match self {
            CrashBroker(id) => format!("crash~{id}"),
            RestartBroker(id) => format!("restart~{id}"),
            CutOff(id) => format!("cut~{id}"),
            Heal => "heal".into(),
            PauseClient(c) => format!("pause~{c}"),
            SlowClient(c) => format!("slow~{c}"),
            CrashClient(c) => format!("crash-client~{c}"),
            RemoveClient(c) => format!("remove~{c}"),
            CreateTopic {
                name,
                partitions,
                replication_factor,
                small_retention,
            } => format!(
                "topic~{name}~{partitions}~{replication_factor}~{}",
                if *small_retention { "small" } else { "all" }
            ),
            Send {
                topic,
                keys,
                acks,
                idempotent,
                partitioner,
                messages,
                interval_ms,
            } => format!(
                "send~{topic}~{keys}~{acks}~{}~{}~{messages}~{interval_ms}",
                u8::from(*idempotent),
                partitioner.name()
            ),
            AddConsumer { topic } => format!("consumer~{topic}"),
        }
    }

    /// Reads the URL form; `None` for anything malformed or out of bounds (a link typed or
    /// edited by hand).
    pub fn decode(text: &str) -> Option<PageAction> {
        PageAction::parse(text).filter(PageAction::within_bounds)
    }

    fn within_bounds(&self) -> bool {
        match self {
            PageAction::CreateTopic {
                name,
                partitions,
                replication_factor,
                ..
            } => {
                validate_topic_name(name).is_ok()
                    && (1..=PARTITIONS_MAX).contains(partitions)
                    && (1..=REPLICATION_FACTOR_MAX).contains(replication_factor)
            }
            PageAction::Send {
                keys,
                acks,
                messages,
                interval_ms,
                ..
            } => {
                *keys <= KEYS_MAX
                    && matches!(acks, -1..=1)
                    && (1..=MESSAGES_MAX).contains(messages)
                    && *interval_ms <= INTERVAL_MS_MAX
            }
            _ => true,
        }
    }

    fn parse(text: &str) -> Option<PageAction> {
        use PageAction::*;
        let fields: Vec<&str> = text.split('~').collect();
        let f = &fields;
        let action = match fields.as_slice() {
            ["crash", _] => CrashBroker(number(f, 1)?),
            ["restart", _] => RestartBroker(number(f, 1)?),
            ["cut", _] => CutOff(number(f, 1)?),
            ["heal"] => Heal,
            ["pause", _] => PauseClient(number(f, 1)?),
            ["slow", _] => SlowClient(number(f, 1)?),
            ["crash-client", _] => CrashClient(number(f, 1)?),
            ["remove", _] => RemoveClient(number(f, 1)?),
            ["topic", name, _, _, retention] => CreateTopic {
                name: name.to_string(),
                partitions: number(f, 2)?,
                replication_factor: number(f, 3)?,
                small_retention: *retention == "small",
            },
            ["send", topic, _, _, idempotent, partitioner, _, _] => Send {
                topic: topic.to_string(),
                keys: number(f, 2)?,
                acks: number(f, 3)?,
                idempotent: *idempotent == "1",
                partitioner: KeyHash::from_name(partitioner)?,
                messages: number(f, 6)?,
                interval_ms: number(f, 7)?,
            },
            ["consumer", topic] => AddConsumer {
                topic: topic.to_string(),
            },
            _ => return None,
        };
        Some(action)
    }
}

fn number<T: std::str::FromStr>(fields: &[&str], index: usize) -> Option<T> {
    fields.get(index)?.parse().ok()
}

/// The URL form of a list of actions with the event count each came at:
/// `120:crash~2,340:heal`.
pub fn encode_all(actions: &[(u64, PageAction)]) -> String {
    actions
        .iter()
        .map(|(at, action)| format!("{at}:{}", action.encode()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads [`encode_all`]'s form, skipping what does not parse.
pub fn decode_all(text: &str) -> Vec<(u64, PageAction)> {
    text.split(',')
        .filter_map(|item| {
            let (at, action) = item.split_once(':')?;
            Some((at.parse().ok()?, PageAction::decode(action)?))
        })
        .collect()
}
