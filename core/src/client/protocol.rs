//! What a simulated client sends and receives. The payloads are the core's request and
//! response types; the simulator carries them over its network unchanged.

use std::collections::BTreeMap;

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::{
    FetchRequest, FetchResponse, ListOffsetsPartition, ListedOffset, ProduceRequest,
    ProduceResponse,
};
use crate::controller::{BrokerId, ControllerCommand};
use crate::group::{
    CommitOffset, HeartbeatError, HeartbeatRequest, JoinGroupError, JoinGroupRequest, JoinedGroup,
    LeaveGroupError, MemberIdentity, OffsetCommitError, OffsetCommitRequest, OffsetFetchResults,
    SyncGroupError, SyncGroupRequest, SyncedGroup,
};

/// Where a request goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    Broker(BrokerId),
}

/// A request a client wants sent, with the correlation id its response will carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub to: Destination,
    pub correlation_id: u64,
    pub request: Request,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Metadata {
        topics: Vec<String>,
    },
    /// One resource of an admin request for the active controller (CreateTopics,
    /// DeleteTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs): run by the
    /// node that gets it if it is the active controller, else forwarded to it (KIP-590);
    /// with `validate_only`, checked and not kept. Answered [`Response::Control`].
    Control {
        command: ControllerCommand,
        validate_only: bool,
    },
    /// An idempotent producer asks for its producer id and epoch.
    InitProducerId,
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(Vec<ListOffsetsPartition>),
    JoinGroup(JoinGroupRequest),
    SyncGroup(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup {
        group_id: String,
        members: Vec<MemberIdentity>,
    },
    OffsetCommit(OffsetCommitRequest),
    /// OffsetFetch of one group: `partitions` (all with a commit when empty); with
    /// `require_stable` (KIP-447, v7+), a partition whose commit is not settled yet is
    /// answered UNSTABLE_OFFSET_COMMIT.
    OffsetFetch {
        group_id: String,
        partitions: Vec<TopicPartition>,
        require_stable: bool,
    },
    /// FindCoordinator for a group (key type 0): any broker answers with the leader of the
    /// group's `__consumer_offsets` partition.
    FindCoordinator {
        group_id: String,
    },
    /// FindCoordinator for a transactional id (key type 1, KIP-98): the leader of its
    /// `__transaction_state` partition.
    FindTransactionCoordinator {
        transactional_id: String,
    },
    /// InitProducerId with a `transactional.id`, to its coordinator: a new id at epoch 0 or
    /// the known id with its epoch bumped (fencing an older instance). `expected` is the id
    /// and epoch the producer holds (KIP-360), if any. Answered as [`Response::InitProducerId`].
    InitTransactionalProducerId {
        transactional_id: String,
        /// `transaction.timeout.ms`.
        transaction_timeout_ms: i64,
        expected: Option<(i64, i16)>,
    },
    /// AddPartitionsToTxn: partitions the open transaction writes to, before the first
    /// produce to each.
    AddPartitionsToTxn {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        partitions: Vec<TopicPartition>,
    },
    /// AddOffsetsToTxn: the group whose offsets the transaction commits
    /// (`sendOffsetsToTransaction`, before TxnOffsetCommit).
    AddOffsetsToTxn {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        group_id: String,
    },
    /// EndTxn: commit (`true`) or abort the open transaction.
    EndTxn {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    },
    /// TxnOffsetCommit, to the group's coordinator: offsets (the next offset to read, its
    /// leader epoch and metadata) that become committed with the transaction's commit
    /// marker. `generation_id` -1, an empty `member_id` and no `group_instance_id` skip the
    /// member check (an older client's request). Answered once written to the group's
    /// offsets partition.
    TxnOffsetCommit {
        group_id: String,
        producer_id: i64,
        /// The producer's epoch: offsets of an older epoch are PRODUCER_FENCED.
        producer_epoch: i16,
        generation_id: i32,
        member_id: String,
        group_instance_id: Option<String>,
        offsets: Vec<(TopicPartition, CommitOffset)>,
    },
}

impl Request {
    /// The Kafka API name, for the trace.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Metadata { .. } => "Metadata",
            Request::Control { command, .. } => command.name(),
            Request::InitProducerId => "InitProducerId",
            Request::Produce(_) => "Produce",
            Request::Fetch(_) => "Fetch",
            Request::ListOffsets(_) => "ListOffsets",
            Request::JoinGroup(_) => "JoinGroup",
            Request::SyncGroup(_) => "SyncGroup",
            Request::Heartbeat(_) => "Heartbeat",
            Request::LeaveGroup { .. } => "LeaveGroup",
            Request::OffsetCommit(_) => "OffsetCommit",
            Request::OffsetFetch { .. } => "OffsetFetch",
            Request::FindCoordinator { .. } | Request::FindTransactionCoordinator { .. } => {
                "FindCoordinator"
            }
            Request::InitTransactionalProducerId { .. } => "InitProducerId",
            Request::AddPartitionsToTxn { .. } => "AddPartitionsToTxn",
            Request::AddOffsetsToTxn { .. } => "AddOffsetsToTxn",
            Request::EndTxn { .. } => "EndTxn",
            Request::TxnOffsetCommit { .. } => "TxnOffsetCommit",
        }
    }
}

