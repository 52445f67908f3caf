//! The node's side of group coordination over the offsets topic (see `offsets_topic.rs` for
//! the rules): FindCoordinator, creating the topic, loading and unloading the groups of the
//! partitions this node leads, producing the coordinator's records, and migrating the
//! records of a node that kept them in a log of its own.
//!
//! A node with both the broker and the group coordinator roles coordinates this way; a
//! coordinator-only node (the simulator's) keeps its records itself (`Output::PersistGroups`)
//! and coordinates every group.

use std::collections::{BTreeMap, BTreeSet};

use super::offsets_topic::{OFFSETS_COMMIT_TIMEOUT_MS, OFFSETS_TOPIC, offsets_partition, refuse};
use super::{Event, Node, Output, Refusal, RequestRef, Waiting};
use crate::assignor::TopicPartition;
use crate::broker::{ACKS_ALL, AppendOrigin, ProducePartition, ProduceRequest, StorageFactory};
use crate::client::Response;
use crate::controller::{BrokerId, CreateTopic};
use crate::group::{GroupRecord, RECORDS_PER_BATCH, encode_group_batches};
use crate::{ErrorCode, Millis};

/// The node that coordinates a group, as FindCoordinator answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoordinatorEndpoint {
    pub node_id: BrokerId,
    pub host: String,
    pub port: u16,
}

impl<F: StorageFactory> Node<F> {
    /// Whether groups live in partitions of the offsets topic here (a broker that is also a
    /// group coordinator), rather than all in this node's own log.
    pub(super) fn partitioned_groups(&self) -> bool {
        self.broker.is_some() && self.coordinator.is_some()
    }

    /// Partitions of the offsets topic: as created, else as it would be created.
    pub(super) fn offsets_partition_count(&self) -> i32 {
        self.image
            .topic(OFFSETS_TOPIC)
            .map(|t| t.partitions.len() as i32)
            .filter(|&n| n > 0)
            .unwrap_or(self.config.broker.offsets_topic_num_partitions.max(1) as i32)
    }

    /// The offsets partition of `group_id`.
    pub fn group_partition(&self, group_id: &str) -> i32 {
        offsets_partition(group_id, self.offsets_partition_count())
    }

    /// Whether this node serves requests about `group_id`: `Ok(Some(partition))` when it
    /// leads and has loaded its offsets partition, `Ok(None)` on a coordinator-only node
    /// (every group is its own), else NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while
    /// it leads the partition without having loaded it.
    pub(super) fn group_gate(&self, group_id: &str) -> Result<Option<i32>, ErrorCode> {
        if !self.partitioned_groups() {
            return Ok(None);
        }
        let partition = self.group_partition(group_id);
        if self.loaded.contains(&partition) {
            return Ok(Some(partition));
        }
        let leads = self
            .image
            .topic(OFFSETS_TOPIC)
            .and_then(|t| t.partitions.get(partition as usize))
            .is_some_and(|s| s.leader == self.config.node_id);
        Err(if leads {
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        } else {
            ErrorCode::NOT_COORDINATOR
        })
    }

    /// FindCoordinator for a group: the leader of its offsets partition. Creates the offsets
    /// topic first if the metadata has none (COORDINATOR_NOT_AVAILABLE until it exists, at
    /// once on a node that is the active controller); COORDINATOR_NOT_AVAILABLE while the
    /// partition has no live leader. A coordinator-only node names itself.
    pub fn find_coordinator(
        &mut self,
        now: Millis,
        group_id: &str,
    ) -> Result<CoordinatorEndpoint, ErrorCode> {
        let own = CoordinatorEndpoint {
            node_id: self.config.node_id,
            host: self.config.advertised_host.clone(),
            port: self.config.advertised_port,
        };
        if !self.partitioned_groups() {
            return Ok(own);
        }
        if self.image.topic(OFFSETS_TOPIC).is_none() {
            self.create_offsets_topic(now);
        }
        let partition = self.group_partition(group_id);
        let leader = self
            .image
            .topic(OFFSETS_TOPIC)
            .and_then(|t| t.partitions.get(partition as usize))
            .map(|s| s.leader)
            .ok_or(ErrorCode::COORDINATOR_NOT_AVAILABLE)?;
        self.coordinator_endpoint(leader)
    }

