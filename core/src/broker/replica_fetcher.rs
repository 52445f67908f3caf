//! The follower's side of replication across partitions (Kafka's replica fetcher): which
//! requests to send to which leader, and what to do with the answers.
//!
//! As with one fetcher thread per leader in Kafka, at most one request is in flight to each
//! leader: an OffsetForLeaderEpoch for the partitions that must truncate first, otherwise a
//! Fetch for all partitions that leader leads. The shell calls
//! [`Broker::replica_requests`] after every input and tick, sends what it returns, and hands
//! each answer back ([`Broker::on_replica_fetch_response`],
//! [`Broker::on_offset_for_leader_epoch_response`]) or reports the request lost
//! ([`Broker::on_replica_request_failed`]); a request unanswered for
//! [`ReplicaFetchSettings::request_timeout_ms`] counts as lost at the next tick.
//!
//! An answer is applied to a partition only if the partition still follows the same leader in
//! the same epoch, in the same phase and (for a fetch) at the same log end as when the request
//! left: anything else is an answer to a question no longer asked, and copying it could put a
//! deposed leader's records into the log.

use std::collections::BTreeMap;

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;

use super::fetch::{FetchPartition, FetchRequest, FetchResponse, FetchedPartition};
use super::follower::FollowerPhase;
use super::offset_for_leader_epoch::{
    EpochEndOffset, OffsetForLeaderEpochPartition, OffsetForLeaderEpochRequest,
};
use super::{Broker, StorageFactory};

/// Kafka's replica fetcher configs, with Kafka's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaFetchSettings {
    /// `replica.fetch.wait.max.ms`: how long the leader may hold a fetch with no new data.
    pub wait_max_ms: Millis,
    /// `replica.fetch.min.bytes`.
    pub min_bytes: usize,
    /// `replica.fetch.response.max.bytes`.
    pub response_max_bytes: usize,
    /// `replica.fetch.max.bytes`: per partition.
    pub partition_max_bytes: usize,
    /// `replica.fetch.backoff.ms`: the pause after an error.
    pub backoff_ms: Millis,
    /// `replica.socket.timeout.ms`: a request unanswered this long is given up.
    pub request_timeout_ms: Millis,
}

impl Default for ReplicaFetchSettings {
    fn default() -> Self {
        ReplicaFetchSettings {
            wait_max_ms: Millis(500),
            min_bytes: 1,
            response_max_bytes: 10 * 1024 * 1024,
            partition_max_bytes: 1024 * 1024,
            backoff_ms: Millis(1_000),
            request_timeout_ms: Millis(30_000),
        }
    }
}

/// A request this broker, as follower, sends to a leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaRequest {
    Fetch {
        leader: BrokerId,
        request: FetchRequest,
    },
    OffsetForLeaderEpoch {
        leader: BrokerId,
        request: OffsetForLeaderEpochRequest,
    },
}

impl ReplicaRequest {
    pub fn leader(&self) -> BrokerId {
        match self {
            ReplicaRequest::Fetch { leader, .. }
            | ReplicaRequest::OffsetForLeaderEpoch { leader, .. } => *leader,
        }
    }
}

/// What a request in flight asked, per partition: the leader epoch and, for a fetch, the
/// offset it fetched from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Asked {
    Fetch(BTreeMap<TopicPartition, (i32, i64)>),
    Epochs(BTreeMap<TopicPartition, i32>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct InFlight {
    sent_at: Millis,
    asked: Asked,
}

#[derive(Debug, Default)]
pub(super) struct ReplicaFetcher {
    pub settings: ReplicaFetchSettings,
    in_flight: BTreeMap<BrokerId, InFlight>,
}

impl ReplicaFetcher {
    /// The earliest time a request in flight times out.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.in_flight
            .values()
            .map(|f| f.sent_at.plus(self.settings.request_timeout_ms))
            .min()
    }
}

impl<F: StorageFactory> Broker<F> {
    /// Changes the replica fetcher configs (they apply from the next request).
    pub fn set_replica_fetch_settings(&mut self, settings: ReplicaFetchSettings) {
        self.fetcher.settings = settings;
    }

