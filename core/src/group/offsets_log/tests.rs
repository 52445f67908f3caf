//! The offsets log: records survive reopening, and the log cleaner keeps the latest commit of
//! each group and partition.

use super::*;
use crate::assignor::TopicPartition;
use crate::group::{CommittedOffset, compact};
use crate::log::{CleanerConfig, Log};
use crate::storage::MemoryStorage;

fn commit(group: &str, partition: i32, offset: i64) -> GroupRecord {
    GroupRecord::Offset {
        group: group.into(),
        partition: TopicPartition::new("events", partition),
        value: Some(CommittedOffset {
            offset,
            leader_epoch: Some(0),
            metadata: String::new(),
            commit_timestamp: Millis(offset as u64),
        }),
    }
}

fn settings() -> LogCleanerSettings {
    LogCleanerSettings {
        enable: true,
        backoff_ms: Millis(100),
        config: CleanerConfig {
            io_buffer_size: 4096,
            ..CleanerConfig::default()
        },
    }
}

/// Commits of two groups over two partitions, `rounds` times each, one append per round.
fn commit_rounds(log: &mut OffsetsLog<MemoryStorage>, rounds: i64) -> Vec<GroupRecord> {
    let mut written = Vec::new();
    for round in 1..=rounds {
        let records: Vec<GroupRecord> = ["a", "b"]
            .iter()
            .flat_map(|g| (0..2).map(move |p| commit(g, p, round * 10 + i64::from(p))))
            .collect();
        log.append(&records, Millis(round as u64)).unwrap();
        written.extend(records);
    }
    written
}

/// Every record of the log, in offset order, as written (superseded ones included until the
/// cleaner removes them): what the log holds, not what a load keeps of it.
fn every_record(log: &OffsetsLog<MemoryStorage>) -> Vec<GroupRecord> {
    let log = log.log();
    let mut records = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, 1 << 20).unwrap().records;
        for (range, summary) in split_batches(&read).unwrap() {
            offset = summary.header.next_offset();
            for record in decode_records(&read[range]).unwrap() {
                let key = record.key.unwrap();
                records.push(GroupRecord::decode(&key, record.value.as_deref()).unwrap());
            }
        }
    }
    records
}

#[test]
fn records_survive_reopening_and_replay_as_the_latest_of_each_key() {
    let config = OffsetsLog::<MemoryStorage>::log_config(OFFSETS_TOPIC_SEGMENT_BYTES);
    let (mut log, live) = OffsetsLog::open(MemoryStorage::new(), config).unwrap();
    assert!(live.is_empty());
    let written = commit_rounds(&mut log, 5);
    let tombstone = GroupRecord::Offset {
        group: "b".into(),
        partition: TopicPartition::new("events", 1),
        value: None,
    };
    log.append(std::slice::from_ref(&tombstone), Millis(6))
        .unwrap();
    let storage = log.log.into_storage();
    let (log, live) = OffsetsLog::open(storage, config).unwrap();
    let mut all = written.clone();
    all.push(tombstone);
    assert_eq!(every_record(&log), all, "every record as written, in order");
    assert_eq!(live, compact(&all));
    assert_eq!(log.read_live().unwrap(), live);
    assert_eq!(live.len(), 3, "b's partition 1 was deleted");
    assert!(live.contains(&commit("a", 0, 50)) && live.contains(&commit("a", 1, 51)));
}

#[test]
fn the_cleaner_keeps_only_the_latest_commit_of_each_group_and_partition() {
    // Small segments: each round of four commits rolls a segment or two.
    let config = OffsetsLog::<MemoryStorage>::log_config(400);
    let (mut log, _) = OffsetsLog::open(MemoryStorage::new(), config).unwrap();
    let written = commit_rounds(&mut log, 40);
    let before = every_record(&log);
    assert_eq!(before.len(), 160);
    let mut now = Millis(1_000);
    let mut rounds = 0;
    for _ in 0..10_000 {
        if log.tick(now, &settings()).unwrap().is_some() {
            rounds += 1;
        }
        if rounds > 0 && !log.log().is_cleaning() {
            break;
        }
        now = now.plus(Millis(1));
    }
    assert!(rounds >= 1, "the cleaner ran");
    let after = every_record(&log);
    // The latest commit of each key survives; older ones in the cleaned segments are gone
    // (the active segment is never cleaned, so a few duplicates may remain there).
    assert_eq!(compact(&after), compact(&written));
    assert!(after.len() < 20, "{} records left of 160", after.len());
    let stats = log.last_cleaning().unwrap();
    assert!(stats.records_kept < stats.records_read);
    // Reopening after the cleaning replays the same state.
    let storage = log.log.into_storage();
    let (_, live) = OffsetsLog::open(storage, config).unwrap();
    assert_eq!(live, compact(&written));
}

