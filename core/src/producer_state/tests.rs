//! Sequence rules, one behaviour per test.

use super::*;
use crate::ErrorCode;
use crate::batch::{BatchBuilder, BatchHeader, assign_offsets};

/// A header of a batch of `records` records from producer 1, appended at `base_offset`.
fn batch(epoch: i16, first_sequence: i32, records: usize, base_offset: i64) -> BatchHeader {
    let mut builder = BatchBuilder::new().idempotent(1, epoch, first_sequence);
    for _ in 0..records {
        builder.push(0, None, Some(b"v"), &[]);
    }
    let mut bytes = builder.build();
    assign_offsets(&mut bytes, base_offset, 0).unwrap();
    BatchHeader::parse(&bytes).unwrap()
}

fn table_with(batches: &[BatchHeader]) -> ProducerStateTable {
    let mut table = ProducerStateTable::new();
    for header in batches {
        assert_eq!(table.check(header), Ok(SequenceCheck::Append));
        table.record(header);
    }
    table
}

#[test]
fn in_sequence_batches_are_appended() {
    let table = table_with(&[batch(0, 0, 3, 0), batch(0, 3, 2, 3)]);
    assert_eq!(table.check(&batch(0, 5, 1, 99)), Ok(SequenceCheck::Append));
}

#[test]
fn a_resend_is_answered_with_the_original_offsets() {
    let table = table_with(&[batch(0, 0, 3, 10), batch(0, 3, 2, 13)]);
    let expect = BatchMetadata {
        first_sequence: 0,
        last_sequence: 2,
        first_offset: 10,
        last_offset: 12,
    };
    assert_eq!(
        table.check(&batch(0, 0, 3, 0)),
        Ok(SequenceCheck::Duplicate(expect))
    );
}

#[test]
fn only_the_last_five_batches_are_remembered() {
    let batches: Vec<_> = (0..6).map(|i| batch(0, i, 1, i64::from(i))).collect();
    let table = table_with(&batches);
    assert_eq!(table.get(1).unwrap().batches.len(), MAX_CACHED_BATCHES);
    let err = table.check(&batch(0, 0, 1, 0)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert!(matches!(
        table.check(&batch(0, 1, 1, 0)),
        Ok(SequenceCheck::Duplicate(_))
    ));
}

#[test]
fn a_gap_is_out_of_order() {
    let table = table_with(&[batch(0, 0, 3, 0)]);
    let err = table.check(&batch(0, 4, 1, 0)).unwrap_err();
    assert_eq!(
        err,
        ProducerError::OutOfOrderSequence {
            producer_id: 1,
            expected: 3,
            got: 4
        }
    );
    assert_eq!(err.code(), ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
}

#[test]
fn an_old_epoch_is_fenced() {
    let table = table_with(&[batch(3, 0, 1, 0)]);
    let err = table.check(&batch(2, 1, 1, 0)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_PRODUCER_EPOCH);
}

#[test]
fn a_new_epoch_starts_at_sequence_zero() {
    let table = table_with(&[batch(0, 0, 5, 0)]);
    assert_eq!(table.check(&batch(1, 0, 1, 5)), Ok(SequenceCheck::Append));
    assert!(table.check(&batch(1, 5, 1, 5)).is_err());
    let table = table_with(&[batch(0, 0, 5, 0), batch(1, 0, 1, 5)]);
    assert_eq!(
        table.get(1).unwrap().batches.len(),
        1,
        "a new epoch forgets the old batches"
    );
}

#[test]
fn an_unknown_producer_may_start_anywhere() {
    assert_eq!(
        ProducerStateTable::new().check(&batch(0, 77, 1, 0)),
        Ok(SequenceCheck::Append)
    );
}

#[test]
fn sequences_wrap_after_i32_max() {
    let table = table_with(&[batch(0, i32::MAX - 1, 2, 0)]);
    assert_eq!(table.get(1).unwrap().batches[0].last_sequence, i32::MAX);
    assert_eq!(table.check(&batch(0, 0, 1, 2)), Ok(SequenceCheck::Append));
}

#[test]
fn producers_below_the_log_start_are_forgotten() {
    let mut table = table_with(&[batch(0, 0, 2, 0), batch(0, 2, 2, 2)]);
    table.remove_before(2);
    assert_eq!(table.get(1).unwrap().batches.len(), 1);
    table.remove_before(4);
    assert!(table.is_empty());
}
