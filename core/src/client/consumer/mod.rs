//! The simulated consumer: a member of a consumer group that fetches its partitions and hands
//! records to the application through [`Consumer::poll`], as the Java client and librdkafka do.
//!
//! - **Membership** (`membership`): JoinGroup (answered MEMBER_ID_REQUIRED first, then again
//!   with the id), SyncGroup (the leader runs the assignor over every member's subscription),
//!   heartbeats every `heartbeat.interval.ms`, rejoining when a heartbeat says a rebalance
//!   started, and leaving when `poll` was not called for `max.poll.interval.ms`. Under an
//!   eager assignor a member revokes everything before it rejoins; under cooperative-sticky it
//!   keeps consuming, revokes only what its new assignment lacks, and rejoins once more if it
//!   gave something up (KIP-429's two phases).
//! - **Positions and fetching** (`fetcher`): a new partition starts at the group's committed
//!   offset (OffsetFetch) or, without one, where `auto.offset.reset` says (ListOffsets);
//!   fetches go to each partition's leader and fill a buffer that `poll` drains, at most
//!   `max.poll.records` at a time.
//! - **Commits**: of given offsets or of the current positions; automatically every
//!   `auto.commit.interval.ms` from `poll` and before an eager revocation when
//!   `enable.auto.commit` is set.
//!
//! As in the real clients, the rejoin itself happens inside `poll`: a consumer that is busy
//! processing does not rejoin until it polls again.

mod config;
mod coordinator;
mod fetcher;
mod membership;

pub use config::{ConsumerConfig, OffsetReset};

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Destination, Outgoing, PartitionMetadata, Request, RequestTracker, Response};
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;
use crate::group::CommitOffset;
use crate::group::OffsetCommitRequest;
use crate::{ErrorCode, Millis};

/// What a JoinGroup may wait beyond the rebalance timeout before it counts as lost.
pub const JOIN_GROUP_TIMEOUT_EXTRA_MS: Millis = Millis(5_000);

/// A record returned by [`Consumer::poll`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRecord {
    pub tp: TopicPartition,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// What happens to the consumer that the application (and the trace) should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerEvent {
    Joined {
        generation_id: i32,
        member_id: String,
        leader: bool,
    },
    /// Partitions newly assigned (`onPartitionsAssigned`).
    Assigned { partitions: Vec<TopicPartition> },
    /// Partitions given up (`onPartitionsRevoked`, or `onPartitionsLost` when `lost`).
    Revoked {
        partitions: Vec<TopicPartition>,
        lost: bool,
    },
    /// A commit's answer: offsets accepted, or the error.
    Committed {
        commit_id: u64,
        offsets: Vec<(TopicPartition, i64)>,
        error: Option<ErrorCode>,
    },
    /// A partition starts at `offset` by `auto.offset.reset` (or the committed offset).
    PositionSet {
        tp: TopicPartition,
        offset: i64,
        committed: bool,
    },
    /// `auto.offset.reset=none` and no committed offset: the application gets an error.
    NoOffset { tp: TopicPartition },
    /// The member left the group (`max.poll.interval.ms` passed, or `close`).
    Left { reason: &'static str },
}

/// Where the consumer is in the group protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberPhase {
    /// Not a member; joins at the next `poll`.
    Unjoined,
    Joining,
    Syncing,
    Stable,
}

/// The starting point of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    /// Waiting for the committed offset (OffsetFetch in flight or to send).
    Unknown,
    /// Waiting for ListOffsets by `auto.offset.reset`.
    Resetting,
    Known(i64),
    /// `auto.offset.reset=none` and nothing committed.
    Failed,
}

#[derive(Clone, Debug)]
enum InFlight {
    Metadata,
    Join,
    Sync,
    Heartbeat,
    Leave,
    Commit {
        commit_id: u64,
        offsets: Vec<(TopicPartition, i64)>,
    },
    OffsetFetch,
    ListOffsets,
    /// The fetch offsets asked for, per partition.
    Fetch(Vec<(TopicPartition, i64)>),
    FindCoordinator,
}

