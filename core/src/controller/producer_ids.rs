//! Producer ids handed to brokers in blocks (KIP-730, Kafka's `ProducerIdControlManager`): a
//! broker asks the active controller for a block (AllocateProducerIds), the controller commits a
//! `ProducerIdsRecord` moving the next free id past the block, and only then does the broker
//! give ids of that block to producers. Because the record is in the metadata log, a restarted
//! or newly elected controller never hands out the same block twice.

use super::errors::BrokerError;
use super::machine::Controller;
use super::records::{BrokerId, MetadataRecord, ProducerIdsRecord};

/// How many ids one block holds (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1_000;

/// A range of producer ids, `[first_id, first_id + size)`, owned by one broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerIdBlock {
    pub first_id: i64,
    pub size: i64,
}

impl Controller {
    /// Reserves the next block for `broker_id`, which must be registered with `broker_epoch`
    /// (STALE_BROKER_EPOCH otherwise, as Kafka answers a broker from an earlier life).
    pub fn allocate_producer_ids(
        &mut self,
        broker_id: BrokerId,
        broker_epoch: u64,
    ) -> Result<(Vec<MetadataRecord>, ProducerIdBlock), BrokerError> {
        self.registered(broker_id, broker_epoch)?;
        let block = ProducerIdBlock {
            first_id: self.image.next_producer_id(),
            size: PRODUCER_ID_BLOCK_SIZE,
        };
        let records = self.producer_ids_floor(broker_id, broker_epoch, block.first_id + block.size);
        Ok((records, block))
    }

    /// Moves the next free producer id up to `next_producer_id` if it is below (a migration
    /// from a data directory that reserved ids outside the metadata log); nothing otherwise.
    pub fn producer_ids_floor(
        &mut self,
        broker_id: BrokerId,
        broker_epoch: u64,
        next_producer_id: i64,
    ) -> Vec<MetadataRecord> {
        if next_producer_id <= self.image.next_producer_id() {
            return Vec::new();
        }
        self.commit(vec![MetadataRecord::ProducerIds(ProducerIdsRecord {
            broker_id,
            broker_epoch,
            next_producer_id,
        })])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Millis;
    use crate::config::BrokerConfig;

    #[test]
    fn blocks_never_overlap_and_survive_replay() {
        let mut controller = Controller::new(BrokerConfig::default(), 1);
        let mut log = controller.register_broker(Millis::ZERO, 1, "h", 1).unwrap();
        let epoch = controller.image().broker(1).unwrap().broker_epoch;
        let (records, first) = controller.allocate_producer_ids(1, epoch).unwrap();
        log.extend(records);
        let (records, second) = controller.allocate_producer_ids(1, epoch).unwrap();
        log.extend(records);
        assert_eq!(first.first_id, 0);
        assert_eq!(second.first_id, PRODUCER_ID_BLOCK_SIZE);
        assert!(matches!(
            controller.allocate_producer_ids(1, epoch + 7),
            Err(BrokerError::StaleBrokerEpoch { .. })
        ));
        let mut replayed = Controller::new(BrokerConfig::default(), 1);
        for record in &log {
            replayed.replay(record);
        }
        let (_, third) = replayed.allocate_producer_ids(1, epoch).unwrap();
        assert_eq!(third.first_id, 2 * PRODUCER_ID_BLOCK_SIZE);
    }
}
