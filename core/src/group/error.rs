//! What each group operation can fail with, one variant per Kafka error code it answers.

use thiserror::Error;

use crate::{ErrorCode, Millis};

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum JoinGroupError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("session timeout {0} is outside the broker's bounds")]
    InvalidSessionTimeout(Millis),
    #[error("the protocol type or the assignors are not shared with the group's members")]
    InconsistentGroupProtocol,
    #[error("the member id is not known to the group")]
    UnknownMemberId,
    #[error("join again with the member id {member_id}")]
    MemberIdRequired { member_id: String },
    #[error("another member now holds this group.instance.id")]
    FencedInstanceId,
    #[error("the group has reached group.max.size")]
    GroupMaxSizeReached,
    /// The member sent another JoinGroup while this one waited; the newer one is answered.
    #[error("superseded by a newer JoinGroup from the same member")]
    Superseded,
    /// This broker stopped coordinating the group while the request waited.
    #[error("this broker is no longer the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl JoinGroupError {
    pub fn code(&self) -> ErrorCode {
        match self {
            JoinGroupError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            JoinGroupError::InvalidSessionTimeout(_) => ErrorCode::INVALID_SESSION_TIMEOUT,
            JoinGroupError::InconsistentGroupProtocol => ErrorCode::INCONSISTENT_GROUP_PROTOCOL,
            JoinGroupError::UnknownMemberId => ErrorCode::UNKNOWN_MEMBER_ID,
            JoinGroupError::MemberIdRequired { .. } => ErrorCode::MEMBER_ID_REQUIRED,
            JoinGroupError::FencedInstanceId => ErrorCode::FENCED_INSTANCE_ID,
            JoinGroupError::GroupMaxSizeReached => ErrorCode::GROUP_MAX_SIZE_REACHED,
            JoinGroupError::Superseded => ErrorCode::REBALANCE_IN_PROGRESS,
            JoinGroupError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            JoinGroupError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }

    /// The member id the error response carries: the new id for MEMBER_ID_REQUIRED.
    pub fn member_id(&self) -> &str {
        match self {
            JoinGroupError::MemberIdRequired { member_id } => member_id,
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SyncGroupError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("the member id is not known to the group")]
    UnknownMemberId,
    #[error("the generation is not the group's current one")]
    IllegalGeneration,
    #[error("the group is rebalancing; join again")]
    RebalanceInProgress,
    #[error("another member now holds this group.instance.id")]
    FencedInstanceId,
    #[error("the protocol type or name differs from the group's")]
    InconsistentGroupProtocol,
    /// This broker stopped coordinating the group while the request waited.
    #[error("this broker is no longer the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl SyncGroupError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SyncGroupError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            SyncGroupError::UnknownMemberId => ErrorCode::UNKNOWN_MEMBER_ID,
            SyncGroupError::IllegalGeneration => ErrorCode::ILLEGAL_GENERATION,
            SyncGroupError::RebalanceInProgress => ErrorCode::REBALANCE_IN_PROGRESS,
            SyncGroupError::FencedInstanceId => ErrorCode::FENCED_INSTANCE_ID,
            SyncGroupError::InconsistentGroupProtocol => ErrorCode::INCONSISTENT_GROUP_PROTOCOL,
            SyncGroupError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            SyncGroupError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HeartbeatError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("the member id is not known to the group")]
    UnknownMemberId,
    #[error("the generation is not the group's current one")]
    IllegalGeneration,
    #[error("the group is rebalancing; join again")]
    RebalanceInProgress,
    #[error("another member now holds this group.instance.id")]
    FencedInstanceId,
    #[error("this broker is not the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl HeartbeatError {
    pub fn code(&self) -> ErrorCode {
        match self {
            HeartbeatError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            HeartbeatError::UnknownMemberId => ErrorCode::UNKNOWN_MEMBER_ID,
            HeartbeatError::IllegalGeneration => ErrorCode::ILLEGAL_GENERATION,
            HeartbeatError::RebalanceInProgress => ErrorCode::REBALANCE_IN_PROGRESS,
            HeartbeatError::FencedInstanceId => ErrorCode::FENCED_INSTANCE_ID,
            HeartbeatError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            HeartbeatError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }
}

/// Why one member named in LeaveGroup could not leave.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LeaveGroupError {
    #[error("the member id is not known to the group")]
    UnknownMemberId,
    #[error("another member now holds this group.instance.id")]
    FencedInstanceId,
    #[error("this broker is not the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl LeaveGroupError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LeaveGroupError::UnknownMemberId => ErrorCode::UNKNOWN_MEMBER_ID,
            LeaveGroupError::FencedInstanceId => ErrorCode::FENCED_INSTANCE_ID,
            LeaveGroupError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            LeaveGroupError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OffsetCommitError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("the generation is not the group's current one")]
    IllegalGeneration,
    #[error("the member id is not known to the group")]
    UnknownMemberId,
    #[error("the group is rebalancing; commit after the new assignment")]
    RebalanceInProgress,
    #[error("another member now holds this group.instance.id")]
    FencedInstanceId,
    #[error("the metadata is longer than offset.metadata.max.bytes")]
    OffsetMetadataTooLarge,
    /// The topic or partition does not exist (checked before the coordinator, as Kafka's
    /// `KafkaApis.handleOffsetCommitRequest` does): nothing is stored for it.
    #[error("the topic or partition does not exist")]
    UnknownTopicOrPartition,
    #[error("this broker is not the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl OffsetCommitError {
    pub fn code(&self) -> ErrorCode {
        match self {
            OffsetCommitError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            OffsetCommitError::IllegalGeneration => ErrorCode::ILLEGAL_GENERATION,
            OffsetCommitError::UnknownMemberId => ErrorCode::UNKNOWN_MEMBER_ID,
            OffsetCommitError::RebalanceInProgress => ErrorCode::REBALANCE_IN_PROGRESS,
            OffsetCommitError::FencedInstanceId => ErrorCode::FENCED_INSTANCE_ID,
            OffsetCommitError::OffsetMetadataTooLarge => ErrorCode::OFFSET_METADATA_TOO_LARGE,
            OffsetCommitError::UnknownTopicOrPartition => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            OffsetCommitError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            OffsetCommitError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }
}

