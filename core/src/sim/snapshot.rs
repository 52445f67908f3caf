//! A picture of the cluster at one moment, for the playground and the JSON API: brokers and
//! their partitions, leaders and ISRs, groups with their members and lag, and clients.

use serde::Serialize;

use super::client_node::Running;
use super::node::NodeId;
use super::simulation::Simulation;
use super::spec::ClientSpec;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::{decode_records, split_batches};
use crate::broker::IsolationLevel;
use crate::controller::BrokerId;
use crate::log::{AbortedFilter, BatchKind};

/// Bytes read per step by [`Simulation::record_cells`]; a read returns at least one batch.
const KEYS_READ_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub now: Millis,
    pub events: u64,
    pub controller: ControllerView,
    pub brokers: Vec<BrokerView>,
    pub partitions: Vec<PartitionView>,
    pub groups: Vec<GroupView>,
    pub clients: Vec<ClientView>,
}

/// The KRaft controller quorum: controller-only nodes here, not the brokers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControllerView {
    /// Records in the committed metadata log (the active controller's, else the most
    /// advanced running voter's).
    pub metadata_records: u64,
    /// The active controller (the Raft leader that applied its term's first entry), if any.
    pub active: Option<BrokerId>,
    pub voters: Vec<VoterView>,
}

/// One voter of the controller quorum as it sees itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoterView {
    pub id: BrokerId,
    pub up: bool,
    /// leader, follower, candidate, pre-candidate (empty while down).
    pub role: String,
    /// The Raft term (KRaft's leader epoch) it is in.
    pub term: u64,
    /// The leader it follows, if it knows one.
    pub leader: Option<BrokerId>,
    /// The index of its last Raft entry, and the highest it knows committed.
    pub log_end: u64,
    pub commit_index: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub up: bool,
    /// Registered and not fenced, as the controller sees it.
    pub live: bool,
    /// A network partition separates it from the controller or another broker.
    pub cut_off: bool,
    pub replicas: Vec<ReplicaView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaView {
    pub tp: TopicPartition,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub high_watermark: i64,
    /// The last stable offset (below the first open transaction's first record).
    pub last_stable_offset: i64,
    pub flushed_offset: i64,
    pub leader: bool,
}

/// A partition as the controller's metadata has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionView {
    pub tp: TopicPartition,
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
}

