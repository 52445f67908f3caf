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