/// OffsetDelete (KIP-496): the first three fail the whole request (its top-level error code),
/// the last two one partition.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OffsetDeleteError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("no such group")]
    GroupIdNotFound,
    /// A group with members of a protocol other than the consumer one: its subscriptions are
    /// unknown, so no offset may go while it has members.
    #[error("the group has members and is not a consumer group")]
    NonEmptyGroup,
    #[error("the topic or partition does not exist")]
    UnknownTopicOrPartition,
    /// A member of the group is subscribed to the topic: it would commit the offset again.
    #[error("a member of the group is subscribed to the topic")]
    GroupSubscribedToTopic,
    #[error("this node is not the group's coordinator")]
    NotCoordinator,
}

impl OffsetDeleteError {
    pub fn code(&self) -> ErrorCode {
        match self {
            OffsetDeleteError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            OffsetDeleteError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            OffsetDeleteError::GroupIdNotFound => ErrorCode::GROUP_ID_NOT_FOUND,
            OffsetDeleteError::NonEmptyGroup => ErrorCode::NON_EMPTY_GROUP,
            OffsetDeleteError::UnknownTopicOrPartition => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            OffsetDeleteError::GroupSubscribedToTopic => ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OffsetFetchError {
    #[error("the group id is empty")]
    InvalidGroupId,
    /// One partition (asked with `require_stable`, KIP-447): a commit of it is still being
    /// written or held by an open transaction; the client asks again.
    #[error("a commit of this partition is not settled yet")]
    UnstableOffsetCommit,
    #[error("this broker is not the group's coordinator")]
    NotCoordinator,
    #[error("this broker is loading the group's coordinator state")]
    CoordinatorLoadInProgress,
}

impl OffsetFetchError {
    pub fn code(&self) -> ErrorCode {
        match self {
            OffsetFetchError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            OffsetFetchError::UnstableOffsetCommit => ErrorCode::UNSTABLE_OFFSET_COMMIT,
            OffsetFetchError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
            OffsetFetchError::CoordinatorLoadInProgress => ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DeleteGroupError {
    #[error("the group id is empty")]
    InvalidGroupId,
    #[error("no such group")]
    GroupIdNotFound,
    #[error("the group still has members")]
    NonEmptyGroup,
    #[error("this node is not the group's coordinator")]
    NotCoordinator,
}

impl DeleteGroupError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeleteGroupError::InvalidGroupId => ErrorCode::INVALID_GROUP_ID,
            DeleteGroupError::GroupIdNotFound => ErrorCode::GROUP_ID_NOT_FOUND,
            DeleteGroupError::NonEmptyGroup => ErrorCode::NON_EMPTY_GROUP,
            DeleteGroupError::NotCoordinator => ErrorCode::NOT_COORDINATOR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kafkas() {
        let required = JoinGroupError::MemberIdRequired {
            member_id: "c-1".into(),
        };
        assert_eq!(required.code().code(), 79);
        assert_eq!(required.member_id(), "c-1");
        assert_eq!(JoinGroupError::InconsistentGroupProtocol.code().code(), 23);
        assert_eq!(SyncGroupError::IllegalGeneration.code().code(), 22);
        assert_eq!(HeartbeatError::RebalanceInProgress.code().code(), 27);
        assert_eq!(LeaveGroupError::FencedInstanceId.code().code(), 82);
        assert_eq!(OffsetCommitError::UnknownMemberId.code().code(), 25);
        assert_eq!(OffsetFetchError::InvalidGroupId.code().code(), 24);
        assert_eq!(DeleteGroupError::NonEmptyGroup.code().code(), 68);
        assert_eq!(OffsetCommitError::UnknownTopicOrPartition.code().code(), 3);
        assert_eq!(OffsetDeleteError::GroupSubscribedToTopic.code().code(), 86);
    }
}