#[test]
fn a_disabled_cleaner_leaves_the_log_alone() {
    let config = OffsetsLog::<MemoryStorage>::log_config(400);
    let (mut log, _) = OffsetsLog::open(MemoryStorage::new(), config).unwrap();
    commit_rounds(&mut log, 20);
    let disabled = LogCleanerSettings {
        enable: false,
        ..settings()
    };
    for t in 0..1_000 {
        log.tick(Millis(t), &disabled).unwrap();
    }
    assert_eq!(every_record(&log).len(), 80);
    assert_eq!(log.next_deadline(&disabled), None);
}

/// Reads the whole of `log` as a node loading its offsets partition does.
fn replay_all(log: &Log<MemoryStorage>) -> GroupLogReplay {
    let mut replay = GroupLogReplay::default();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, 1 << 20).unwrap();
        offset = decode_group_batches(&read.records, offset, &mut replay)
            .unwrap()
            .expect("a whole batch");
    }
    replay
}

/// Kafka's loader (`GroupMetadataManager.doLoadGroupsAndOffsets`): a committed transaction's
/// offsets apply at their own offsets, an aborted one's are dropped, an open one's stay
/// pending, and a commit marker never applies an older epoch's (a zombie's) records.
#[test]
fn transactional_offsets_are_replayed_by_their_markers() {
    let config = OffsetsLog::<MemoryStorage>::log_config(OFFSETS_TOPIC_SEGMENT_BYTES);
    let (log, _) = Log::open(MemoryStorage::new(), config).unwrap();
    let mut log = log;
    let txn = |log: &mut Log<MemoryStorage>, producer: (i64, i16), sequence, (p, offset)| {
        let mut batch =
            encode_txn_offset_batch(&[commit("g", p, offset)], Millis(1), producer, sequence);
        log.append(&mut batch, 0, Millis(1)).unwrap();
    };
    let plain = |log: &mut Log<MemoryStorage>, (p, offset)| {
        for mut batch in encode_group_batches(&[commit("g", p, offset)], Millis(1)) {
            log.append(&mut batch, 0, Millis(1)).unwrap();
        }
    };
    let marker =
        |log: &mut Log<MemoryStorage>, (producer_id, producer_epoch): (i64, i16), commit| {
            let marker = EndTxnMarker {
                producer_id,
                producer_epoch,
                coordinator_epoch: 0,
                commit,
            };
            log.append_marker(&marker, 0, Millis(1)).unwrap();
        };
    // Partition 0: a committed transaction's offset (2) below a later plain commit (3) does
    // not stand over it; partition 1: a committed one over an earlier plain one.
    plain(&mut log, (0, 1));
    txn(&mut log, (7, 0), 0, (0, 2)); // committed below, after a later plain commit
    plain(&mut log, (1, 10));
    txn(&mut log, (7, 0), 1, (1, 11));
    plain(&mut log, (0, 3));
    marker(&mut log, (7, 0), true);
    txn(&mut log, (8, 0), 0, (2, 4)); // aborted
    marker(&mut log, (8, 0), false);
    txn(&mut log, (9, 0), 0, (3, 5)); // a zombie's, fenced by epoch 1
    txn(&mut log, (9, 1), 0, (3, 6));
    marker(&mut log, (9, 1), true);
    txn(&mut log, (10, 2), 0, (4, 7)); // still open
    txn(&mut log, (10, 2), 1, (4, 8));
    let (records, open) = replay_all(&log).finish();
    assert_eq!(
        records,
        vec![commit("g", 1, 11), commit("g", 0, 3), commit("g", 3, 6)],
        "the latest of each key, in log order"
    );
    let open: Vec<(i64, i16, GroupRecord)> = open
        .into_iter()
        .flat_map(|(id, rs)| rs.into_iter().map(move |(epoch, _, r)| (id, epoch, r)))
        .collect();
    assert_eq!(open, vec![(10, 2, commit("g", 4, 8))]);
    // Read one batch at a time, the replay holds one record per key and pending key.
    let mut replay = GroupLogReplay::default();
    let mut offset = log.log_start_offset();
    let mut most = 0;
    while offset < log.log_end_offset() {
        let read = log.read(offset, 1).unwrap();
        offset = decode_group_batches(&read.records, offset, &mut replay)
            .unwrap()
            .expect("a whole batch");
        most = most.max(replay.held());
    }
    assert!(most <= 6, "{most} records held for 5 partitions");
    assert_eq!(replay.finish().0, records);
}
