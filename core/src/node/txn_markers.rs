//! The transaction coordinator's markers (KIP-98), as Kafka's
//! `TransactionMarkerChannelManager` sends them: grouped by partition leader, written through
//! this node's broker for the partitions it leads or sent to the leader as
//! [`PeerMessage::WriteTxnMarkers`] (appended there through its broker with acks=all and
//! answered per partition); retriable errors are retried after [`MARKER_RETRY_BACKOFF_MS`]
//! with the leader resolved again, a stale marker (a newer epoch or coordinator) and a
//! deleted partition's marker are dropped. A transaction completes once every marker is
//! written. A commit or abort marker appended to a `__consumer_offsets` partition settles
//! the producer's pending transactional offsets there (`txn_offsets.rs`).

use std::collections::BTreeMap;

use super::{Event, Node, PeerMessage, TxnMarkerResult, Waiting};
use crate::assignor::TopicPartition;
use crate::broker::{StorageFactory, TxnMarkerWrite};
use crate::controller::BrokerId;
use crate::group::{OFFSETS_TOPIC, RequestId};
use crate::{ErrorCode, Millis};

/// How long a marker write waits for the ISR before it is retried.
pub const MARKER_WRITE_TIMEOUT_MS: u64 = 5_000;
/// How soon markers that failed are written again.
pub const MARKER_RETRY_BACKOFF_MS: u64 = 100;

/// One marker write of the coordinator: the markers of one transaction for one leader.
#[derive(Clone, Debug)]
pub(super) struct MarkerWrite {
    pub(super) transactional_id: String,
    pub(super) producer_id: i64,
    pub(super) producer_epoch: i16,
    /// The leader it went to (this node for its own broker).
    pub(super) to: BrokerId,
    /// When an answer is no longer waited for (a lost message, a dead leader): the
    /// markers are then written again.
    pub(super) deadline: Millis,
}

/// Markers this node's broker appends: the peer's (node, request id) that asked, or `None`
/// for this node's own coordinator.
#[derive(Clone, Debug)]
pub(super) struct MarkerAppend {
    pub(super) for_peer: Option<(BrokerId, u64)>,
    pub(super) markers: Vec<TxnMarkerWrite>,
}

impl<F: StorageFactory> Node<F> {
    /// Sends `markers` of `transactional_id` to the partitions' leaders, one write per
    /// leader (Kafka's `TransactionMarkerChannelManager` groups them by broker the same
    /// way): this node's broker for those it leads, a [`PeerMessage::WriteTxnMarkers`] for
    /// the others. A marker of a deleted partition is dropped; one of a partition without a
    /// live leader is retried after [`MARKER_RETRY_BACKOFF_MS`].
    pub(super) fn write_markers(
        &mut self,
        now: Millis,
        transactional_id: &str,
        markers: Vec<TxnMarkerWrite>,
    ) {
        let Some(first) = markers.first() else {
            return;
        };
        let (producer_id, producer_epoch) = (first.marker.producer_id, first.marker.producer_epoch);
        let mut by_leader: BTreeMap<BrokerId, Vec<TxnMarkerWrite>> = BTreeMap::new();
        let mut deleted = Vec::new();
        let mut leaderless = false;
        for write in markers {
            let state = self
                .image
                .topic(&write.tp.topic)
                .map(|t| t.partitions.get(write.tp.partition as usize));
            match state {
                None | Some(None) => deleted.push(write.tp),
                Some(Some(s)) if self.image.broker(s.leader).is_some_and(|b| !b.fenced) => {
                    by_leader.entry(s.leader).or_default().push(write);
                }
                Some(Some(_)) => leaderless = true,
            }
        }
        for tp in deleted {
            self.event(Event::Transaction {
                description: format!(
                    "{transactional_id}: the marker for {}-{} is dropped: the partition was deleted",
                    tp.topic, tp.partition
                ),
            });
            if self.txns.coordinator.marker_written(
                transactional_id,
                producer_id,
                producer_epoch,
                &tp,
                now,
            ) {
                self.persist_txn(now, transactional_id);
            }
        }
        if leaderless {
            self.schedule_marker_retry(now);
        }
        let me = self.config.node_id;
        for (leader, markers) in by_leader {
            let id = self.next_request_id();
            self.txns.in_flight.insert(
                id,
                MarkerWrite {
                    transactional_id: transactional_id.to_string(),
                    producer_id,
                    producer_epoch,
                    to: leader,
                    deadline: now.plus(Millis(2 * MARKER_WRITE_TIMEOUT_MS)),
                },
            );
            if leader == me {
                self.append_markers(now, id, None, markers);
            } else {
                let request_id = id.0;
                self.send(
                    leader,
                    PeerMessage::WriteTxnMarkers {
                        request_id,
                        markers,
                    },
                );
            }
        }
    }

