//! The metadata image: the state the metadata log describes, and the queries over it.
//!
//! The image changes only through [`MetadataImage::apply`], one record at a time, so replaying
//! a log into a fresh image reproduces it exactly. A record that contradicts the image (a
//! partition of a topic that does not exist, a leader outside the ISR) means the log is
//! corrupt or the controller is wrong; those are assertions, not errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::acl::AclMap;

use super::records::{
    BrokerId, ConfigRecord, FenceBrokerRecord, MetadataRecord, NO_LEADER, PartitionChangeRecord,
    PartitionRecord, TopicId, UnfenceBrokerRecord,
};
use super::scram::ScramCredentials;

/// A registered broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRegistration {
    pub broker_id: BrokerId,
    pub broker_epoch: u64,
    pub host: String,
    pub port: u16,
    /// A fenced broker leads nothing and is not added to any ISR.
    pub fenced: bool,
}

/// One partition's replication state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
}

impl PartitionState {
    /// The first replica, which leads whenever it can.
    pub fn preferred_leader(&self) -> BrokerId {
        self.replicas[0]
    }

    /// No leader: nobody can produce to or consume from the partition.
    pub fn is_offline(&self) -> bool {
        self.leader == NO_LEADER
    }

    fn assert_valid(&self) {
        if let Some(invalid) = self.invalid() {
            panic!("{invalid}: {self:?}");
        }
    }

    /// Why this state breaks the rules every partition keeps, if it does.
    fn invalid(&self) -> Option<&'static str> {
        if self.replicas.is_empty() {
            Some("a partition needs replicas")
        } else if self.isr.is_empty() {
            Some("the ISR is never empty")
        } else if !self.isr.iter().all(|b| self.replicas.contains(b)) {
            Some("ISR outside replicas")
        } else if self.leader != NO_LEADER && !self.isr.contains(&self.leader) {
            Some("the leader must be in the ISR")
        } else {
            None
        }
    }
}

/// A topic: its id, partitions (by index) and config overrides (topic-level keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicImage {
    pub name: String,
    pub id: TopicId,
    pub partitions: Vec<PartitionState>,
    pub configs: BTreeMap<String, String>,
}

/// The cluster's metadata: brokers, topics, partitions, configs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataImage {
    brokers: BTreeMap<BrokerId, BrokerRegistration>,
    topics: BTreeMap<String, TopicImage>,
    names_by_id: BTreeMap<TopicId, String>,
    /// Dynamic broker configs by Kafka's resource name (`""`: the cluster default).
    #[serde(default)]
    broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    record_count: u64,
    /// The first producer id no block holds yet.
    #[serde(default)]
    next_producer_id: i64,
    /// SCRAM credentials by user and mechanism (KIP-554).
    #[serde(default)]
    scram_credentials: ScramCredentials,
    /// The ACLs, by id (`acls.rs`).
    #[serde(default)]
    acls: AclMap,
}

static NO_CONFIGS: BTreeMap<String, String> = BTreeMap::new();

impl MetadataImage {
    /// How many records have been applied: the offset the next record will have.
    pub fn record_count(&self) -> u64 {
        self.record_count
    }

    /// The first producer id that no broker's block holds yet.
    pub fn next_producer_id(&self) -> i64 {
        self.next_producer_id
    }

    /// The ACLs, by id.
    pub fn acls(&self) -> &AclMap {
        &self.acls
    }

    /// Every registered broker, by id.
    pub fn brokers(&self) -> impl Iterator<Item = &BrokerRegistration> {
        self.brokers.values()
    }

    pub fn broker(&self, broker_id: BrokerId) -> Option<&BrokerRegistration> {
        self.brokers.get(&broker_id)
    }

    /// Registered and not fenced: may lead and be in an ISR.
    pub fn is_live(&self, broker_id: BrokerId) -> bool {
        self.brokers.get(&broker_id).is_some_and(|b| !b.fenced)
    }

    /// The ids of the live brokers, ascending.
    pub fn live_brokers(&self) -> Vec<BrokerId> {
        self.brokers
            .values()
            .filter(|b| !b.fenced)
            .map(|b| b.broker_id)
            .collect()
    }

    /// The dynamic broker configs of `resource`: a broker's id (`"1"`), or `""` for the
    /// cluster-wide default.
    pub fn broker_configs(&self, resource: &str) -> &BTreeMap<String, String> {
        self.broker_configs.get(resource).unwrap_or(&NO_CONFIGS)
    }

