//! The records of `__transaction_state` in Kafka's own format (`TransactionLog.scala`; the
//! schemas `TransactionLogKey.json` and `TransactionLogValue.json` of Kafka's
//! `transaction-coordinator` module), so that the topic holds what Kafka's would:
//!
//! - key: version (int16, 0), then `TransactionalId` (string);
//! - value, written at version 0 (not flexible): `ProducerId` (int64), `ProducerEpoch`
//!   (int16), `TransactionTimeoutMs` (int32), `TransactionStatus` (int8, Kafka's
//!   `TransactionState.id`: 0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort, 4
//!   CompleteCommit, 5 CompleteAbort, 6 Dead, 7 PrepareEpochFence), `TransactionPartitions`
//!   (nullable array of `Topic` string and `PartitionIds` int32 array),
//!   `TransactionLastUpdateTimestampMs` and `TransactionStartTimestampMs` (int64).
//!   Version 1 (flexible: compact strings and arrays, tagged fields) is read too;
//! - a null value is a tombstone (an expired transactional id).
//!
//! What Kafka's value lacks is not kept across a reload: the epoch (and id) before a KIP-360
//! bump (`last_producer_epoch`, `last_producer_id`, as Kafka's `lastProducerEpoch`; its v1
//! `PreviousProducerId` tag is read past, not written) and the groups of
//! AddOffsetsToTxn (their offsets partitions are among the transaction's partitions).

use std::collections::{BTreeMap, BTreeSet};

use super::{TxnMetadata, TxnState};
use crate::Millis;
use crate::assignor::wire::{Reader, Writer};
use crate::assignor::{DecodeError, TopicPartition};

const KEY_VERSION: i16 = 0;
const VALUE_VERSION: i16 = 0;

/// Why a `__transaction_state` record does not decode.
#[derive(Debug, thiserror::Error)]
pub enum TxnLogError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("transaction status {0} is not one this coordinator knows")]
    UnknownStatus(i8),
    #[error("unsupported varint in a flexible record")]
    Varint,
}

fn status(state: TxnState) -> i8 {
    match state {
        TxnState::Empty => 0,
        TxnState::Ongoing => 1,
        TxnState::PrepareCommit => 2,
        TxnState::PrepareAbort => 3,
        TxnState::CompleteCommit => 4,
        TxnState::CompleteAbort => 5,
    }
}

fn state(status: i8) -> Result<TxnState, TxnLogError> {
    Ok(match status {
        0 => TxnState::Empty,
        1 => TxnState::Ongoing,
        2 => TxnState::PrepareCommit,
        3 => TxnState::PrepareAbort,
        4 => TxnState::CompleteCommit,
        5 => TxnState::CompleteAbort,
        other => return Err(TxnLogError::UnknownStatus(other)),
    })
}

/// The key and value (`None`: a tombstone) of `transactional_id`'s record; its
/// `TransactionLastUpdateTimestampMs` is `txn.last_update`.
pub fn encode_txn_record(
    transactional_id: &str,
    txn: Option<&TxnMetadata>,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut key = Writer::default();
    key.i16(KEY_VERSION);
    key.string(transactional_id);
    let value = txn.map(|txn| {
        let mut w = Writer::default();
        w.i16(VALUE_VERSION);
        w.i64(txn.producer_id);
        w.i16(txn.producer_epoch);
        w.i32(i32::try_from(txn.timeout_ms).unwrap_or(i32::MAX));
        w.i8(status(txn.state));
        let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for tp in &txn.partitions {
            topics.entry(&tp.topic).or_default().push(tp.partition);
        }
        w.array_length(topics.len());
        for (topic, partitions) in topics {
            w.string(topic);
            w.array_length(partitions.len());
            for p in partitions {
                w.i32(p);
            }
        }
        w.i64(timestamp(txn.last_update));
        w.i64(timestamp(txn.started));
        w.into_bytes()
    });
    (key.into_bytes(), value)
}

