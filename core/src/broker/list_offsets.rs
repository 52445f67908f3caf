//! ListOffsets: the earliest, latest or max-timestamp offset, or the first offset at a time.

use crate::ErrorCode;
use crate::assignor::TopicPartition;

use super::{Broker, IsolationLevel, StorageFactory};

/// Which offset a ListOffsets partition asks for (its `timestamp` field on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// -2: the log start offset.
    Earliest,
    /// -1: the high watermark (what a consumer can reach).
    Latest,
    /// -3: the record with the largest timestamp (KIP-734).
    MaxTimestamp,
    /// -4: the start of the local log (KIP-405); without tiered storage, the log start.
    EarliestLocal,
    /// -5: the last offset in tiered storage (KIP-1005); without it, none (-1).
    LatestTiered,
    /// The first record whose timestamp is at least this (milliseconds since the epoch).
    Timestamp(i64),
}

impl OffsetSpec {
    /// The spec a ListOffsets request of `version` asks for with `timestamp`. As Kafka's
    /// `ReplicaManager.isListOffsetsTimestampUnsupported`: a negative timestamp that names no
    /// spec, or one the request's version predates (max-timestamp needs v7, earliest-local
    /// v8, latest-tiered v9, earliest-pending-upload (-6, KIP-1023) v11), is
    /// UNSUPPORTED_VERSION for that partition.
    pub fn from_wire(timestamp: i64, version: i16) -> Result<OffsetSpec, ErrorCode> {
        let (spec, since_version) = match timestamp {
            -1 => (OffsetSpec::Latest, 0),
            -2 => (OffsetSpec::Earliest, 0),
            -3 => (OffsetSpec::MaxTimestamp, 7),
            -4 => (OffsetSpec::EarliestLocal, 8),
            -5 => (OffsetSpec::LatestTiered, 9),
            // -6 (earliest pending upload) needs v11, beyond what this broker decodes.
            t if t < 0 => return Err(ErrorCode::UNSUPPORTED_VERSION),
            t => (OffsetSpec::Timestamp(t), 0),
        };
        if version < since_version {
            return Err(ErrorCode::UNSUPPORTED_VERSION);
        }
        Ok(spec)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    pub tp: TopicPartition,
    pub spec: OffsetSpec,
    pub current_leader_epoch: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedOffset {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    /// -1 when no record matches (or for earliest and latest).
    pub timestamp: i64,
    /// -1 when no record matches.
    pub offset: i64,
    /// The leader epoch the answered record was written in (the current leader epoch for
    /// latest); -1 when unknown or when no record matches.
    pub leader_epoch: i32,
}

impl<F: StorageFactory> Broker<F> {
    /// ListOffsets for a read_uncommitted client: latest is the high watermark.
    pub fn list_offsets(&self, partitions: &[ListOffsetsPartition]) -> Vec<ListedOffset> {
        self.list_offsets_isolated(partitions, IsolationLevel::ReadUncommitted)
    }

    /// ListOffsets at an isolation level (v2+'s `isolation_level`): for read_committed,
    /// latest is the last stable offset and nothing at or above it is answered, as Kafka's
    /// `Partition.fetchOffsetForTimestamp` bounds lookups by the LSO.
    pub fn list_offsets_isolated(
        &self,
        partitions: &[ListOffsetsPartition],
        isolation: IsolationLevel,
    ) -> Vec<ListedOffset> {
        partitions
            .iter()
            .map(|p| self.list_offset(p, isolation))
            .collect()
    }

    fn list_offset(&self, p: &ListOffsetsPartition, isolation: IsolationLevel) -> ListedOffset {
        let mut listed = ListedOffset {
            tp: p.tp.clone(),
            error: ErrorCode::NONE,
            timestamp: -1,
            offset: -1,
            leader_epoch: -1,
        };
        let Some(partition) = self.partitions.get(&p.tp) else {
            listed.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
            return listed;
        };
        if !partition.is_leader() {
            listed.error = ErrorCode::NOT_LEADER_OR_FOLLOWER;
            return listed;
        }
        let epoch = partition.state.leader_epoch;
        match p.current_leader_epoch {
            Some(e) if e >= 0 && e < epoch => listed.error = ErrorCode::FENCED_LEADER_EPOCH,
            Some(e) if e > epoch => listed.error = ErrorCode::UNKNOWN_LEADER_EPOCH,
            _ => {}
        }
        if listed.error != ErrorCode::NONE {
            return listed;
        }
        let log = &partition.log;
        let epochs = &partition.epochs;
        let visible = match isolation {
            IsolationLevel::ReadUncommitted => partition.high_watermark(),
            IsolationLevel::ReadCommitted => partition.last_stable_offset(),
        };
        // The epoch each answer carries is the one its record was written in (Kafka's
        // `UnifiedLog.fetchOffsetByTimestamp`), so that a client seeking there can detect
        // truncation (KIP-320); only "latest" names the current leader epoch, as Kafka's
        // `Partition.fetchOffsetForTimestamp` does.
        let found = match p.spec {
            // Without tiered storage the local log is the whole log.
            OffsetSpec::Earliest | OffsetSpec::EarliestLocal => {
                let start = log.log_start_offset();
                // The first cached epoch starts at the log start unless older batches carry
                // no epoch; then the epoch is unknown.
                let epoch = epochs
                    .earliest()
                    .filter(|e| e.start_offset <= start)
                    .map(|e| e.epoch);
                listed.offset = start;
                listed.leader_epoch = epoch.unwrap_or(-1);
                return listed;
            }
            OffsetSpec::Latest => {
                listed.offset = visible;
                listed.leader_epoch = epoch;
                return listed;
            }
            // Nothing is tiered: Kafka answers offset -1 with leader epoch -1.
            OffsetSpec::LatestTiered => return listed,
            OffsetSpec::MaxTimestamp => Ok(log.max_timestamp()),
            OffsetSpec::Timestamp(t) => log.offset_for_timestamp(t),
        };
        match found {
            // Nothing at or above the high watermark (or LSO) is visible yet: Kafka
            // answers as if no record matched.
            Ok(Some(found)) if found.offset < visible => {
                listed.offset = found.offset;
                listed.timestamp = found.timestamp;
                listed.leader_epoch = epochs.epoch_for_offset(found.offset).unwrap_or(-1);
            }
            Ok(_) => {}
            Err(e) => listed.error = e.code(),
        }
        listed
    }
}
