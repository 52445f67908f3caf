//! Transactions in the log: markers, the last stable offset, the aborted-transactions index,
//! and their recovery on open and truncation.

use super::*;
use crate::ErrorCode;
use crate::Millis;
use crate::batch::{BatchBuilder, EndTxnMarker};
use crate::storage::MemoryStorage;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 300,
        index_interval_bytes: 0,
        ..LogConfig::default()
    }
}

fn empty_log() -> Log<MemoryStorage> {
    Log::open(MemoryStorage::new(), config()).unwrap().0
}

/// Appends a transactional batch of `records` records from `producer_id`; its first offset.
fn txn_append(
    log: &mut Log<MemoryStorage>,
    producer_id: i64,
    epoch: i16,
    seq: i32,
    records: usize,
) -> i64 {
    let mut builder = BatchBuilder::new()
        .idempotent(producer_id, epoch, seq)
        .transactional();
    for _ in 0..records {
        builder.push(0, None, Some(b"v"), &[]);
    }
    log.append(&mut builder.build(), 0, Millis(0))
        .unwrap()
        .base_offset
}

fn plain_append(log: &mut Log<MemoryStorage>) -> i64 {
    let mut builder = BatchBuilder::new();
    builder.push(0, None, Some(b"p"), &[]);
    log.append(&mut builder.build(), 0, Millis(0))
        .unwrap()
        .base_offset
}

fn marker(producer_id: i64, epoch: i16, commit: bool) -> EndTxnMarker {
    EndTxnMarker {
        producer_id,
        producer_epoch: epoch,
        coordinator_epoch: 0,
        commit,
    }
}

fn end_txn(log: &mut Log<MemoryStorage>, producer_id: i64, epoch: i16, commit: bool) -> i64 {
    log.append_marker(&marker(producer_id, epoch, commit), 0, Millis(0))
        .unwrap()
        .base_offset
}

#[test]
fn an_open_transaction_holds_the_last_stable_offset_at_its_first_offset() {
    let mut log = empty_log();
    plain_append(&mut log);
    let first = txn_append(&mut log, 1, 0, 0, 3);
    plain_append(&mut log);
    let end = log.log_end_offset();
    assert_eq!(log.last_stable_offset(end), first);
    // Never above the high watermark.
    assert_eq!(log.last_stable_offset(0), 0);
    let marker_offset = end_txn(&mut log, 1, 0, true);
    // Until the high watermark passes the marker, the transaction is not stable yet.
    assert_eq!(log.last_stable_offset(marker_offset), first);
    let end = log.log_end_offset();
    assert_eq!(log.last_stable_offset(end), end);
    log.note_high_watermark(end);
    assert_eq!(log.last_stable_offset(end), end);
}

#[test]
fn the_oldest_of_several_open_transactions_bounds_the_last_stable_offset() {
    let mut log = empty_log();
    let first_a = txn_append(&mut log, 1, 0, 0, 1);
    let first_b = txn_append(&mut log, 2, 0, 0, 1);
    txn_append(&mut log, 1, 0, 1, 1);
    end_txn(&mut log, 1, 0, false);
    let end = log.log_end_offset();
    log.note_high_watermark(end);
    assert!(first_a < first_b);
    assert_eq!(log.last_stable_offset(end), first_b);
}

#[test]
fn aborted_transactions_are_indexed_and_reported_for_overlapping_reads() {
    let mut log = empty_log();
    let first = txn_append(&mut log, 7, 0, 0, 2);
    txn_append(&mut log, 7, 0, 2, 2);
    let abort_at = end_txn(&mut log, 7, 0, false);
    let committed_first = txn_append(&mut log, 8, 0, 0, 1);
    end_txn(&mut log, 8, 0, true);
    let end = log.log_end_offset();
    let expected = AbortedTxn {
        producer_id: 7,
        first_offset: first,
        last_offset: abort_at,
        last_stable_offset: abort_at + 1,
    };
    assert_eq!(log.aborted_transactions(0, end).unwrap(), vec![expected]);
    // A read starting after the abort marker, or ending before the transaction, gets none.
    assert!(
        log.aborted_transactions(abort_at + 1, end)
            .unwrap()
            .is_empty()
    );
    assert!(log.aborted_transactions(0, first).unwrap().is_empty());
    // A read starting inside it still does.
    assert_eq!(
        log.aborted_transactions(first + 1, committed_first)
            .unwrap(),
        vec![expected]
    );
}

#[test]
fn a_non_transactional_batch_during_a_transaction_is_an_invalid_txn_state() {
    let mut log = empty_log();
    txn_append(&mut log, 3, 0, 0, 1);
    let mut builder = BatchBuilder::new().idempotent(3, 0, 1);
    builder.push(0, None, Some(b"x"), &[]);
    let err = log.append(&mut builder.build(), 0, Millis(0)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_TXN_STATE);
}

#[test]
fn a_transactional_batch_needs_a_producer_id() {
    let mut log = empty_log();
    let mut builder = BatchBuilder::new().transactional();
    builder.push(0, None, Some(b"x"), &[]);
    let err = log.append(&mut builder.build(), 0, Millis(0)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_RECORD);
}

#[test]
fn markers_of_an_older_epoch_or_coordinator_are_fenced() {
    let mut log = empty_log();
    txn_append(&mut log, 4, 2, 0, 1);
    let stale = log
        .append_marker(&marker(4, 1, true), 0, Millis(0))
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::INVALID_PRODUCER_EPOCH);
    let newer = EndTxnMarker {
        coordinator_epoch: 5,
        ..marker(4, 2, false)
    };
    log.append_marker(&newer, 0, Millis(0)).unwrap();
    let old_coordinator = EndTxnMarker {
        coordinator_epoch: 4,
        ..marker(4, 2, false)
    };
    let err = log
        .append_marker(&old_coordinator, 0, Millis(0))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TRANSACTION_COORDINATOR_FENCED);
}