    /// Appends `markers` through this node's broker, acks=all (the path of every marker,
    /// ours or a peer's); the answer comes back through [`Node::on_txn_markers`].
    fn append_markers(
        &mut self,
        now: Millis,
        id: RequestId,
        for_peer: Option<(BrokerId, u64)>,
        markers: Vec<TxnMarkerWrite>,
    ) {
        let Some(broker) = self.broker.as_mut() else {
            return;
        };
        self.pending.insert(id, Waiting::TxnMarkers);
        self.txns.appending.insert(
            id,
            MarkerAppend {
                for_peer,
                markers: markers.clone(),
            },
        );
        broker.write_txn_markers(id, markers, Millis(MARKER_WRITE_TIMEOUT_MS), now);
    }

    /// A peer's WriteTxnMarkers (its transaction coordinator's markers for partitions this
    /// node leads): appended as this node's own are, answered once the ISR has them. A node
    /// without the broker role answers NOT_LEADER_OR_FOLLOWER for each.
    pub(super) fn on_peer_write_txn_markers(
        &mut self,
        now: Millis,
        from: BrokerId,
        request_id: u64,
        markers: Vec<TxnMarkerWrite>,
    ) {
        if self.broker.is_none() || markers.is_empty() {
            let results = markers
                .into_iter()
                .map(|m| TxnMarkerResult {
                    tp: m.tp,
                    error: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    producer_id: m.marker.producer_id,
                })
                .collect();
            self.send(
                from,
                PeerMessage::WriteTxnMarkersResponse {
                    request_id,
                    results,
                },
            );
            return;
        }
        let id = self.next_request_id();
        self.append_markers(now, id, Some((from, request_id)), markers);
    }

    /// The broker appended markers (from `drain_broker`; one result per marker, in order): a
    /// commit marker in an offsets partition makes the producer's pending offsets of its
    /// groups committed (this node coordinates them: it leads that partition); then the
    /// peer that asked is answered, or this node's coordinator told.
    pub(super) fn on_txn_markers(
        &mut self,
        now: Millis,
        request: RequestId,
        results: Vec<(TopicPartition, ErrorCode)>,
    ) {
        let Some(append) = self.txns.appending.remove(&request) else {
            return;
        };
        for (write, (tp, code)) in append.markers.iter().zip(&results) {
            if *code == ErrorCode::NONE && tp.topic == OFFSETS_TOPIC {
                self.complete_txn_offsets(now, &write.marker, tp.partition);
            }
        }
        match append.for_peer {
            Some((peer, request_id)) => {
                let results = append
                    .markers
                    .iter()
                    .zip(results)
                    .map(|(write, (tp, error))| TxnMarkerResult {
                        tp,
                        error,
                        producer_id: write.marker.producer_id,
                    })
                    .collect();
                self.send(
                    peer,
                    PeerMessage::WriteTxnMarkersResponse {
                        request_id,
                        results,
                    },
                );
            }
            None => {
                let me = self.config.node_id;
                self.on_marker_results(now, request, me, results);
            }
        }
    }

    /// The answer to one of the coordinator's marker writes, from leader `from` (Kafka's
    /// `TransactionMarkerRequestCompletionHandler`): a written marker's partition leaves
    /// its transaction, which completes with the last; a marker refused as stale
    /// (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED: a later epoch or coordinator
    /// moved on) is dropped; any other error (NOT_LEADER_OR_FOLLOWER,
    /// UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT...) is retried,
    /// to the leader the metadata names then.
    pub(super) fn on_marker_results(
        &mut self,
        now: Millis,
        request: RequestId,
        from: BrokerId,
        results: Vec<(TopicPartition, ErrorCode)>,
    ) {
        if self
            .txns
            .in_flight
            .get(&request)
            .is_none_or(|w| w.to != from)
        {
            return;
        }
        let write = self.txns.in_flight.remove(&request).expect("checked");
        let mut retry = false;
        for (tp, code) in results {
            match code {
                ErrorCode::NONE => {}
                ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::TRANSACTION_COORDINATOR_FENCED => {
                    self.event(Event::Transaction {
                        description: format!(
                            "{}: the marker for {}-{} is dropped: {} refused it ({})",
                            write.transactional_id,
                            tp.topic,
                            tp.partition,
                            from,
                            code.name()
                        ),
                    });
                }
                _ => {
                    retry = true;
                    continue;
                }
            }
            if self.txns.coordinator.marker_written(
                &write.transactional_id,
                write.producer_id,
                write.producer_epoch,
                &tp,
                now,
            ) {
                self.persist_txn(now, &write.transactional_id);
            }
        }
        if retry {
            self.schedule_marker_retry(now);
        }
    }

    pub(super) fn schedule_marker_retry(&mut self, now: Millis) {
        let at = now.plus(Millis(MARKER_RETRY_BACKOFF_MS));
        self.txns.retry_at = Some(self.txns.retry_at.map_or(at, |t| t.min(at)));
    }
}
