//! The controller role's side of the quorum: how the node turns controller commands into
//! Raft proposals, applies committed entries to the metadata, answers only once what an answer
//! depends on is committed, and snapshots the image to bound the log.
//!
//! - The **active controller** is the Raft leader once it has applied every entry of earlier
//!   terms ([`Quorum::is_active`]). Its [`Controller`] runs ahead of the log: a command's
//!   records are applied to its image at once (so the next command sees them, as Kafka's
//!   active controller does) and proposed as one entry; the answer that depends on them waits
//!   in `after_commit` until that entry commits.
//! - Every other voter's controller replays committed entries only. When leadership changes,
//!   or an entry this node did not propose commits where it expected its own, the controller
//!   restarts from the committed image ([`Controller::restore`]) and what waited for
//!   uncommitted entries is dropped (brokers ask again).
//! - After [`NodeConfig::metadata_snapshot_interval`] entries the node snapshots the committed
//!   image (with the record offset it reaches) and the quorum drops the entries before it.

use std::collections::VecDeque;

use super::metadata_codec::{self, MetadataSnapshot};
use super::quorum::{Quorum, QuorumOutput};
use super::{Event, Node, NodeConfig, Output, PeerMessage};
use crate::broker::StorageFactory;
use crate::controller::{BrokerId, Controller, MetadataImage, MetadataRecord};

/// An answer that waits for a commit.
pub(super) enum Deferred {
    Message(PeerMessage),
    /// Built when it goes, with the records committed by then.
    HeartbeatResponse {
        broker_epoch: Option<u64>,
        metadata_offset: u64,
    },
}

/// What the controller role keeps besides the [`Controller`] itself.
#[derive(Default)]
pub(super) struct QuorumState {
    /// The metadata as committed (the controller's image may be ahead on the leader).
    pub committed_image: MetadataImage,
    /// Committed records since `base` (the record offset of the latest snapshot).
    pub records: Vec<MetadataRecord>,
    pub base: u64,
    /// This node's proposals not committed yet: Raft index, term, records.
    pub in_flight: VecDeque<(u64, u64, Vec<MetadataRecord>)>,
    /// Messages to send once the entry at the index commits.
    pub after_commit: VecDeque<(u64, BrokerId, Deferred)>,
    /// The term this node is the active controller in.
    pub active_term: Option<u64>,
}

impl QuorumState {
    /// The record offset after the last committed record.
    pub fn record_end(&self) -> u64 {
        self.base + self.records.len() as u64
    }
}

impl<F: StorageFactory> Node<F> {
    /// True when this node is the active controller.
    pub(super) fn is_active_controller(&self) -> bool {
        self.quorum.as_ref().is_some_and(Quorum::is_active) && self.controller.is_some()
    }

    /// Proposes records the active controller produced (already applied to its image) as one
    /// entry. False when this node cannot (it is not the leader any more): the controller
    /// then forgets them.
    pub(super) fn commit(&mut self, records: Vec<MetadataRecord>) -> bool {
        if records.is_empty() {
            return true;
        }
        let data = metadata_codec::encode_records(&records);
        let proposed = self.quorum.as_mut().and_then(|q| {
            let term = q.term();
            q.propose(data).map(|index| (index, term))
        });
        match proposed {
            Some((index, term)) => {
                self.meta.in_flight.push_back((index, term, records));
                self.drain_quorum();
                true
            }
            None => {
                self.reset_controller();
                false
            }
        }
    }

    /// Sends `message` once every record proposed so far is committed (at once if none waits).
    pub(super) fn send_after_commit(&mut self, to: BrokerId, message: Deferred) {
        match self.meta.in_flight.back() {
            Some(&(index, _, _)) => self.meta.after_commit.push_back((index, to, message)),
            None => self.send_deferred(to, message),
        }
    }

    fn send_deferred(&mut self, to: BrokerId, message: Deferred) {
        let message = match message {
            Deferred::Message(message) => message,
            Deferred::HeartbeatResponse {
                broker_epoch,
                metadata_offset,
            } => self.heartbeat_response(broker_epoch, metadata_offset),
        };
        self.send(to, message);
    }

    /// Tells a broker this node is not the active controller, and who is, if it knows.
    pub(super) fn not_controller(&mut self, to: BrokerId) {
        let leader = self
            .quorum
            .as_ref()
            .and_then(Quorum::leader)
            .filter(|&l| l != self.config.node_id || self.is_active_controller());
        self.send(to, PeerMessage::NotController { leader });
    }