#[test]
fn an_abort_with_a_bumped_epoch_fences_the_old_producer() {
    let mut log = empty_log();
    txn_append(&mut log, 5, 0, 0, 1);
    // The coordinator aborts a zombie's transaction with the next epoch (KIP-98 fencing).
    end_txn(&mut log, 5, 1, false);
    let mut zombie = BatchBuilder::new().idempotent(5, 0, 1).transactional();
    zombie.push(0, None, Some(b"z"), &[]);
    let err = log.append(&mut zombie.build(), 0, Millis(0)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_PRODUCER_EPOCH);
    // The new instance starts its epoch at sequence 0.
    txn_append(&mut log, 5, 2, 0, 1);
}

#[test]
fn reopening_rebuilds_open_transactions_and_the_aborted_index() {
    let mut log = empty_log();
    let aborted_first = txn_append(&mut log, 1, 0, 0, 2);
    for seq in 0..6 {
        // Enough batches to span several segments.
        txn_append(&mut log, 2, 0, seq, 1);
    }
    let abort_at = end_txn(&mut log, 1, 0, false);
    let open_first = txn_append(&mut log, 3, 0, 0, 1);
    end_txn(&mut log, 2, 0, true);
    log.flush().unwrap();
    assert!(log.segments().len() > 1, "the test needs several segments");
    let end = log.log_end_offset();
    let aborted = log.aborted_transactions(0, end).unwrap();
    let (reopened, _) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(reopened.aborted_transactions(0, end).unwrap(), aborted);
    assert_eq!(aborted[0].first_offset, aborted_first);
    assert_eq!(aborted[0].last_offset, abort_at);
    assert_eq!(reopened.last_stable_offset(end), open_first);
    assert_eq!(
        reopened.producer_state().ongoing().collect::<Vec<_>>(),
        vec![(3, open_first)]
    );
}

#[test]
fn truncating_a_marker_reopens_its_transaction() {
    let mut log = empty_log();
    let first = txn_append(&mut log, 1, 0, 0, 1);
    let abort_at = end_txn(&mut log, 1, 0, false);
    assert_eq!(log.aborted_transactions(0, abort_at + 1).unwrap().len(), 1);
    log.truncate_to(abort_at).unwrap();
    assert!(
        log.aborted_transactions(0, abort_at + 1)
            .unwrap()
            .is_empty()
    );
    assert_eq!(log.last_stable_offset(abort_at), first);
}

#[test]
fn a_follower_replaying_the_leaders_batches_builds_the_same_index() {
    let mut leader = empty_log();
    txn_append(&mut leader, 1, 0, 0, 2);
    end_txn(&mut leader, 1, 0, false);
    let open_first = txn_append(&mut leader, 2, 0, 0, 1);
    let end = leader.log_end_offset();
    let all = leader.read(0, usize::MAX).unwrap().records;
    let mut follower = empty_log();
    let mut offset = 0;
    let mut records = all;
    // Batches may arrive over several fetches; the whole log fits in one read here, unless
    // the segments split it.
    while offset < end {
        follower.append_replicated(&records, Millis(0)).unwrap();
        offset = follower.log_end_offset();
        if offset < end {
            records = leader.read(offset, usize::MAX).unwrap().records;
        }
    }
    assert_eq!(
        follower.aborted_transactions(0, end).unwrap(),
        leader.aborted_transactions(0, end).unwrap()
    );
    assert_eq!(follower.last_stable_offset(end), open_first);
}

#[test]
fn retention_forgets_aborted_transactions_below_the_log_start() {
    let mut log = empty_log();
    txn_append(&mut log, 1, 0, 0, 1);
    let abort_at = end_txn(&mut log, 1, 0, false);
    plain_append(&mut log);
    log.delete_records_before(abort_at + 1).unwrap();
    assert!(
        log.aborted_transactions(0, log.log_end_offset())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_last_stable_offset_is_never_below_the_log_start() {
    let mut log = empty_log();
    let first = txn_append(&mut log, 1, 0, 0, 2);
    plain_append(&mut log);
    plain_append(&mut log);
    let end = log.log_end_offset();
    assert_eq!(log.last_stable_offset(end), first);
    // DeleteRecords moves the log start past the open transaction's first offset (Kafka's
    // firstUnstableOffset is at least the log start offset).
    log.delete_records_before(3).unwrap();
    assert_eq!(log.log_start_offset(), 3);
    assert_eq!(log.last_stable_offset(end), 3);
    // Still never above the high watermark.
    assert_eq!(log.last_stable_offset(2), 2);
}

/// A marker takes an offset like any batch: a log at the end of the offset space refuses it
/// with the same clear error as an append, and stays as it was.
#[test]
fn a_marker_past_the_end_of_the_offset_space_is_refused() {
    let mut storage = MemoryStorage::new();
    checkpoint::write(&mut storage, i64::MAX).unwrap();
    let (mut log, _) = Log::open(storage, config()).unwrap();
    let err = log
        .append_marker(&marker(1, 0, false), 0, Millis(0))
        .unwrap_err();
    assert_eq!(
        err,
        AppendError::OffsetOverflow {
            log_end_offset: i64::MAX,
            records: 1
        }
    );
    assert_eq!(log.log_end_offset(), i64::MAX);
    assert!(log.aborted_transactions(0, i64::MAX).unwrap().is_empty());
}