    /// The requests to send now, at most one per leader (see the module docs).
    pub fn replica_requests(&mut self, now: Millis) -> Vec<ReplicaRequest> {
        let mut by_leader: BTreeMap<
            BrokerId,
            (Vec<OffsetForLeaderEpochPartition>, Vec<FetchPartition>),
        > = BTreeMap::new();
        let settings = self.fetcher.settings;
        for (tp, partition) in &self.partitions {
            let Some(follower) = partition.follower.filter(|f| f.ready(now)) else {
                continue;
            };
            if self.fetcher.in_flight.contains_key(&follower.leader) {
                continue;
            }
            let (truncating, fetching) = by_leader.entry(follower.leader).or_default();
            match follower.phase {
                FollowerPhase::Truncating => truncating.push(OffsetForLeaderEpochPartition {
                    tp: tp.clone(),
                    current_leader_epoch: Some(follower.leader_epoch),
                    leader_epoch: partition
                        .epochs
                        .latest_epoch()
                        .unwrap_or(super::epoch_cache::UNDEFINED_EPOCH),
                }),
                FollowerPhase::Fetching => fetching.push(FetchPartition {
                    tp: tp.clone(),
                    fetch_offset: partition.log.log_end_offset(),
                    partition_max_bytes: settings.partition_max_bytes,
                    current_leader_epoch: Some(follower.leader_epoch),
                }),
            }
        }
        let mut requests = Vec::new();
        for (leader, (truncating, fetching)) in by_leader {
            let (request, asked) = if !truncating.is_empty() {
                let asked = truncating
                    .iter()
                    .map(|p| (p.tp.clone(), p.current_leader_epoch.unwrap_or(-1)))
                    .collect();
                let request = OffsetForLeaderEpochRequest {
                    replica_id: self.settings.node_id,
                    partitions: truncating,
                };
                (
                    ReplicaRequest::OffsetForLeaderEpoch { leader, request },
                    Asked::Epochs(asked),
                )
            } else if !fetching.is_empty() {
                let asked = fetching
                    .iter()
                    .map(|p| {
                        (
                            p.tp.clone(),
                            (p.current_leader_epoch.unwrap_or(-1), p.fetch_offset),
                        )
                    })
                    .collect();
                let request = FetchRequest {
                    replica_id: self.settings.node_id,
                    max_wait_ms: settings.wait_max_ms,
                    min_bytes: settings.min_bytes,
                    max_bytes: settings.response_max_bytes,
                    isolation_level: super::IsolationLevel::ReadUncommitted,
                    partitions: fetching,
                };
                (
                    ReplicaRequest::Fetch { leader, request },
                    Asked::Fetch(asked),
                )
            } else {
                continue;
            };
            self.fetcher.in_flight.insert(
                leader,
                InFlight {
                    sent_at: now,
                    asked,
                },
            );
            requests.push(request);
        }
        requests
    }

    /// The leader's answer to this broker's replica fetch.
    pub fn on_replica_fetch_response(
        &mut self,
        leader: BrokerId,
        response: FetchResponse,
        now: Millis,
    ) {
        let Some(asked) = self.take_in_flight(leader, |a| matches!(a, Asked::Fetch(_))) else {
            return;
        };
        let Asked::Fetch(asked) = asked else {
            unreachable!("matched above")
        };
        for fetched in response.partitions {
            let Some(&(epoch, offset)) = asked.get(&fetched.tp) else {
                continue;
            };
            self.apply_fetched(leader, epoch, offset, fetched, now);
        }
        self.complete_waiting(now);
    }