    /// Acts on what the quorum produced, in order, then on a change of leadership, then
    /// snapshots if the log grew enough.
    pub(super) fn drain_quorum(&mut self) {
        let Some(quorum) = &mut self.quorum else {
            return;
        };
        let mut outputs = Vec::new();
        while let Some(output) = quorum.poll_output() {
            outputs.push(output);
        }
        for output in outputs {
            match output {
                QuorumOutput::Persist(write) => self.outputs.push_back(Output::PersistRaft(write)),
                QuorumOutput::Send { to, bytes } => self.send(to, PeerMessage::Raft { bytes }),
                QuorumOutput::Restore { data, .. } => self.restore_snapshot(&data),
                QuorumOutput::Apply { index, term, data } => self.apply_entry(index, term, &data),
            }
        }
        self.check_leadership();
        self.maybe_snapshot();
    }

    fn restore_snapshot(&mut self, data: &[u8]) {
        let snapshot = match metadata_codec::decode_snapshot(data) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                self.event(Event::StorageError {
                    description: format!("a metadata snapshot does not decode: {e}"),
                });
                return;
            }
        };
        if let Err(e) = snapshot.image.check_consistent() {
            self.event(Event::MetadataRefused {
                description: format!("a metadata snapshot: {e}"),
            });
            return;
        }
        self.meta.committed_image = snapshot.image;
        self.meta.base = snapshot.record_offset;
        self.meta.records.clear();
        self.reset_controller();
    }

    fn apply_entry(&mut self, index: u64, term: u64, data: &[u8]) {
        let records = match metadata_codec::decode_records(data) {
            Ok(records) => records,
            Err(e) => {
                self.event(Event::StorageError {
                    description: format!("metadata entry {index} does not decode: {e}"),
                });
                Vec::new()
            }
        };
        let own =
            matches!(self.meta.in_flight.front(), Some(&(i, t, _)) if i == index && t == term);
        let diverged = !own && !self.meta.in_flight.is_empty();
        if own {
            self.meta.in_flight.pop_front();
        }
        let from_offset = self.meta.record_end();
        let leader = self.quorum.as_ref().is_some_and(Quorum::is_leader);
        let mut events = Vec::new();
        // A leader's records fit its image; a record that does not fit ours (a peer's
        // garbage) is refused and the rest of the entry applied.
        let mut accepted = Vec::with_capacity(records.len());
        for record in records {
            if let Err(description) = self.meta.committed_image.check(&record) {
                self.event(Event::MetadataRefused {
                    description: format!("metadata entry {index}: {description}"),
                });
                continue;
            }
            self.meta.committed_image.apply(&record);
            if leader {
                super::record_events(&self.meta.committed_image, &record, &mut events);
            }
            accepted.push(record);
        }
        let records = accepted;
        if diverged {
            self.reset_controller();
        } else if !own && let Some(controller) = &mut self.controller {
            for record in &records {
                controller.replay(record);
            }
        }
        self.outputs.extend(events.into_iter().map(Output::Event));
        if leader && !records.is_empty() {
            let brokers: Vec<BrokerId> = self
                .meta
                .committed_image
                .brokers()
                .map(|b| b.broker_id)
                .collect();
            for broker in brokers {
                let push = PeerMessage::MetadataPush {
                    from_offset,
                    records: records.clone(),
                };
                self.send(broker, push);
            }
        }
        self.meta.records.extend(records);
        while self
            .meta
            .after_commit
            .front()
            .is_some_and(|&(i, _, _)| i <= index)
        {
            let (_, to, message) = self.meta.after_commit.pop_front().expect("checked");
            self.send_deferred(to, message);
        }
    }

    /// The controller restarts from the committed image (its proposals in flight dropped).
    fn reset_controller(&mut self) {
        self.meta.in_flight.clear();
        self.meta.after_commit.clear();
        if let Some(controller) = &mut self.controller {
            controller.restore(self.meta.committed_image.clone());
        }
    }

    fn check_leadership(&mut self) {
        let active = self
            .quorum
            .as_ref()
            .filter(|q| q.is_active())
            .map(Quorum::term);
        if active == self.meta.active_term {
            return;
        }
        self.meta.active_term = active;
        self.reset_controller();
        if let Some(term) = active {
            self.controller_id = self.config.node_id;
            self.event(Event::ControllerElected {
                controller: self.config.node_id,
                term,
            });
        }
    }

    fn maybe_snapshot(&mut self) {
        let Some(quorum) = &mut self.quorum else {
            return;
        };
        let applied = quorum.applied();
        if applied < quorum.snapshot_index() + self.config.metadata_snapshot_interval {
            return;
        }
        let snapshot = MetadataSnapshot {
            record_offset: self.meta.record_end(),
            image: self.meta.committed_image.clone(),
        };
        quorum.compact(applied, metadata_codec::encode_snapshot(&snapshot));
        self.meta.base = snapshot.record_offset;
        self.meta.records.clear();
        while let Some(output) = quorum.poll_output() {
            if let QuorumOutput::Persist(write) = output {
                self.outputs.push_back(Output::PersistRaft(write));
            }
        }
    }
}