pub struct Consumer {
    config: ConsumerConfig,
    bootstrap: Vec<BrokerId>,
    bootstrap_index: usize,
    subscription: Vec<String>,
    metadata: BTreeMap<String, Vec<PartitionMetadata>>,
    metadata_stale: bool,
    metadata_retry_at: Millis,
    // Membership.
    phase: MemberPhase,
    member_id: String,
    generation_id: i32,
    is_leader: bool,
    /// A rebalance is needed: `poll` rejoins.
    rejoin_needed: bool,
    join_retry_at: Millis,
    next_heartbeat: Millis,
    // Partitions.
    owned: BTreeSet<TopicPartition>,
    positions: BTreeMap<TopicPartition, Position>,
    buffers: BTreeMap<TopicPartition, VecDeque<ConsumerRecord>>,
    last_poll: Millis,
    next_auto_commit: Millis,
    next_commit_id: u64,
    /// Fetches pause until then after a fetch error.
    fetch_retry_at: Millis,
    /// No OffsetFetch before then (`retry.backoff.ms` after UNSTABLE_OFFSET_COMMIT).
    offset_fetch_retry_at: Millis,
    /// The time of the latest input: deadlines at or before it are not worth a timer.
    now: Millis,
    requests: RequestTracker<InFlight>,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<ConsumerEvent>,
    /// The group's coordinator, once FindCoordinator named it.
    coordinator: Option<BrokerId>,
    /// Requests for the coordinator waiting until it is known.
    awaiting_coordinator: VecDeque<(Request, InFlight)>,
    /// No FindCoordinator before then (`retry.backoff.ms` after a failed one).
    find_coordinator_at: Millis,
}