    fn apply_fetched(
        &mut self,
        leader: BrokerId,
        epoch: i32,
        offset: i64,
        fetched: FetchedPartition,
        now: Millis,
    ) {
        let backoff = self.fetcher.settings.backoff_ms;
        let Some(partition) = self.partitions.get_mut(&fetched.tp) else {
            return;
        };
        let current = partition.follower.filter(|f| {
            f.leader == leader && f.leader_epoch == epoch && f.phase == FollowerPhase::Fetching
        });
        if current.is_none() || partition.log.log_end_offset() != offset {
            return;
        }
        let result = match fetched.error {
            ErrorCode::NONE => partition.append_fetched(&fetched, now),
            ErrorCode::OFFSET_OUT_OF_RANGE if offset < fetched.log_start_offset => partition
                .restart_at(fetched.log_start_offset)
                .map_err(|e| e.code()),
            ErrorCode::OFFSET_OUT_OF_RANGE => {
                // Beyond the leader's end: the log diverged after all; find out where again.
                let follower = partition.follower.as_mut().expect("checked above");
                follower.phase = FollowerPhase::Truncating;
                Ok(())
            }
            error => Err(error),
        };
        if result.is_err() {
            let follower = partition.follower.as_mut().expect("checked above");
            follower.backoff_until = Some(now.plus(backoff));
        }
    }

    /// The leader's answer to this broker's OffsetForLeaderEpoch: truncate, then fetch.
    pub fn on_offset_for_leader_epoch_response(
        &mut self,
        leader: BrokerId,
        answers: Vec<EpochEndOffset>,
        now: Millis,
    ) {
        let Some(asked) = self.take_in_flight(leader, |a| matches!(a, Asked::Epochs(_))) else {
            return;
        };
        let Asked::Epochs(asked) = asked else {
            unreachable!("matched above")
        };
        let backoff = self.fetcher.settings.backoff_ms;
        for answer in answers {
            let Some(&epoch) = asked.get(&answer.tp) else {
                continue;
            };
            let Some(partition) = self.partitions.get_mut(&answer.tp) else {
                continue;
            };
            let current = partition.follower.filter(|f| {
                f.leader == leader
                    && f.leader_epoch == epoch
                    && f.phase == FollowerPhase::Truncating
            });
            if current.is_none() {
                continue;
            }
            if partition
                .on_epoch_end_offset(&answer, now, backoff)
                .is_err()
            {
                let follower = partition.follower.as_mut().expect("checked above");
                follower.backoff_until = Some(now.plus(backoff));
            }
        }
    }

    /// The request in flight to `leader` was lost (the connection failed): its partitions
    /// back off, then ask again.
    pub fn on_replica_request_failed(&mut self, leader: BrokerId, now: Millis) {
        if self.fetcher.in_flight.remove(&leader).is_none() {
            return;
        }
        let until = now.plus(self.fetcher.settings.backoff_ms);
        for partition in self.partitions.values_mut() {
            if let Some(follower) = partition.follower.as_mut().filter(|f| f.leader == leader) {
                follower.backoff_until = Some(until);
            }
        }
    }

    /// Gives up on requests unanswered for too long, and ends backoffs that are over (so
    /// that [`Broker::next_deadline`] does not report them again).
    pub(super) fn expire_replica_requests(&mut self, now: Millis) {
        let timeout = self.fetcher.settings.request_timeout_ms;
        let expired: Vec<BrokerId> = self
            .fetcher
            .in_flight
            .iter()
            .filter(|(_, f)| now >= f.sent_at.plus(timeout))
            .map(|(leader, _)| *leader)
            .collect();
        for leader in expired {
            self.on_replica_request_failed(leader, now);
        }
        for partition in self.partitions.values_mut() {
            if let Some(follower) = partition.follower.as_mut()
                && follower.ready(now)
            {
                follower.backoff_until = None;
            }
        }
    }

    /// When a follower's backoff ends (the shell then calls [`Broker::replica_requests`]).
    pub(super) fn replica_deadline(&self) -> Option<Millis> {
        let backoffs = self
            .partitions
            .values()
            .filter_map(|p| p.follower.and_then(|f| f.backoff_until));
        backoffs.chain(self.fetcher.next_deadline()).min()
    }

    /// The request in flight to `leader`, if it is of the kind `is_kind` accepts.
    fn take_in_flight(
        &mut self,
        leader: BrokerId,
        is_kind: impl Fn(&Asked) -> bool,
    ) -> Option<Asked> {
        let in_flight = self.fetcher.in_flight.get(&leader)?;
        if !is_kind(&in_flight.asked) {
            return None;
        }
        self.fetcher.in_flight.remove(&leader).map(|f| f.asked)
    }
}