/// The voters of `config`'s quorum: `controller.quorum.voters`, or this node alone.
pub(super) fn voters(config: &NodeConfig) -> Vec<BrokerId> {
    if config.controller_quorum_voters.is_empty() {
        vec![config.node_id]
    } else {
        config.controller_quorum_voters.clone()
    }
}

/// A new controller on what a snapshot and the entries after it hold is built by the quorum's
/// first outputs; this one starts empty.
pub(super) fn new_controller(config: &NodeConfig) -> Controller {
    Controller::new(config.broker.clone(), config.seed)
}

/// The metadata log's topic: partition 0 of it is the controller quorum's Raft log.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

/// One partition of a DescribeQuorum answer (KIP-595, KIP-836), as Kafka's `KafkaRaftClient`
/// answers it. Offsets are Raft entry indexes (an entry is one controller command's batch of
/// records): the high watermark is the commit index, a voter's log end offset the index it
/// is known to have replicated (-1 unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumPartition {
    /// NONE on the leader; UNKNOWN_TOPIC_OR_PARTITION for anything but
    /// `__cluster_metadata-0`; NOT_LEADER_OR_FOLLOWER on another node (with the leader it
    /// knows and the epoch, the client goes there).
    pub error: crate::ErrorCode,
    /// -1 when unknown.
    pub leader_id: BrokerId,
    /// The Raft term; 0 when unknown.
    pub leader_epoch: i32,
    /// 0 unless answered by the leader.
    pub high_watermark: i64,
    /// The voters, on the leader only. Observers (brokers that are not voters) are not
    /// listed: they learn the metadata from heartbeats, not by fetching the Raft log.
    pub voters: Vec<QuorumReplica>,
}

/// A voter as the leader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumReplica {
    pub replica_id: BrokerId,
    pub log_end_offset: i64,
    /// Milliseconds since the Unix epoch: when the leader last heard this voter answer an
    /// append or heartbeat in its term (the leader's own: its latest time); -1 not yet.
    pub last_fetch_timestamp: i64,
    /// Milliseconds since the Unix epoch: when this voter's log last reached the leader's
    /// log end, as seen in such an answer (the leader's own: its latest time); -1 not yet.
    pub last_caught_up_timestamp: i64,
}

impl<F: StorageFactory> Node<F> {
    /// DescribeQuorum for partition `partition` of `topic`, answered at `now` (the shell's
    /// wall clock, milliseconds since the Unix epoch).
    pub fn describe_quorum(
        &self,
        topic: &str,
        partition: i32,
        now: crate::Millis,
    ) -> QuorumPartition {
        let unknown = QuorumPartition {
            error: crate::ErrorCode::NOT_LEADER_OR_FOLLOWER,
            leader_id: -1,
            leader_epoch: 0,
            high_watermark: 0,
            voters: Vec::new(),
        };
        if topic != METADATA_TOPIC || partition != 0 {
            return QuorumPartition {
                error: crate::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                ..unknown
            };
        }
        let Some(s) = self.quorum_status() else {
            return unknown;
        };
        let epoch = i32::try_from(s.term).unwrap_or(i32::MAX);
        if !(s.leader == Some(s.node_id) && s.role == "leader") {
            return QuorumPartition {
                leader_id: s.leader.unwrap_or(-1),
                leader_epoch: epoch,
                ..unknown
            };
        }
        let now_ms = i64::try_from(now.0).unwrap_or(i64::MAX);
        let voters = s
            .voters
            .iter()
            .map(|v| QuorumReplica {
                replica_id: v.node_id,
                log_end_offset: v.matched.map_or(-1, entry_offset),
                last_fetch_timestamp: timestamp(v.last_fetch, v.node_id == s.node_id, now_ms),
                last_caught_up_timestamp: timestamp(
                    v.last_caught_up,
                    v.node_id == s.node_id,
                    now_ms,
                ),
            })
            .collect();
        QuorumPartition {
            error: crate::ErrorCode::NONE,
            leader_id: s.node_id,
            leader_epoch: epoch,
            high_watermark: entry_offset(s.commit_index),
            voters,
        }
    }
}

/// A voter's timestamp in a DescribeQuorum answer: the leader's own is the answer's time.
fn timestamp(at: Option<crate::Millis>, own: bool, now_ms: i64) -> i64 {
    if own {
        return now_ms;
    }
    at.map_or(-1, |t| i64::try_from(t.0).unwrap_or(i64::MAX))
}

fn entry_offset(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}