/// One partition in a Metadata response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// `-1` when the partition is offline.
    pub leader: BrokerId,
    pub leader_epoch: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Every broker the cluster knows, live or not (clients bootstrap from it).
    pub brokers: Vec<BrokerId>,
    /// The topics asked for that exist, each partition by index.
    pub topics: BTreeMap<String, Vec<PartitionMetadata>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    Metadata(MetadataResponse),
    InitProducerId {
        error: ErrorCode,
        producer_id: i64,
        producer_epoch: i16,
    },
    Produce(ProduceResponse),
    Fetch(FetchResponse),
    ListOffsets(Vec<ListedOffset>),
    JoinGroup(Result<JoinedGroup, JoinGroupError>),
    SyncGroup(Result<SyncedGroup, SyncGroupError>),
    Heartbeat(Result<(), HeartbeatError>),
    LeaveGroup(Vec<Result<(), LeaveGroupError>>),
    OffsetCommit(Vec<(TopicPartition, Result<(), OffsetCommitError>)>),
    OffsetFetch(OffsetFetchResults),
    /// The coordinator's node id, or COORDINATOR_NOT_AVAILABLE.
    FindCoordinator(Result<BrokerId, ErrorCode>),
    /// One error per partition asked for.
    AddPartitionsToTxn(Vec<(TopicPartition, ErrorCode)>),
    AddOffsetsToTxn(ErrorCode),
    EndTxn(ErrorCode),
    /// One error per partition asked for.
    TxnOffsetCommit(Vec<(TopicPartition, ErrorCode)>),
    /// The controller's outcome of a [`Request::Control`]: done (its records committed), or
    /// Kafka's error code and message; NOT_CONTROLLER and REQUEST_TIMED_OUT are retriable.
    Control(Result<(), (ErrorCode, String)>),
}

impl Response {
    pub fn name(&self) -> &'static str {
        match self {
            Response::Metadata(_) => "MetadataResponse",
            Response::InitProducerId { .. } => "InitProducerIdResponse",
            Response::Produce(_) => "ProduceResponse",
            Response::Fetch(_) => "FetchResponse",
            Response::ListOffsets(_) => "ListOffsetsResponse",
            Response::JoinGroup(_) => "JoinGroupResponse",
            Response::SyncGroup(_) => "SyncGroupResponse",
            Response::Heartbeat(_) => "HeartbeatResponse",
            Response::LeaveGroup(_) => "LeaveGroupResponse",
            Response::OffsetCommit(_) => "OffsetCommitResponse",
            Response::OffsetFetch(_) => "OffsetFetchResponse",
            Response::FindCoordinator(_) => "FindCoordinatorResponse",
            Response::AddPartitionsToTxn(_) => "AddPartitionsToTxnResponse",
            Response::AddOffsetsToTxn(_) => "AddOffsetsToTxnResponse",
            Response::EndTxn(_) => "EndTxnResponse",
            Response::TxnOffsetCommit(_) => "TxnOffsetCommitResponse",
            Response::Control(_) => "ControlResponse",
        }
    }
}

/// A client's requests in flight: correlation ids, what each was, and when it times out
/// (`request.timeout.ms`). A response to a request that already timed out is ignored, as a
/// real client ignores a response on a connection it closed.
#[derive(Clone, Debug)]
pub struct RequestTracker<T> {
    next_correlation_id: u64,
    in_flight: BTreeMap<u64, (Destination, Millis, T)>,
}

impl<T> Default for RequestTracker<T> {
    fn default() -> Self {
        RequestTracker {
            next_correlation_id: 1,
            in_flight: BTreeMap::new(),
        }
    }
}

impl<T> RequestTracker<T> {
    /// Registers a request to `to` that times out at `deadline`; returns its correlation id.
    pub fn start(&mut self, to: Destination, deadline: Millis, context: T) -> u64 {
        let id = self.next_correlation_id;
        self.next_correlation_id += 1;
        self.in_flight.insert(id, (to, deadline, context));
        id
    }

    /// The context of the request `correlation_id` answers, if it is still in flight.
    pub fn finish(&mut self, correlation_id: u64) -> Option<(Destination, T)> {
        self.in_flight
            .remove(&correlation_id)
            .map(|(to, _, context)| (to, context))
    }

    /// Removes and returns every request whose deadline has passed.
    pub fn expire(&mut self, now: Millis) -> Vec<(Destination, T)> {
        let expired: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, (_, deadline, _))| *deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        expired
            .into_iter()
            .filter_map(|id| self.finish(id))
            .collect()
    }

    /// Removes and returns every request in flight to `to` (its connection broke).
    pub fn fail_to(&mut self, to: Destination) -> Vec<T> {
        let failed: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, (d, _, _))| *d == to)
            .map(|(id, _)| *id)
            .collect();
        failed
            .into_iter()
            .filter_map(|id| self.finish(id))
            .map(|(_, context)| context)
            .collect()
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.in_flight
            .values()
            .map(|(_, deadline, _)| *deadline)
            .min()
    }

    /// How many requests are in flight to `to`.
    pub fn count_to(&self, to: Destination) -> usize {
        self.in_flight.values().filter(|(d, _, _)| *d == to).count()
    }

    /// Each request in flight with where it went.
    pub fn iter_with_destination(&self) -> impl Iterator<Item = (Destination, &T)> {
        self.in_flight
            .values()
            .map(|(to, _, context)| (*to, context))
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.in_flight.values().map(|(_, _, context)| context)
    }

    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    pub fn clear(&mut self) {
        self.in_flight.clear();
    }
}