/// One record of a replica's log, for the playground's cells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordCell {
    pub offset: i64,
    pub key: Option<String>,
    /// A null value: on a compacted topic it deletes its key.
    pub tombstone: bool,
    /// A transaction marker (a control record): `Some(true)` commit, `Some(false)` abort.
    pub control: Option<bool>,
    /// Written in a transaction (a transactional batch), committed, aborted or still open.
    pub transactional: bool,
    /// Part of an aborted transaction: read_committed consumers never see it.
    pub aborted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub group_id: String,
    pub state: String,
    pub generation_id: i32,
    /// The assignor the members agreed on (empty while rebalancing).
    pub assignor: String,
    pub members: Vec<String>,
    pub lag: Vec<LagView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LagView {
    pub tp: TopicPartition,
    pub committed: Option<i64>,
    pub high_watermark: Option<i64>,
    pub lag: Option<i64>,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientView {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub up: bool,
    /// "not started", "running", "crashed" or "stopped".
    pub state: &'static str,
    pub incarnation: u32,
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub polled: u64,
    pub processed: u64,
    /// Consumers: the partitions owned now, with positions.
    pub assignment: Vec<(TopicPartition, Option<i64>)>,
    pub member_id: Option<String>,
    /// Settings worth showing: `transactional.id=…`, `read_committed`, what a
    /// consume-transform-produce application writes to.
    pub settings: Vec<String>,
}

impl Simulation {
    pub fn snapshot(&self) -> Snapshot {
        let image = self.image();
        let brokers = self
            .brokers
            .iter()
            .map(|(&id, b)| BrokerView {
                id,
                up: b.is_up(),
                live: image.is_live(id),
                cut_off: self.is_cut_off(id),
                replicas: b
                    .broker()
                    .into_iter()
                    .flat_map(|broker| broker.partitions())
                    .map(|(tp, s)| ReplicaView {
                        tp: tp.clone(),
                        log_start_offset: s.log_start_offset,
                        log_end_offset: s.log_end_offset,
                        high_watermark: s.high_watermark,
                        last_stable_offset: s.last_stable_offset,
                        flushed_offset: s.flushed_offset,
                        leader: s.leader == id,
                    })
                    .collect(),
            })
            .collect();
        let partitions = image
            .partitions()
            .map(|(topic, index, p)| PartitionView {
                tp: TopicPartition::new(topic.name.clone(), index as i32),
                leader: p.leader,
                leader_epoch: p.leader_epoch,
                replicas: p.replicas.clone(),
                isr: p.isr.clone(),
            })
            .collect();
        let groups = self
            .group_coordinators()
            .flat_map(|c| c.list_groups(&[]).into_iter().map(move |l| (c, l)))
            .map(|(coordinator, listing)| {
                let description = coordinator.describe_group(&listing.group_id);
                let lag = coordinator
                    .group_lag(&listing.group_id, |tp| self.high_watermark(tp))
                    .into_iter()
                    .map(|row| LagView {
                        tp: row.partition,
                        committed: row.current_offset,
                        high_watermark: row.log_end_offset,
                        lag: row.lag,
                        owner: row.consumer_id,
                    })
                    .collect();
                GroupView {
                    group_id: listing.group_id,
                    state: description.state.name().to_string(),
                    generation_id: description.generation_id,
                    assignor: description.protocol_name,
                    members: description
                        .members
                        .into_iter()
                        .map(|m| m.member_id)
                        .collect(),
                    lag,
                }
            })
            .collect();
        let clients = self
            .clients
            .iter()
            .map(|c| {
                let (kind, assignment, member_id) = match &c.running {
                    Some(Running::Producer(_) | Running::TxnProducer(_)) => {
                        ("producer", Vec::new(), None)
                    }
                    Some(Running::Consumer(p)) => {
                        let assignment = p.consumer.assignment().into_iter().map(|tp| {
                            let position = p.consumer.position(&tp);
                            (tp, position)
                        });
                        (
                            "consumer",
                            assignment.collect(),
                            Some(p.consumer.member_id().to_string()),
                        )
                    }
                    None => (
                        if matches!(c.spec, ClientSpec::Producer(_)) {
                            "producer"
                        } else {
                            "consumer"
                        },
                        Vec::new(),
                        None,
                    ),
                };
                let settings = match &c.spec {
                    ClientSpec::Producer(p) => p
                        .transactions
                        .iter()
                        .map(|t| format!("transactional.id={}", t.transactional_id))
                        .collect(),
                    ClientSpec::Consumer(spec) => {
                        let isolation = (spec.config.isolation_level
                            == IsolationLevel::ReadCommitted)
                            .then(|| "read_committed".to_string());
                        let transform = spec.transform.as_ref().map(|t| {
                            let mode = if t.exactly_once {
                                "exactly-once, transactional.id=".to_string() + &t.transactional_id
                            } else {
                                "at-least-once".to_string()
                            };
                            format!("writes to {} ({mode})", t.output)
                        });
                        isolation.into_iter().chain(transform).collect()
                    }
                };
                ClientView {
                    settings,
                    index: c.index,
                    name: c.spec.name().to_string(),
                    kind,
                    up: c.running.is_some(),
                    state: c.state(),
                    incarnation: c.incarnation,
                    sent: c.stats.sent,
                    acknowledged: c.stats.acknowledged,
                    failed: c.stats.failed,
                    polled: c.stats.polled,
                    processed: c.stats.processed,
                    assignment,
                    member_id,
                }
            })
            .collect();
        Snapshot {
            now: self.now(),
            events: self.events(),
            controller: self.controller_view(),
            brokers,
            partitions,
            groups,
            clients,
        }
    }

    fn controller_view(&self) -> ControllerView {
        let voters: Vec<VoterView> = self
            .controllers
            .iter()
            .map(|(&id, process)| {
                let status = process.node.as_ref().and_then(|n| n.quorum_status());
                VoterView {
                    id,
                    up: process.is_up(),
                    role: status.as_ref().map_or("", |s| s.role).to_string(),
                    term: status.as_ref().map_or(0, |s| s.term),
                    leader: status.as_ref().and_then(|s| s.leader),
                    log_end: status.as_ref().map_or(0, |s| s.last_index),
                    commit_index: status.as_ref().map_or(0, |s| s.commit_index),
                }
            })
            .collect();
        let active = self.active_controller();
        let records = active
            .or_else(|| {
                self.controllers
                    .values()
                    .filter(|c| c.is_up())
                    .max_by_key(|c| {
                        c.node
                            .as_ref()
                            .map(|n| n.metadata_log_start() + n.metadata_log().len() as u64)
                    })
            })
            .and_then(|c| c.node.as_ref())
            .map_or(0, |n| {
                n.metadata_log_start() + n.metadata_log().len() as u64
            });
        ControllerView {
            metadata_records: records,
            active: active.and_then(|c| c.node.as_ref()).map(|n| n.node_id()),
            voters,
        }
    }

    /// Whether a network partition separates broker `id` from the controller or another broker.
    fn is_cut_off(&self, id: BrokerId) -> bool {
        let me = NodeId::Broker(id);
        self.controllers
            .keys()
            .map(|&c| NodeId::Controller(c))
            .chain(self.brokers.keys().map(|&b| NodeId::Broker(b)))
            .any(|other| other != me && self.network.is_cut(me, other))
    }

    /// The keys of the records at offsets `from..to` of broker `broker`'s replica of `tp`
    /// (`None` for a record without a key), read from its log as it is now, for the
    /// playground's cells. Offsets the replica does not hold are left out.
    pub fn record_keys(
        &self,
        broker: BrokerId,
        tp: &TopicPartition,
        from: i64,
        to: i64,
    ) -> Vec<(i64, Option<String>)> {
        self.record_cells(broker, tp, from, to)
            .into_iter()
            .map(|cell| (cell.offset, cell.key))
            .collect()
    }

    /// The records at offsets `from..to` of broker `broker`'s replica of `tp` as the
    /// playground draws them: offset, key and whether it is a tombstone. Offsets the replica
    /// does not hold (below its log start, or removed by the log cleaner) are left out, so a
    /// compacted log shows gaps.
    pub fn record_cells(
        &self,
        broker: BrokerId,
        tp: &TopicPartition,
        from: i64,
        to: i64,
    ) -> Vec<RecordCell> {
        let Some(broker) = self.brokers.get(&broker).and_then(|b| b.broker()) else {
            return Vec::new();
        };
        let mut cells = Vec::new();
        let mut offset = from;
        let mut filter = AbortedFilter::new(broker.aborted_transactions(tp, from, to));
        while offset < to {
            let Some(bytes) = broker.read_log(tp, offset, KEYS_READ_BYTES, to) else {
                break;
            };
            let Ok(batches) = split_batches(&bytes) else {
                break;
            };
            if batches.is_empty() {
                break;
            }
            for (range, summary) in batches {
                offset = summary.header.next_offset();
                let kind = filter.classify(&summary.header, &bytes[range.clone()]);
                let transactional = summary.header.is_transactional();
                for record in decode_records(&bytes[range]).unwrap_or_default() {
                    if (from..to).contains(&record.offset) {
                        let control = match kind {
                            BatchKind::Control { commit } => Some(commit),
                            _ => None,
                        };
                        cells.push(RecordCell {
                            offset: record.offset,
                            key: control
                                .is_none()
                                .then_some(record.key)
                                .flatten()
                                .map(|k| String::from_utf8_lossy(&k).into_owned()),
                            tombstone: control.is_none() && record.value.is_none(),
                            control,
                            transactional,
                            aborted: kind == BatchKind::Aborted,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The high watermark of `tp` at its current leader, if the leader is up.
    pub fn high_watermark(&self, tp: &TopicPartition) -> Option<i64> {
        let state = self.image().partition(&tp.topic, tp.partition as u32)?;
        let broker = self.brokers.get(&state.leader)?.broker()?;
        broker.partition(tp).map(|p| p.high_watermark)
    }
}