    /// The SCRAM credentials (KIP-554): salts, stored and server keys, iterations.
    pub fn scram_credentials(&self) -> &ScramCredentials {
        &self.scram_credentials
    }

    /// Every topic, by name.
    pub fn topics(&self) -> impl Iterator<Item = &TopicImage> {
        self.topics.values()
    }

    pub fn topic(&self, name: &str) -> Option<&TopicImage> {
        self.topics.get(name)
    }

    pub fn topic_by_id(&self, id: TopicId) -> Option<&TopicImage> {
        self.names_by_id
            .get(&id)
            .and_then(|name| self.topics.get(name))
    }

    pub fn partition(&self, topic: &str, partition: u32) -> Option<&PartitionState> {
        self.topics.get(topic)?.partitions.get(partition as usize)
    }

    /// Whether partition `partition` (as the wire numbers it) of `topic` exists.
    pub fn contains_partition(&self, topic: &str, partition: i32) -> bool {
        u32::try_from(partition).is_ok_and(|p| self.partition(topic, p).is_some())
    }

    /// Every partition with a replica on `broker_id`, as (topic, index, state): what that
    /// broker must host.
    pub fn replicas_on(
        &self,
        broker_id: BrokerId,
    ) -> impl Iterator<Item = (&TopicImage, u32, &PartitionState)> {
        self.partitions()
            .filter(move |(_, _, p)| p.replicas.contains(&broker_id))
    }

    /// Every partition of every topic, as (topic, index, state).
    pub fn partitions(&self) -> impl Iterator<Item = (&TopicImage, u32, &PartitionState)> {
        self.topics.values().flat_map(|topic| {
            topic
                .partitions
                .iter()
                .enumerate()
                .map(move |(i, p)| (topic, i as u32, p))
        })
    }

    /// Why `record` does not fit this image, if it does not: what [`MetadataImage::apply`]
    /// would panic on. The controller's own records always fit; records from another node (a
    /// metadata push, a heartbeat answer, a committed Raft entry) are checked first, so a
    /// peer's garbage is refused instead of taking the node down (issue 17).
    pub fn check(&self, record: &MetadataRecord) -> Result<(), String> {
        let topic = |id: TopicId| {
            self.topic_by_id(id)
                .ok_or_else(|| format!("{record:?} names an unknown topic id"))
        };
        match record {
            MetadataRecord::RegisterBroker(_) | MetadataRecord::BrokerConfig(_) => Ok(()),
            MetadataRecord::FenceBroker(FenceBrokerRecord {
                broker_id,
                broker_epoch,
            })
            | MetadataRecord::UnfenceBroker(UnfenceBrokerRecord {
                broker_id,
                broker_epoch,
            }) => match self.brokers.get(broker_id) {
                Some(b) if b.broker_epoch == *broker_epoch => Ok(()),
                Some(_) => Err(format!("{record:?}: another epoch of broker {broker_id}")),
                None => Err(format!("{record:?}: broker {broker_id} is not registered")),
            },
            MetadataRecord::Topic(r) => {
                if self.topics.contains_key(&r.name) || self.names_by_id.contains_key(&r.topic_id) {
                    Err(format!("{record:?}: the topic or its id exists"))
                } else {
                    Ok(())
                }
            }
            MetadataRecord::Partition(r) => {
                if topic(r.topic_id)?.partitions.len() != r.partition as usize {
                    return Err(format!("{record:?}: partitions are created in order"));
                }
                let state = PartitionState {
                    replicas: r.replicas.clone(),
                    isr: r.isr.clone(),
                    leader: r.leader,
                    leader_epoch: r.leader_epoch,
                    partition_epoch: r.partition_epoch,
                };
                state
                    .invalid()
                    .map_or(Ok(()), |e| Err(format!("{record:?}: {e}")))
            }
            MetadataRecord::PartitionChange(r) => {
                let mut state = topic(r.topic_id)?
                    .partitions
                    .get(r.partition as usize)
                    .ok_or_else(|| format!("{record:?}: no such partition"))?
                    .clone();
                if let Some(isr) = &r.isr {
                    state.isr = isr.clone();
                }
                if let Some(leader) = r.leader {
                    state.leader = leader;
                }
                state
                    .invalid()
                    .map_or(Ok(()), |e| Err(format!("{record:?}: {e}")))
            }
            MetadataRecord::RemoveTopic(r) => topic(r.topic_id).map(|_| ()),
            MetadataRecord::Config(r) if !self.topics.contains_key(&r.topic) => {
                Err(format!("{record:?}: no such topic"))
            }
            MetadataRecord::Config(_) => Ok(()),
            MetadataRecord::ProducerIds(r) if r.next_producer_id <= self.next_producer_id => {
                Err(format!("{record:?}: producer ids go forward"))
            }
            MetadataRecord::ProducerIds(_) => Ok(()),
            MetadataRecord::UserScramCredential(_) => Ok(()),
            MetadataRecord::RemoveUserScramCredential(r) => self.scram_credentials.check_removal(r),
            MetadataRecord::AccessControlEntry(r) if self.acls.contains_key(&r.id) => {
                Err(format!("{record:?}: the ACL id exists"))
            }
            MetadataRecord::AccessControlEntry(_) => Ok(()),
            MetadataRecord::RemoveAccessControlEntry(r) if !self.acls.contains_key(&r.id) => {
                Err(format!("{record:?}: no such ACL"))
            }
            MetadataRecord::RemoveAccessControlEntry(_) => Ok(()),
        }
    }