/// Reads a record back: the transactional id and its metadata (`None`: a tombstone).
pub fn decode_txn_record(
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(String, Option<TxnMetadata>), TxnLogError> {
    let mut k = Reader::new(key);
    let version = k.i16()?;
    if version != KEY_VERSION {
        return Err(DecodeError::UnsupportedVersion(version).into());
    }
    let transactional_id = k.string()?;
    let Some(value) = value else {
        return Ok((transactional_id, None));
    };
    let mut r = Reader::new(value);
    let txn = match r.i16()? {
        0 => decode_value(&mut Fields::Fixed(&mut r))?,
        1 => decode_value(&mut Fields::Flexible(&mut r))?,
        other => return Err(DecodeError::UnsupportedVersion(other).into()),
    };
    Ok((transactional_id, Some(txn)))
}

/// The value's fields at version 0 (classic encodings) or 1 (flexible: unsigned-varint
/// lengths plus one, tagged fields).
enum Fields<'r, 'a> {
    Fixed(&'r mut Reader<'a>),
    Flexible(&'r mut Reader<'a>),
}

impl<'a> Fields<'_, 'a> {
    fn reader(&mut self) -> &mut Reader<'a> {
        match self {
            Fields::Fixed(r) | Fields::Flexible(r) => r,
        }
    }

    fn varint(&mut self) -> Result<u64, TxnLogError> {
        let r = self.reader();
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let byte = r.i8()? as u8;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(TxnLogError::Varint)
    }

    /// An array length (`None`: null).
    fn array(&mut self) -> Result<Option<usize>, TxnLogError> {
        match self {
            Fields::Fixed(r) => {
                let length = r.i32()?;
                if length == -1 {
                    return Ok(None);
                }
                // A length beyond the bytes left fails at the first element it reads.
                if length < 0 {
                    return Err(DecodeError::NegativeLength { at: 0, length }.into());
                }
                Ok(Some(length as usize))
            }
            Fields::Flexible(_) => match self.varint()? {
                0 => Ok(None),
                n => Ok(Some((n - 1) as usize)),
            },
        }
    }

    fn string(&mut self) -> Result<String, TxnLogError> {
        match self {
            Fields::Fixed(r) => Ok(r.string()?),
            Fields::Flexible(_) => {
                let length = self.varint()?;
                let length = length
                    .checked_sub(1)
                    .ok_or(DecodeError::NegativeLength { at: 0, length: -1 })?;
                let mut bytes = Vec::new();
                for _ in 0..length {
                    bytes.push(self.reader().i8()? as u8);
                }
                String::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { at: 0 }.into())
            }
        }
    }

    /// Skips tagged fields (flexible versions only).
    fn tags(&mut self) -> Result<(), TxnLogError> {
        if let Fields::Flexible(_) = self {
            for _ in 0..self.varint()? {
                let _tag = self.varint()?;
                for _ in 0..self.varint()? {
                    self.reader().i8()?;
                }
            }
        }
        Ok(())
    }
}

fn decode_value(f: &mut Fields) -> Result<TxnMetadata, TxnLogError> {
    let producer_id = f.reader().i64()?;
    let producer_epoch = f.reader().i16()?;
    let timeout_ms = i64::from(f.reader().i32()?);
    let state = state(f.reader().i8()?)?;
    let mut partitions = BTreeSet::new();
    if let Some(topics) = f.array()? {
        for _ in 0..topics {
            let topic = f.string()?;
            let count = f.array()?.unwrap_or(0);
            for _ in 0..count {
                partitions.insert(TopicPartition::new(topic.clone(), f.reader().i32()?));
            }
            f.tags()?;
        }
    }
    let last_update = millis(f.reader().i64()?);
    let started = millis(f.reader().i64()?);
    f.tags()?;
    Ok(TxnMetadata {
        producer_id,
        producer_epoch,
        last_producer_epoch: None,
        last_producer_id: None,
        timeout_ms,
        state,
        partitions,
        started,
        groups: BTreeSet::new(),
        last_update,
    })
}

fn timestamp(millis: Millis) -> i64 {
    i64::try_from(millis.0).unwrap_or(i64::MAX)
}

