//! Control batches: the commit and abort markers a transaction coordinator writes to every
//! partition of a transaction (KIP-98).
//!
//! A control batch has the transactional and control attribute bits, the producer's id and
//! epoch, no sequence number (-1), and exactly one record. Its key is Kafka's
//! `ControlRecordType` (`version: int16 = 0, type: int16`, 0 ABORT, 1 COMMIT) and its value
//! an `EndTransactionMarker` (`version: int16 = 0, coordinatorEpoch: int32`), as Kafka's
//! `ControlRecordType` and `EndTransactionMarker` classes write them.

use super::header::{CONTROL_BIT, TRANSACTIONAL_BIT};
use super::records::raw_records;
use super::{BatchBuilder, BatchError, NO_SEQUENCE};

/// `ControlRecordType.ABORT` on the wire.
pub const CONTROL_TYPE_ABORT: i16 = 0;
/// `ControlRecordType.COMMIT` on the wire.
pub const CONTROL_TYPE_COMMIT: i16 = 1;

/// A commit or abort marker, as the coordinator sends it in WriteTxnMarkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndTxnMarker {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The coordinator's epoch (the leader epoch of its `__transaction_state` partition): a
    /// marker from an older coordinator than the last one seen is refused.
    pub coordinator_epoch: i32,
    /// `true` for COMMIT, `false` for ABORT.
    pub commit: bool,
}

impl EndTxnMarker {
    /// The control batch carrying this marker, stamped at `timestamp` (milliseconds), with
    /// base offset 0 for the log to assign.
    pub fn to_batch(&self, timestamp: i64) -> Vec<u8> {
        let kind = if self.commit {
            CONTROL_TYPE_COMMIT
        } else {
            CONTROL_TYPE_ABORT
        };
        let mut key = Vec::with_capacity(4);
        key.extend_from_slice(&0i16.to_be_bytes());
        key.extend_from_slice(&kind.to_be_bytes());
        let mut value = Vec::with_capacity(6);
        value.extend_from_slice(&0i16.to_be_bytes());
        value.extend_from_slice(&self.coordinator_epoch.to_be_bytes());
        let mut builder = BatchBuilder::new()
            .idempotent(self.producer_id, self.producer_epoch, NO_SEQUENCE)
            .with_attribute_bits(TRANSACTIONAL_BIT | CONTROL_BIT);
        builder.push(timestamp, Some(&key), Some(&value), &[]);
        builder.build()
    }

    /// Reads the marker of a stored control batch (its header says control). An error if the
    /// batch is compressed or its record is not a commit or abort marker of version 0.
    pub fn from_batch(batch: &[u8]) -> Result<EndTxnMarker, BatchError> {
        let header = super::BatchHeader::parse(batch)?;
        let records =
            raw_records(batch)?.ok_or(BatchError::MalformedRecord("compressed control batch"))?;
        let record = records.first().ok_or(BatchError::MalformedRecord(
            "control batch without a record",
        ))?;
        let key = record
            .key
            .filter(|key| key.len() >= 4)
            .ok_or(BatchError::MalformedRecord("control record key too short"))?;
        let version = i16::from_be_bytes([key[0], key[1]]);
        let kind = i16::from_be_bytes([key[2], key[3]]);
        if version != 0 {
            return Err(BatchError::MalformedRecord(
                "control record key version not 0",
            ));
        }
        let commit = match kind {
            CONTROL_TYPE_COMMIT => true,
            CONTROL_TYPE_ABORT => false,
            _ => {
                return Err(BatchError::MalformedRecord(
                    "control record type not a marker",
                ));
            }
        };
        let value =
            record
                .value
                .filter(|value| value.len() >= 6)
                .ok_or(BatchError::MalformedRecord(
                    "end transaction marker too short",
                ))?;
        let coordinator_epoch = i32::from_be_bytes([value[2], value[3], value[4], value[5]]);
        Ok(EndTxnMarker {
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            coordinator_epoch,
            commit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::validate_batch;

    #[test]
    fn a_marker_round_trips_through_its_control_batch() {
        for commit in [true, false] {
            let marker = EndTxnMarker {
                producer_id: 7,
                producer_epoch: 3,
                coordinator_epoch: 11,
                commit,
            };
            let batch = marker.to_batch(1_000);
            let header = validate_batch(&batch).unwrap().header;
            assert!(header.is_control() && header.is_transactional());
            assert_eq!(header.base_sequence, NO_SEQUENCE);
            assert_eq!(header.record_count, 1);
            assert_eq!(EndTxnMarker::from_batch(&batch).unwrap(), marker);
        }
    }

    #[test]
    fn a_control_record_of_another_type_is_refused() {
        let mut builder = BatchBuilder::new()
            .idempotent(1, 0, NO_SEQUENCE)
            .with_attribute_bits(TRANSACTIONAL_BIT | CONTROL_BIT);
        builder.push(0, Some(&[0, 0, 0, 5]), Some(&[0, 0, 0, 0, 0, 1]), &[]);
        assert!(EndTxnMarker::from_batch(&builder.build()).is_err());
    }
}