    /// Why this image breaks the rules that applying records keeps, if it does: for an image
    /// another node sent (a heartbeat answer) or a snapshot, before it replaces this node's.
    pub fn check_consistent(&self) -> Result<(), String> {
        if self.names_by_id.len() != self.topics.len() {
            return Err("topic ids and names disagree".to_string());
        }
        for (name, topic) in &self.topics {
            if &topic.name != name || self.names_by_id.get(&topic.id) != Some(name) {
                return Err(format!("topic {name}: its name or id disagrees"));
            }
            for (i, partition) in topic.partitions.iter().enumerate() {
                if let Some(e) = partition.invalid() {
                    return Err(format!("{name}-{i}: {e}"));
                }
            }
        }
        match self.brokers.iter().find(|(id, b)| **id != b.broker_id) {
            Some((id, _)) => Err(format!("broker {id} is registered under another id")),
            None => Ok(()),
        }
    }

    /// Whether this image, offered by another node as the metadata after `offset` records,
    /// can replace `current` (what this node has, at a smaller offset): beyond
    /// [`MetadataImage::check_consistent`], it must say it reaches `offset`, and nothing in
    /// it may go back from `current` where both know the same thing. Epochs only grow in
    /// Kafka's metadata: a broker's epoch, a partition's leader and partition epochs (of the
    /// same topic id), and a topic never loses partitions. An image that breaks one is stale or
    /// corrupt; applying it would let a deposed leader lead again.
    pub fn check_successor(&self, offset: u64, current: &MetadataImage) -> Result<(), String> {
        self.check_consistent()?;
        if self.record_count != offset {
            return Err(format!(
                "it holds {} records but says it reaches offset {offset}",
                self.record_count
            ));
        }
        for (id, now) in &current.brokers {
            if let Some(b) = self.brokers.get(id)
                && b.broker_epoch < now.broker_epoch
            {
                return Err(format!(
                    "broker {id}'s epoch goes back from {} to {}",
                    now.broker_epoch, b.broker_epoch
                ));
            }
        }
        for (name, now) in &current.topics {
            let Some(topic) = self.topics.get(name).filter(|t| t.id == now.id) else {
                continue; // deleted, or deleted and created again
            };
            if topic.partitions.len() < now.partitions.len() {
                return Err(format!("topic {name} loses partitions"));
            }
            for (i, (new, old)) in topic.partitions.iter().zip(&now.partitions).enumerate() {
                if new.leader_epoch < old.leader_epoch || new.partition_epoch < old.partition_epoch
                {
                    return Err(format!("{name}-{i}: its epochs go back"));
                }
            }
        }
        Ok(())
    }

