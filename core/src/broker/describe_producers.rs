//! DescribeProducers (KIP-664): the idempotent and transactional producers a hosted partition
//! knows, from its producer state (Kafka's `UnifiedLog.activeProducers`).

use crate::ErrorCode;
use crate::assignor::TopicPartition;

use super::{Broker, StorageFactory};

/// One producer's state in a partition, as DescribeProducers reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveProducer {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The sequence number of its last record in the log; -1 when none.
    pub last_sequence: i32,
    /// The max timestamp of its last batch (milliseconds); -1 when unknown.
    pub last_timestamp: i64,
    /// The epoch of the transaction coordinator that last wrote a marker for it; -1 before
    /// any marker.
    pub coordinator_epoch: i32,
    /// Where its open transaction began in this partition (Kafka's `currentTxnFirstOffset`);
    /// -1 without one.
    pub current_txn_start_offset: i64,
}

impl<F: StorageFactory> Broker<F> {
    /// The producers of `tp`, by producer id, on whichever replica hosts it (Kafka answers
    /// from any replica; the admin client asks the leader). NOT_LEADER_OR_FOLLOWER when this
    /// broker does not host the partition.
    pub fn describe_producers(
        &self,
        tp: &TopicPartition,
    ) -> Result<Vec<ActiveProducer>, ErrorCode> {
        let partition = self
            .partitions
            .get(tp)
            .ok_or(ErrorCode::NOT_LEADER_OR_FOLLOWER)?;
        Ok(partition
            .log
            .producer_state()
            .iter()
            .map(|(producer_id, entry)| ActiveProducer {
                producer_id,
                producer_epoch: entry.epoch,
                last_sequence: entry.last_sequence().unwrap_or(-1),
                last_timestamp: entry.last_timestamp,
                coordinator_epoch: entry.coordinator_epoch,
                current_txn_start_offset: entry.current_txn_first_offset.unwrap_or(-1),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::BatchBuilder;

    #[test]
    fn reports_each_idempotent_producers_last_batch() {
        let tp = TopicPartition::new("t", 0);
        let mut broker = crate::broker::tests::sole_leader_of(&tp);
        // Producer 7 sends two batches (sequences 0-1, then 2-4); a plain producer one.
        let batches = [
            (Some((7, 0)), 2, 1_000),
            (Some((7, 2)), 3, 2_000),
            (None, 1, 3_000),
        ];
        for (i, (idempotent, records, timestamp)) in batches.into_iter().enumerate() {
            let mut batch = BatchBuilder::new();
            if let Some((producer_id, sequence)) = idempotent {
                batch = batch.idempotent(producer_id, 3, sequence);
            }
            for _ in 0..records {
                batch.push(timestamp, None, Some(b"v"), &[]);
            }
            crate::broker::tests::produce_acks1(&mut broker, i as u64, &tp, batch.build());
        }
        assert_eq!(
            broker.describe_producers(&tp),
            Ok(vec![ActiveProducer {
                producer_id: 7,
                producer_epoch: 3,
                last_sequence: 4,
                last_timestamp: 2_000,
                coordinator_epoch: -1,
                current_txn_start_offset: -1,
            }])
        );
        assert_eq!(
            broker.describe_producers(&TopicPartition::new("t", 1)),
            Err(ErrorCode::NOT_LEADER_OR_FOLLOWER)
        );
    }
}