fn millis(value: i64) -> Millis {
    Millis(u64::try_from(value).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared() -> TxnMetadata {
        TxnMetadata {
            producer_id: 4000,
            producer_epoch: 7,
            last_producer_epoch: None,
            last_producer_id: None,
            timeout_ms: 60_000,
            state: TxnState::PrepareCommit,
            partitions: [
                TopicPartition::new("orders", 2),
                TopicPartition::new("orders", 0),
                TopicPartition::new("__consumer_offsets", 11),
            ]
            .into(),
            started: Millis(1_700_000_000_000),
            groups: BTreeSet::new(),
            last_update: Millis(1_700_000_000_500),
        }
    }

    #[test]
    fn a_record_round_trips_in_kafkas_layout() {
        let txn = prepared();
        let (key, value) = encode_txn_record("app-1", Some(&txn));
        // Key: version 0, then the id as an int16-length string.
        assert_eq!(key, [&[0, 0, 0, 5][..], b"app-1"].concat());
        let value = value.unwrap();
        assert_eq!(&value[..2], &[0, 0], "value version 0");
        assert_eq!(&value[2..10], &4000i64.to_be_bytes());
        assert_eq!(&value[10..12], &7i16.to_be_bytes());
        assert_eq!(&value[12..16], &60_000i32.to_be_bytes());
        assert_eq!(value[16], 2, "PrepareCommit is status 2");
        assert_eq!(&value[17..21], &2i32.to_be_bytes(), "two topics");
        let (id, back) = decode_txn_record(&key, Some(&value)).unwrap();
        assert_eq!((id.as_str(), back), ("app-1", Some(txn)));
        let (id, tombstone) = decode_txn_record(&key, None).unwrap();
        assert_eq!((id.as_str(), tombstone), ("app-1", None));
    }

    #[test]
    fn a_flexible_version_1_value_is_read() {
        // Version 1: compact strings and arrays (length + 1 as an unsigned varint) and
        // tagged fields (here PreviousProducerId, tag 0, 8 bytes).
        let mut v = Vec::new();
        v.extend_from_slice(&1i16.to_be_bytes());
        v.extend_from_slice(&9i64.to_be_bytes());
        v.extend_from_slice(&1i16.to_be_bytes());
        v.extend_from_slice(&30_000i32.to_be_bytes());
        v.push(1); // Ongoing
        v.push(2); // one topic
        v.push(2); // "t"
        v.push(b't');
        v.push(3); // two partitions
        v.extend_from_slice(&0i32.to_be_bytes());
        v.extend_from_slice(&4i32.to_be_bytes());
        v.push(0); // the topic's tagged fields
        v.extend_from_slice(&5i64.to_be_bytes());
        v.extend_from_slice(&3i64.to_be_bytes());
        v.push(1); // one tagged field
        v.push(0);
        v.push(8);
        v.extend_from_slice(&(-1i64).to_be_bytes());
        let (key, _) = encode_txn_record("x", None);
        let (_, txn) = decode_txn_record(&key, Some(&v)).unwrap();
        let txn = txn.unwrap();
        assert_eq!(txn.state, TxnState::Ongoing);
        assert_eq!(txn.producer_id, 9);
        assert_eq!(txn.started, Millis(3));
        let expected: BTreeSet<_> =
            [TopicPartition::new("t", 0), TopicPartition::new("t", 4)].into();
        assert_eq!(txn.partitions, expected);
    }

    #[test]
    fn garbage_is_an_error() {
        let (key, value) = encode_txn_record("app", Some(&prepared()));
        let value = value.unwrap();
        assert!(decode_txn_record(&key, Some(&value[..value.len() - 1])).is_err());
        let mut bad = value.clone();
        bad[16] = 9;
        assert!(matches!(
            decode_txn_record(&key, Some(&bad)),
            Err(TxnLogError::UnknownStatus(9))
        ));
        assert!(decode_txn_record(&[0, 1], None).is_err());
        let mut huge = value.clone();
        huge[17..21].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decode_txn_record(&key, Some(&huge)).is_err());
    }
}