    /// Applies one record. Never fails; a record that does not fit the image panics (see
    /// [`MetadataImage::check`]).
    pub fn apply(&mut self, record: &MetadataRecord) {
        match record {
            MetadataRecord::RegisterBroker(r) => {
                self.brokers.insert(
                    r.broker_id,
                    BrokerRegistration {
                        broker_id: r.broker_id,
                        broker_epoch: r.broker_epoch,
                        host: r.host.clone(),
                        port: r.port,
                        fenced: true,
                    },
                );
            }
            MetadataRecord::FenceBroker(r) => self.set_fenced(r.broker_id, r.broker_epoch, true),
            MetadataRecord::UnfenceBroker(r) => self.set_fenced(r.broker_id, r.broker_epoch, false),
            MetadataRecord::Topic(r) => {
                assert!(
                    !self.topics.contains_key(&r.name),
                    "topic {} exists",
                    r.name
                );
                let previous = self.names_by_id.insert(r.topic_id, r.name.clone());
                assert!(previous.is_none(), "topic id {:?} reused", r.topic_id);
                self.topics.insert(
                    r.name.clone(),
                    TopicImage {
                        name: r.name.clone(),
                        id: r.topic_id,
                        partitions: Vec::new(),
                        configs: BTreeMap::new(),
                    },
                );
            }
            MetadataRecord::Partition(r) => self.add_partition(r),
            MetadataRecord::PartitionChange(r) => self.change_partition(r),
            MetadataRecord::RemoveTopic(r) => {
                let name = self
                    .names_by_id
                    .remove(&r.topic_id)
                    .expect("removed topic exists");
                self.topics.remove(&name);
            }
            MetadataRecord::Config(r) => self.set_config(r),
            MetadataRecord::ProducerIds(r) => {
                assert!(
                    r.next_producer_id > self.next_producer_id,
                    "producer ids go forward: {r:?}"
                );
                self.next_producer_id = r.next_producer_id;
            }
            MetadataRecord::BrokerConfig(r) => {
                let configs = self.broker_configs.entry(r.broker.clone()).or_default();
                match &r.value {
                    Some(value) => configs.insert(r.name.clone(), value.clone()),
                    None => configs.remove(&r.name),
                };
            }
            MetadataRecord::UserScramCredential(r) => self.scram_credentials.apply_set(r),
            MetadataRecord::RemoveUserScramCredential(r) => self.scram_credentials.apply_remove(r),
            MetadataRecord::AccessControlEntry(r) => {
                self.acls.insert(r.id, r.acl.clone());
            }
            MetadataRecord::RemoveAccessControlEntry(r) => {
                self.acls.remove(&r.id);
            }
        }
        self.record_count += 1;
    }

    fn set_fenced(&mut self, broker_id: BrokerId, broker_epoch: u64, fenced: bool) {
        let broker = self
            .brokers
            .get_mut(&broker_id)
            .expect("fenced broker is registered");
        assert_eq!(
            broker.broker_epoch, broker_epoch,
            "fencing a previous life of {broker_id}"
        );
        broker.fenced = fenced;
    }

    fn topic_mut(&mut self, id: TopicId) -> &mut TopicImage {
        let name = self
            .names_by_id
            .get(&id)
            .expect("record names a known topic id");
        self.topics.get_mut(name).expect("ids and names agree")
    }

    fn add_partition(&mut self, r: &PartitionRecord) {
        let topic = self.topic_mut(r.topic_id);
        assert_eq!(
            topic.partitions.len(),
            r.partition as usize,
            "partitions are created in order"
        );
        let state = PartitionState {
            replicas: r.replicas.clone(),
            isr: r.isr.clone(),
            leader: r.leader,
            leader_epoch: r.leader_epoch,
            partition_epoch: r.partition_epoch,
        };
        state.assert_valid();
        topic.partitions.push(state);
    }

    fn change_partition(&mut self, r: &PartitionChangeRecord) {
        let topic = self.topic_mut(r.topic_id);
        let state = topic
            .partitions
            .get_mut(r.partition as usize)
            .expect("changed partition exists");
        if let Some(isr) = &r.isr {
            state.isr = isr.clone();
        }
        if let Some(leader) = r.leader
            && leader != state.leader
        {
            state.leader = leader;
            state.leader_epoch += 1;
        }
        state.partition_epoch += 1;
        state.assert_valid();
    }

    fn set_config(&mut self, r: &ConfigRecord) {
        let topic = self
            .topics
            .get_mut(&r.topic)
            .expect("config names a known topic");
        match &r.value {
            Some(value) => topic.configs.insert(r.name.clone(), value.clone()),
            None => topic.configs.remove(&r.name),
        };
    }
}