impl Consumer {
    pub fn new(config: ConsumerConfig, bootstrap: Vec<BrokerId>, now: Millis) -> Consumer {
        assert!(!bootstrap.is_empty(), "bootstrap.servers is empty");
        assert!(
            config.max_poll_records > 0,
            "max.poll.records must be positive"
        );
        assert!(
            config.heartbeat_interval_ms < config.session_timeout_ms,
            "heartbeat.interval.ms must be below session.timeout.ms"
        );
        let next_auto_commit = now.plus(config.auto_commit_interval_ms);
        Consumer {
            config,
            bootstrap,
            bootstrap_index: 0,
            subscription: Vec::new(),
            metadata: BTreeMap::new(),
            metadata_stale: true,
            metadata_retry_at: Millis::ZERO,
            phase: MemberPhase::Unjoined,
            member_id: String::new(),
            generation_id: -1,
            is_leader: false,
            rejoin_needed: false,
            join_retry_at: Millis::ZERO,
            next_heartbeat: now,
            owned: BTreeSet::new(),
            positions: BTreeMap::new(),
            buffers: BTreeMap::new(),
            last_poll: now,
            next_auto_commit,
            next_commit_id: 0,
            fetch_retry_at: Millis::ZERO,
            offset_fetch_retry_at: Millis::ZERO,
            now,
            requests: RequestTracker::default(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            coordinator: None,
            awaiting_coordinator: VecDeque::new(),
            find_coordinator_at: Millis::ZERO,
        }
    }

    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// Subscribes to `topics`; the consumer joins its group at the next `poll`.
    pub fn subscribe(&mut self, topics: &[&str], now: Millis) {
        self.subscription = topics.iter().map(|t| t.to_string()).collect();
        self.subscription.sort();
        self.metadata_stale = true;
        self.rejoin_needed = true;
        self.pump(now);
    }

    /// The application's poll: rejoins if a rebalance is pending, auto-commits if due, and
    /// returns up to `max.poll.records` buffered records, advancing the positions past them.
    pub fn poll(&mut self, now: Millis) -> Vec<ConsumerRecord> {
        self.last_poll = now;
        if self.config.enable_auto_commit && now >= self.next_auto_commit {
            self.next_auto_commit = now.plus(self.config.auto_commit_interval_ms);
            self.commit_positions(now);
        }
        if self.rejoin_needed
            && self.phase != MemberPhase::Joining
            && self.phase != MemberPhase::Syncing
        {
            self.start_join(now);
        }
        let records = self.drain_buffers();
        self.pump(now);
        records
    }

    /// The offset of the next record `poll` returns for `tp`, if known.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        match self.positions.get(tp) {
            Some(Position::Known(offset)) => Some(*offset),
            _ => None,
        }
    }

    /// The partitions this member owns now.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.owned.iter().cloned().collect()
    }

    pub fn phase(&self) -> MemberPhase {
        self.phase
    }

    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    /// Commits the given offsets (each the next offset to read); the answer comes as
    /// [`ConsumerEvent::Committed`] with the returned id. Sync or async is the caller's
    /// choice: a synchronous caller waits for that event.
    pub fn commit(&mut self, offsets: Vec<(TopicPartition, i64)>, now: Millis) -> u64 {
        self.next_commit_id += 1;
        let commit_id = self.next_commit_id;
        let request = OffsetCommitRequest {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation_id,
            member_id: self.member_id.clone(),
            group_instance_id: None,
            offsets: offsets
                .iter()
                .map(|(tp, offset)| {
                    (
                        tp.clone(),
                        CommitOffset {
                            offset: *offset,
                            leader_epoch: None,
                            metadata: None,
                        },
                    )
                })
                .collect(),
        };
        self.send_to_coordinator(
            Request::OffsetCommit(request),
            InFlight::Commit { commit_id, offsets },
            now,
        );
        commit_id
    }

    /// Commits the current position of every owned partition (`commitSync()` / `commitAsync()`
    /// without arguments). Returns `None` when there is nothing to commit.
    pub fn commit_positions(&mut self, now: Millis) -> Option<u64> {
        let offsets: Vec<(TopicPartition, i64)> = self
            .owned
            .iter()
            .filter_map(|tp| self.position(tp).map(|offset| (tp.clone(), offset)))
            .collect();
        (!offsets.is_empty()).then(|| self.commit(offsets, now))
    }

    /// Leaves the group on purpose (`close()`), committing first with auto-commit on.
    pub fn close(&mut self, now: Millis) {
        if self.config.enable_auto_commit {
            self.commit_positions(now);
        }
        self.leave_group("close", now);
        self.subscription.clear();
        self.rejoin_needed = false;
    }

    /// Handles the answer to request `correlation_id`.
    pub fn handle_response(&mut self, correlation_id: u64, response: Response, now: Millis) {
        let Some((_, context)) = self.requests.finish(correlation_id) else {
            return;
        };
        if coordinator::names_another_coordinator(&response) {
            self.coordinator_lost();
        }
        match (context, response) {
            (InFlight::FindCoordinator, Response::FindCoordinator(result)) => {
                self.on_find_coordinator(result, now)
            }
            (InFlight::Metadata, Response::Metadata(metadata)) => {
                self.metadata.extend(metadata.topics);
                self.metadata_stale = self
                    .subscription
                    .iter()
                    .any(|t| !self.metadata.contains_key(t))
                    || self.metadata.values().flatten().any(|p| p.leader < 0);
            }
            (InFlight::Join, Response::JoinGroup(result)) => self.on_join(result, now),
            (InFlight::Sync, Response::SyncGroup(result)) => self.on_sync(result, now),
            (InFlight::Heartbeat, Response::Heartbeat(result)) => self.on_heartbeat(result),
            (InFlight::Leave, Response::LeaveGroup(_)) => {}
            (InFlight::Commit { commit_id, offsets }, Response::OffsetCommit(results)) => {
                let error = results
                    .iter()
                    .find_map(|(_, r)| r.as_ref().err().map(|e| e.code()));
                if matches!(
                    error,
                    Some(
                        ErrorCode::REBALANCE_IN_PROGRESS
                            | ErrorCode::ILLEGAL_GENERATION
                            | ErrorCode::UNKNOWN_MEMBER_ID
                    )
                ) {
                    self.rejoin_needed = true;
                }
                self.events.push_back(ConsumerEvent::Committed {
                    commit_id,
                    offsets,
                    error,
                });
            }
            (InFlight::OffsetFetch, Response::OffsetFetch(result)) => {
                self.on_offset_fetch(result, now)
            }
            (InFlight::ListOffsets, Response::ListOffsets(listed)) => self.on_list_offsets(listed),
            (InFlight::Fetch(asked), Response::Fetch(response)) => {
                self.on_fetch(asked, response, now)
            }
            (context, response) => panic!("response {} to {context:?}", response.name()),
        }
        self.pump(now);
    }

    /// The connection to `to` broke: what was in flight on it failed.
    pub fn handle_disconnect(&mut self, to: Destination, now: Millis) {
        for context in self.requests.fail_to(to) {
            self.request_lost(context);
        }
        self.metadata_stale = true;
        self.pump(now);
    }

    /// Lets time pass: heartbeats, request timeouts, the poll timeout.
    pub fn tick(&mut self, now: Millis) {
        for (_, context) in self.requests.expire(now) {
            self.request_lost(context);
        }
        let member = matches!(
            self.phase,
            MemberPhase::Stable | MemberPhase::Syncing | MemberPhase::Joining
        );
        if member && now.since(self.last_poll) > self.config.max_poll_interval_ms {
            // The heartbeat thread gives up the membership of an application stuck between
            // polls, so that the others can take its partitions.
            self.leave_group("max.poll.interval.ms exceeded", now);
        }
        self.pump(now);
    }

    /// A request got no answer (timed out, or its connection broke).
    fn request_lost(&mut self, context: InFlight) {
        match context {
            InFlight::Metadata => {
                self.bootstrap_index = (self.bootstrap_index + 1) % self.bootstrap.len()
            }
            InFlight::Join | InFlight::Sync => {
                self.coordinator_lost();
                self.phase = MemberPhase::Unjoined;
                self.rejoin_needed = true;
            }
            InFlight::FindCoordinator => self.find_coordinator_lost(self.now),
            InFlight::Commit { commit_id, offsets } => {
                self.coordinator_lost();
                let error = Some(ErrorCode::REQUEST_TIMED_OUT);
                self.events.push_back(ConsumerEvent::Committed {
                    commit_id,
                    offsets,
                    error,
                });
            }
            InFlight::OffsetFetch => {
                self.coordinator_lost();
                self.retry_unknown_positions();
            }
            InFlight::ListOffsets => self.retry_unknown_positions(),
            InFlight::Fetch(_) => self.metadata_stale = true,
            InFlight::Heartbeat | InFlight::Leave => self.coordinator_lost(),
        }
    }

    /// When [`Consumer::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        let heartbeat = (self.phase == MemberPhase::Stable).then_some(self.next_heartbeat);
        let member = self.phase != MemberPhase::Unjoined;
        let poll_timeout = member.then(|| {
            self.last_poll
                .plus(self.config.max_poll_interval_ms)
                .plus(Millis(1))
        });
        let asking = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::Metadata));
        let metadata = (self.metadata_stale && !asking && !self.subscription.is_empty())
            .then_some(self.metadata_retry_at);
        let join = (self.rejoin_needed && self.phase == MemberPhase::Unjoined)
            .then_some(self.join_retry_at);
        [
            self.requests.next_deadline(),
            heartbeat,
            poll_timeout,
            metadata,
            Some(self.fetch_retry_at),
            Some(self.offset_fetch_retry_at),
            join,
            self.find_coordinator_deadline(),
        ]
        .into_iter()
        .flatten()
        .filter(|&t| t > self.now)
        .min()
    }

    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ConsumerEvent> {
        self.events.pop_front()
    }

    /// Whether records are buffered, ready for `poll`.
    pub fn has_buffered(&self) -> bool {
        self.buffers
            .iter()
            .any(|(tp, b)| !b.is_empty() && self.owned.contains(tp))
    }

    fn send(&mut self, to: Destination, request: Request, context: InFlight, now: Millis) {
        // A JoinGroup waits at the coordinator for the whole rebalance: the Java client gives
        // it `max.poll.interval.ms` (the rebalance timeout) plus five seconds.
        let timeout = match context {
            InFlight::Join => self.config.request_timeout_ms.max(
                self.config
                    .max_poll_interval_ms
                    .plus(JOIN_GROUP_TIMEOUT_EXTRA_MS),
            ),
            _ => self.config.request_timeout_ms,
        };
        let correlation_id = self.requests.start(to, now.plus(timeout), context);
        self.outgoing.push_back(Outgoing {
            to,
            correlation_id,
            request,
        });
    }

    /// Sends whatever is due: metadata, heartbeats, committed offsets, resets, fetches.
    fn pump(&mut self, now: Millis) {
        self.now = now;
        let asking = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::Metadata));
        if self.metadata_stale
            && !asking
            && now >= self.metadata_retry_at
            && !self.subscription.is_empty()
        {
            self.metadata_retry_at = now.plus(self.config.retry_backoff_ms);
            let broker = self.bootstrap[self.bootstrap_index];
            let topics = self.subscription.clone();
            self.send(
                Destination::Broker(broker),
                Request::Metadata { topics },
                InFlight::Metadata,
                now,
            );
        }
        if !self.awaiting_coordinator.is_empty() {
            self.find_coordinator(now);
        }
        self.maybe_heartbeat(now);
        self.fetch_positions(now);
        self.send_fetches(now);
    }
}