    /// FindCoordinator's answer for a coordinator partition led by `leader`: its endpoint
    /// if it is a registered, unfenced broker, else COORDINATOR_NOT_AVAILABLE (no leader,
    /// -1, or a fenced one), as Kafka's `KafkaApis.getCoordinator` answers.
    pub(super) fn coordinator_endpoint(
        &self,
        leader: BrokerId,
    ) -> Result<CoordinatorEndpoint, ErrorCode> {
        match self.image.broker(leader) {
            Some(b) if !b.fenced => Ok(CoordinatorEndpoint {
                node_id: leader,
                host: b.host.clone(),
                port: b.port,
            }),
            _ => Err(ErrorCode::COORDINATOR_NOT_AVAILABLE),
        }
    }

    /// Asks the active controller (this node, or by message) to create the offsets topic.
    fn create_offsets_topic(&mut self, now: Millis) {
        let broker = &self.config.broker;
        let live = self.image.live_brokers().len().max(1);
        let replication_factor =
            usize::from(broker.offsets_topic_replication_factor.max(1)).min(live) as u16;
        let create = CreateTopic {
            name: OFFSETS_TOPIC.to_string(),
            partitions: Some(broker.offsets_topic_num_partitions.max(1)),
            replication_factor: Some(replication_factor),
            assignment: None,
            configs: vec![
                ("cleanup.policy".to_string(), "compact".to_string()),
                (
                    "segment.bytes".to_string(),
                    broker.offsets_topic_segment_bytes.to_string(),
                ),
                ("compression.type".to_string(), "producer".to_string()),
            ],
        };
        self.create_internal_topic(now, create);
    }

    /// Asks the active controller (this node, or by message) to create an internal topic
    /// (`__consumer_offsets`, `__transaction_state`).
    pub(super) fn create_internal_topic(&mut self, now: Millis, create: CreateTopic) {
        if self.is_active_controller() {
            // Another FindCoordinator may have created it in the meantime: TOPIC_ALREADY_EXISTS.
            let _ = self.create_topic(now, &create, false);
        } else {
            let controller = self.controller_id;
            self.send(
                controller,
                super::PeerMessage::CreateTopics {
                    topics: vec![create],
                },
            );
            self.drain_roles(now);
        }
    }

    /// After the metadata changed: loads the groups of every offsets partition this node now
    /// leads, and unloads those of partitions it stopped leading.
    pub(super) fn sync_offsets_leadership(&mut self, now: Millis) {
        if !self.partitioned_groups() {
            return;
        }
        let led = self.led_partitions(OFFSETS_TOPIC);
        let resigned: Vec<i32> = self.loaded.difference(&led).copied().collect();
        for partition in resigned {
            self.unload_offsets_partition(now, partition);
        }
        let abandoned: Vec<i32> = self
            .loads
            .partitions()
            .filter(|p| !led.contains(p))
            .collect();
        for partition in abandoned {
            self.loads.cancel(partition);
        }
        let elected: Vec<i32> = led
            .iter()
            .copied()
            .filter(|p| !self.loaded.contains(p) && !self.loads.contains(*p))
            .collect();
        for partition in elected {
            self.start_offsets_load(now, partition);
        }
    }

