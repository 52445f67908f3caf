//! What goes into the coordinator (requests, already decoded from the wire by the shell) and
//! what comes out of it.

use serde::{Deserialize, Serialize};

use super::error::{JoinGroupError, SyncGroupError};
use super::records::GroupRecord;
use super::state::GroupState;
use crate::Millis;
use crate::assignor::TopicPartition;

/// The shell's name for a request whose answer may come later (JoinGroup, SyncGroup): the
/// coordinator addresses the answer to it. Unique among the requests the shell has pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// One assignor a member offers, with its metadata (for consumers, a consumer-protocol
/// `Subscription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    pub name: String,
    pub metadata: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupRequest {
    pub group_id: String,
    /// Empty on a member's first join.
    pub member_id: String,
    /// `group.instance.id`: set for a static member, which keeps its place across restarts.
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Millis,
    /// How long the coordinator waits for members to rejoin (`max.poll.interval.ms` in the
    /// Java client); JoinGroup v0 has none and uses the session timeout.
    pub rebalance_timeout: Millis,
    pub protocol_type: String,
    /// In the member's order of preference.
    pub protocols: Vec<Protocol>,
    /// JoinGroup v4+: a member without an id is first given one (MEMBER_ID_REQUIRED) and must
    /// join again with it, so that a client retrying a lost response does not leave a ghost.
    pub require_known_member_id: bool,
}

/// A successful JoinGroup answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinedGroup {
    pub generation_id: i32,
    pub protocol_type: String,
    pub protocol_name: String,
    pub leader: String,
    pub member_id: String,
    /// Every member and its metadata for the chosen protocol, for the leader only.
    pub members: Vec<JoinedMember>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// SyncGroup v5+; checked against the group's when present.
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// From the leader: each member's assignment. Empty from the other members.
    pub assignments: Vec<(String, Vec<u8>)>,
}

/// A successful SyncGroup answer: the member's assignment (consumer-protocol `Assignment`
/// bytes, empty when the leader gave it nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedGroup {
    pub protocol_type: String,
    pub protocol_name: String,
    pub assignment: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

/// A member named in LeaveGroup (v3+ names several; a static member may be named by its
/// instance id alone, with an empty member id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberIdentity {
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    pub group_id: String,
    /// -1 (with an empty member id) for a commit from outside any generation: a consumer that
    /// assigns partitions itself, or an admin tool.
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub offsets: Vec<(TopicPartition, super::CommitOffset)>,
}

/// Everything the coordinator asks of the shell, in order. A [`Output::Persist`] must be
/// written before any answer that comes after it is sent: that is when it counts as done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    JoinGroup {
        request: RequestId,
        result: Result<JoinedGroup, JoinGroupError>,
    },
    SyncGroup {
        request: RequestId,
        result: Result<SyncedGroup, SyncGroupError>,
    },
    /// A record to append to the internal compacted log.
    Persist(GroupRecord),
    /// Something worth showing in the trace or the playground.
    Event(GroupEvent),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupEvent {
    StateChanged {
        group: String,
        from: GroupState,
        to: GroupState,
        generation_id: i32,
    },
    MemberRemoved {
        group: String,
        member_id: String,
        reason: RemovalReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemovalReason {
    /// LeaveGroup.
    Left,
    /// No heartbeat within the session timeout.
    SessionTimeout,
    /// Did not rejoin before the rebalance timeout.
    RebalanceTimeout,
    /// Did not send SyncGroup before the rebalance timeout after the join completed.
    SyncTimeout,
    /// Was given an id (MEMBER_ID_REQUIRED) but never joined with it.
    PendingJoinTimeout,
    /// A static member's instance id joined again under a new member id.
    ReplacedByStaticMember,
}
