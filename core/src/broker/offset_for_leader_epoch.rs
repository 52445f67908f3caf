//! OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ends in the leader's log.
//! Followers ask it before fetching from a new leader, to find where their tails diverge;
//! consumers ask it to check that their position survived a leader change.

use crate::ErrorCode;
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;

use super::epoch_cache::{UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
use super::{Broker, StorageFactory};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OffsetForLeaderEpochRequest {
    /// -1 for a consumer; a broker id for a follower replica.
    pub replica_id: BrokerId,
    pub partitions: Vec<OffsetForLeaderEpochPartition>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OffsetForLeaderEpochPartition {
    pub tp: TopicPartition,
    /// The leader epoch the requester believes current, if it sent one: an older one is
    /// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH.
    pub current_leader_epoch: Option<i32>,
    /// The epoch whose end offset is wanted.
    pub leader_epoch: i32,
}

/// The answer for one partition: the newest epoch at or below the requested one that the
/// leader knows, and the offset where it ends; -1/-1 when the leader cannot tell.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EpochEndOffset {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub leader_epoch: i32,
    pub end_offset: i64,
}

impl EpochEndOffset {
    fn failed(tp: TopicPartition, error: ErrorCode) -> EpochEndOffset {
        EpochEndOffset {
            tp,
            error,
            leader_epoch: UNDEFINED_EPOCH,
            end_offset: UNDEFINED_EPOCH_OFFSET,
        }
    }
}

impl<F: StorageFactory> Broker<F> {
    /// Answers OffsetForLeaderEpoch from the leader's epoch cache (Kafka's
    /// `lastOffsetForLeaderEpoch`). Only the leader answers.
    pub fn offset_for_leader_epoch(
        &self,
        request: &OffsetForLeaderEpochRequest,
    ) -> Vec<EpochEndOffset> {
        request
            .partitions
            .iter()
            .map(|p| self.epoch_end_offset(p))
            .collect()
    }

    fn epoch_end_offset(&self, p: &OffsetForLeaderEpochPartition) -> EpochEndOffset {
        let tp = p.tp.clone();
        let Some(partition) = self.partitions.get(&tp) else {
            return EpochEndOffset::failed(tp, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        };
        if !partition.is_leader() {
            return EpochEndOffset::failed(tp, ErrorCode::NOT_LEADER_OR_FOLLOWER);
        }
        let epoch = partition.state.leader_epoch;
        match p.current_leader_epoch {
            Some(e) if e >= 0 && e < epoch => {
                return EpochEndOffset::failed(tp, ErrorCode::FENCED_LEADER_EPOCH);
            }
            Some(e) if e > epoch => {
                return EpochEndOffset::failed(tp, ErrorCode::UNKNOWN_LEADER_EPOCH);
            }
            _ => {}
        }
        let (leader_epoch, end_offset) = partition
            .epochs
            .end_offset_for(p.leader_epoch, partition.log.log_end_offset());
        assert!(
            end_offset <= partition.log.log_end_offset(),
            "an epoch cannot end beyond the log"
        );
        EpochEndOffset {
            tp,
            error: ErrorCode::NONE,
            leader_epoch,
            end_offset,
        }
    }
}