    /// The partitions of internal topic `topic` (`__consumer_offsets`,
    /// `__transaction_state`) this node leads and hosts: those whose coordinator state it
    /// serves, once loaded.
    pub(super) fn led_partitions(&self, topic: &str) -> BTreeSet<i32> {
        let me = self.config.node_id;
        let Some(state) = self.image.topic(topic) else {
            return BTreeSet::new();
        };
        state
            .partitions
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.leader == me
                    && self
                        .applied
                        .contains_key(&TopicPartition::new(topic, *i as i32))
            })
            .map(|(i, _)| i as i32)
            .collect()
    }

    /// Kafka's `onResignation`: the partition's groups leave this node; requests waiting on
    /// them, and answers waiting for their writes, get NOT_COORDINATOR.
    pub(super) fn unload_offsets_partition(&mut self, now: Millis, partition: i32) {
        self.loaded.remove(&partition);
        let count = self.offsets_partition_count();
        if let Some(coordinator) = &mut self.coordinator {
            coordinator.unload(|group| offsets_partition(group, count) == partition, now);
        }
        // Offsets held for transactions go too: the next leader reads them back from the
        // log, and kept here they would answer UNSTABLE_OFFSET_COMMIT forever (or commit
        // stale offsets on a later marker) if the partition came back to this node.
        self.txns
            .offsets
            .drop_groups(|group| offsets_partition(group, count) == partition);
        for output in self.group_writes.abandon(partition) {
            self.outputs.push_back(refuse_output(output));
        }
        self.event(Event::CoordinatorUnloaded { partition });
    }

    /// [`Node::group_gate`] for a client's group request: `Some(partition)` when this node
    /// serves `group_id` (the gated offsets partition, `None` on a coordinator-only node);
    /// else the request is answered at once, in the shape of `refused()` (the request's
    /// answer, its results refused one by one with the gate's code), and `None` returned.
    pub(super) fn gate_group(
        &mut self,
        now: Millis,
        request: RequestRef,
        group_id: &str,
        refused: impl FnOnce() -> Response,
    ) -> Option<Option<i32>> {
        match self.group_gate(group_id) {
            Ok(partition) => Some(partition),
            Err(code) => {
                self.respond(request, refuse(refused(), code));
                self.drain_roles(now);
                None
            }
        }
    }

    /// An answer about a group in `partition` (`None`: a coordinator-only node): it goes
    /// after the writes of that partition still in flight.
    pub(super) fn respond_group(
        &mut self,
        partition: Option<i32>,
        request: RequestRef,
        response: Response,
    ) {
        let output = Output::Respond { request, response };
        let output = match partition {
            Some(partition) => self.group_writes.hold(partition, output),
            None => Some(output),
        };
        self.outputs.extend(output);
    }

    /// Produces the coordinator's `records` to their offsets partitions with acks=all; the
    /// answers after them wait for the ISR ([`Node::respond_group`]).
    pub(super) fn write_group_records(&mut self, now: Millis, records: Vec<GroupRecord>) {
        for (partition, records) in self.by_offsets_partition(records) {
            let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
            // One batch per chunk, so that each write knows the records it carries.
            for chunk in records.chunks(RECORDS_PER_BATCH) {
                let Some(batch) = encode_group_batches(chunk, now).pop() else {
                    continue;
                };
                let id = self.next_request_id();
                self.pending.insert(id, Waiting::GroupWrite(partition));
                self.group_writes.start(partition, id, chunk.to_vec());
                let produce = ProduceRequest {
                    acks: ACKS_ALL,
                    timeout_ms: Millis(OFFSETS_COMMIT_TIMEOUT_MS),
                    partitions: vec![ProducePartition {
                        tp: tp.clone(),
                        records: batch,
                    }],
                };
                self.broker
                    .as_mut()
                    .expect("partitioned groups")
                    .produce_from(id, produce, AppendOrigin::Coordinator, now);
            }
        }
    }

    /// The broker answered a write of the coordinator: the coordinator applies its records,
    /// or undoes them if it failed (a commit is not seen by OffsetFetch, a group whose
    /// assignment was not written rebalances: `Coordinator::handle_written`); the answers it
    /// held go, refused with NOT_COORDINATOR if it failed (the records may still be in the
    /// log; the client retries with the coordinator it finds then, as with Kafka's failed
    /// appends).
    pub(super) fn on_group_write(
        &mut self,
        now: Millis,
        partition: i32,
        produce: crate::group::RequestId,
        error: ErrorCode,
    ) {
        if !self.group_writes.is_pending(partition, produce) {
            return;
        }
        let acknowledged = error == ErrorCode::NONE;
        let records = self.group_writes.take_records(partition, produce);
        if let Some(coordinator) = &mut self.coordinator {
            coordinator.handle_written(&records, acknowledged, now);
        }
        if !acknowledged {
            self.event(Event::StorageError {
                description: format!(
                    "{OFFSETS_TOPIC}-{partition}: a group write failed: {}",
                    error.name()
                ),
            });
        }
        for (output, ok) in self.group_writes.complete(partition, produce, acknowledged) {
            self.outputs
                .push_back(if ok { output } else { refuse_output(output) });
        }
    }

    /// Moves group records a node kept in its own log (an older single-node data directory)
    /// into the partitions of the offsets topic, creating it if needed: they are appended to
    /// the partitions this node leads, synced, and the groups loaded again from them. Only
    /// the active controller of a cluster of one can do this at start.
    pub fn migrate_group_records(
        &mut self,
        now: Millis,
        records: &[GroupRecord],
    ) -> Result<(), Refusal> {
        if records.is_empty() || !self.partitioned_groups() {
            return Ok(());
        }
        if self.image.topic(OFFSETS_TOPIC).is_none() {
            self.create_offsets_topic(now);
        }
        let by_partition = self.by_offsets_partition(records.to_vec());
        if let Some(partition) = by_partition.keys().find(|p| !self.loaded.contains(p)) {
            return Err((
                ErrorCode::COORDINATOR_NOT_AVAILABLE,
                format!("{OFFSETS_TOPIC}-{partition} is not led by this node"),
            ));
        }
        let partitions: Vec<i32> = by_partition.keys().copied().collect();
        let broker = self.broker.as_mut().expect("partitioned groups");
        for (partition, records) in by_partition {
            let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
            for batch in encode_group_batches(&records, now) {
                // Nobody waits for these answers: the sync below is what counts.
                self.next_request += 1;
                let produce = ProduceRequest {
                    acks: 1,
                    timeout_ms: Millis(OFFSETS_COMMIT_TIMEOUT_MS),
                    partitions: vec![ProducePartition {
                        tp: tp.clone(),
                        records: batch,
                    }],
                };
                let id = crate::group::RequestId(self.next_request);
                broker.produce_from(id, produce, AppendOrigin::Coordinator, now);
            }
        }
        broker
            .sync_all()
            .map_err(|e| (ErrorCode::KAFKA_STORAGE_ERROR, e.to_string()))?;
        for partition in partitions {
            self.unload_offsets_partition(now, partition);
            self.start_offsets_load(now, partition);
        }
        self.drain_roles(now);
        Ok(())
    }
}

impl<F: StorageFactory> Node<F> {
    /// `records` by the offsets partition of their group, in order within each.
    fn by_offsets_partition(&self, records: Vec<GroupRecord>) -> BTreeMap<i32, Vec<GroupRecord>> {
        let count = self.offsets_partition_count();
        let mut by_partition: BTreeMap<i32, Vec<GroupRecord>> = BTreeMap::new();
        for record in records {
            let group = match &record {
                GroupRecord::Offset { group, .. } | GroupRecord::Group { group, .. } => group,
            };
            by_partition
                .entry(offsets_partition(group, count))
                .or_default()
                .push(record);
        }
        by_partition
    }
}

/// An answer held for a write that failed, refused with NOT_COORDINATOR.
fn refuse_output(output: Output) -> Output {
    match output {
        Output::Respond { request, response } => Output::Respond {
            request,
            response: refuse(response, ErrorCode::NOT_COORDINATOR),
        },
        other => other,
    }
}
