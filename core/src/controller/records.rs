//! The metadata log's records: the only way controller state changes.
//!
//! They follow KRaft's record types (`RegisterBrokerRecord`, `TopicRecord`, `PartitionRecord`,
//! `PartitionChangeRecord`, ...) trimmed to what Partita uses. A record states facts, not
//! requests: applying it never fails, so any node that replays the log reaches the same state.

use serde::{Deserialize, Serialize};

pub use super::acls::{AccessControlEntryRecord, RemoveAccessControlEntryRecord};
pub use super::scram::{RemoveUserScramCredentialRecord, UserScramCredentialRecord};
pub use super::topic_id::{ParseTopicIdError, TopicId};

/// A broker's id, as in Kafka (`broker.id` / `node.id`).
pub type BrokerId = i32;

/// The leader of a partition that has none (it is offline), as on the wire.
pub const NO_LEADER: BrokerId = -1;

/// One entry of the metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataRecord {
    RegisterBroker(RegisterBrokerRecord),
    FenceBroker(FenceBrokerRecord),
    UnfenceBroker(UnfenceBrokerRecord),
    Topic(TopicRecord),
    Partition(PartitionRecord),
    PartitionChange(PartitionChangeRecord),
    RemoveTopic(RemoveTopicRecord),
    Config(ConfigRecord),
    ProducerIds(ProducerIdsRecord),
    BrokerConfig(BrokerConfigRecord),
    /// A user's SCRAM credential was set (KIP-554; `scram.rs`).
    UserScramCredential(UserScramCredentialRecord),
    /// A user's SCRAM credential was removed.
    RemoveUserScramCredential(RemoveUserScramCredentialRecord),
    /// An ACL was created (`acls.rs`).
    AccessControlEntry(AccessControlEntryRecord),
    /// An ACL was deleted (`acls.rs`).
    RemoveAccessControlEntry(RemoveAccessControlEntryRecord),
}

/// A broker (re)registered. It starts fenced: it leads nothing until its first heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterBrokerRecord {
    pub broker_id: BrokerId,
    /// The offset of this record in the metadata log; a restarted broker gets a new, larger
    /// one, so requests from its previous life can be told apart.
    pub broker_epoch: u64,
    pub host: String,
    pub port: u16,
}

/// A broker may no longer lead or be added to an ISR (its session expired, or it stopped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceBrokerRecord {
    pub broker_id: BrokerId,
    pub broker_epoch: u64,
}

/// A fenced broker is back (it sent a heartbeat) and may lead again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfenceBrokerRecord {
    pub broker_id: BrokerId,
    pub broker_epoch: u64,
}

/// A topic was created. Its configs and partitions follow as their own records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRecord {
    pub name: String,
    pub topic_id: TopicId,
}

/// A partition was created, with its whole state. Partitions of a topic are created in index
/// order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRecord {
    pub topic_id: TopicId,
    pub partition: u32,
    /// Every broker that holds a copy; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// The in-sync replicas, in replica order.
    pub isr: Vec<BrokerId>,
    /// The leader, or [`NO_LEADER`].
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
}

/// A partition's leader and/or ISR changed. As in KRaft the epochs are not in the record but
/// follow from it: the partition epoch goes up by one on every change, the leader epoch by one
/// whenever the leader is a different broker (including none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionChangeRecord {
    pub topic_id: TopicId,
    pub partition: u32,
    /// The new leader ([`NO_LEADER`] for none); `None` keeps the current one.
    pub leader: Option<BrokerId>,
    /// The new ISR; `None` keeps the current one.
    pub isr: Option<Vec<BrokerId>>,
}

/// A topic was deleted, with its partitions and configs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveTopicRecord {
    pub topic_id: TopicId,
}

/// A topic config override was set (`Some`) or removed, falling back to the broker default
/// (`None`). `name` is the topic-level key, e.g. `retention.ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRecord {
    pub topic: String,
    pub name: String,
    pub value: Option<String>,
}

/// A block of producer ids was handed to a broker: ids below `next_producer_id` are taken
/// (Kafka's `ProducerIdsRecord`, KIP-730).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerIdsRecord {
    pub broker_id: BrokerId,
    pub broker_epoch: u64,
    pub next_producer_id: i64,
}

/// A dynamic broker config (KIP-226) was set (`Some`) or removed (`None`), for one broker or
/// for all of them. `name` is the broker-level key, e.g. `log.retention.ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerConfigRecord {
    /// Kafka's resource name: a broker's id (`"1"`), or `""` for the cluster-wide default.
    pub broker: String,
    pub name: String,
    pub value: Option<String>,
}
