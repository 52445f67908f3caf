//! DeleteRecords: moves a partition's log start forward on the leader (followers follow the
//! leader's log start as they fetch). Whole segments below it are deleted by the log.

use crate::ErrorCode;
use crate::assignor::TopicPartition;

use super::{Broker, StorageFactory};

/// DeleteRecords' offset meaning "up to the high watermark".
pub const DELETE_UP_TO_HIGH_WATERMARK: i64 = -1;

impl<F: StorageFactory> Broker<F> {
    /// Deletes the records of `tp` below `offset` (or below the high watermark for -1), as the
    /// leader. Returns the new log start offset (Kafka's "low watermark").
    pub fn delete_records(&mut self, tp: &TopicPartition, offset: i64) -> Result<i64, ErrorCode> {
        let partition = self
            .partitions
            .get_mut(tp)
            .ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)?;
        if !partition.is_leader() {
            return Err(ErrorCode::NOT_LEADER_OR_FOLLOWER);
        }
        let high_watermark = partition.high_watermark();
        let offset = if offset == DELETE_UP_TO_HIGH_WATERMARK {
            high_watermark
        } else {
            offset
        };
        // Only what every in-sync replica has may go: never past the high watermark.
        if !(0..=high_watermark).contains(&offset) {
            return Err(ErrorCode::OFFSET_OUT_OF_RANGE);
        }
        let log_start_offset = partition
            .log
            .delete_records_before(offset)
            .map_err(|e| e.code())?;
        // Epochs wholly below the new log start describe no record any more (Kafka's
        // `maybeIncrementLogStartOffset` truncates the epoch cache from the start too).
        partition.epochs.truncate_from_start(log_start_offset);
        Ok(log_start_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::BatchBuilder;
    use crate::broker::{Broker, MemoryStorageFactory};

    fn broker_with_records(count: usize) -> (Broker<MemoryStorageFactory>, TopicPartition) {
        let tp = TopicPartition::new("t", 0);
        let mut broker = crate::broker::tests::sole_leader_of(&tp);
        for i in 0..count {
            let mut batch = BatchBuilder::new();
            batch.push(0, None, Some(format!("v{i}").as_bytes()), &[]);
            crate::broker::tests::produce_acks1(&mut broker, i as u64, &tp, batch.build());
        }
        (broker, tp)
    }

    #[test]
    fn moves_the_log_start_up_to_the_high_watermark() {
        let (mut broker, tp) = broker_with_records(5);
        assert_eq!(broker.delete_records(&tp, 2), Ok(2));
        assert_eq!(broker.partition(&tp).unwrap().log_start_offset, 2);
        assert_eq!(broker.delete_records(&tp, 1), Ok(2), "never moves back");
        assert_eq!(
            broker.delete_records(&tp, DELETE_UP_TO_HIGH_WATERMARK),
            Ok(5)
        );
        assert_eq!(
            broker.delete_records(&tp, 6),
            Err(ErrorCode::OFFSET_OUT_OF_RANGE)
        );
        assert_eq!(
            broker.delete_records(&TopicPartition::new("nope", 0), 0),
            Err(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
        );
    }
}
