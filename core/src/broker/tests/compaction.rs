//! The broker runs the log cleaner from `tick`: a compacted partition ends with the latest
//! value of each key, one bounded step per tick, never above the last stable offset (so
//! never into an open transaction), and the cleaner waits `log.cleaner.backoff.ms` when nothing is dirty.

use std::collections::BTreeMap;

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::{BatchBuilder, decode_records, split_batches};
use crate::broker::{Broker, LogCleanerSettings, MemoryStorageFactory, PartitionSettings};
use crate::log::{CleanerConfig, LogConfig};

fn settings(enable: bool) -> PartitionSettings {
    PartitionSettings {
        log: LogConfig {
            segment_bytes: 250,
            delete: false,
            compact: true,
            min_cleanable_dirty_ratio: 0.3,
            ..LogConfig::default()
        },
        cleaner: LogCleanerSettings {
            enable,
            backoff_ms: Millis(1_000),
            config: CleanerConfig {
                io_buffer_size: 200,
                ..CleanerConfig::default()
            },
        },
        ..PartitionSettings::default()
    }
}

fn broker(enable: bool) -> (Broker<MemoryStorageFactory>, TopicPartition) {
    let tp = TopicPartition::new("state", 0);
    (super::sole_leader_with(&tp, settings(enable)), tp)
}

fn produce(broker: &mut Broker<MemoryStorageFactory>, tp: &TopicPartition, key: &str, value: &str) {
    let mut batch = BatchBuilder::new();
    batch.push(0, Some(key.as_bytes()), Some(value.as_bytes()), &[]);
    super::produce_acks1(broker, 1, tp, batch.build());
    while broker.poll_output().is_some() {}
}

/// (offset, key, value) of every record of the partition.
fn records(
    broker: &Broker<MemoryStorageFactory>,
    tp: &TopicPartition,
) -> Vec<(i64, String, String)> {
    let end = broker.partition(tp).unwrap().log_end_offset;
    let mut out = Vec::new();
    let mut next = 0;
    while next < end {
        let bytes = broker.read_log(tp, next, 1 << 20, end).unwrap();
        for (range, summary) in split_batches(&bytes).unwrap() {
            for record in decode_records(&bytes[range]).unwrap() {
                let text = |b: Option<Vec<u8>>| String::from_utf8(b.unwrap()).unwrap();
                out.push((record.offset, text(record.key), text(record.value)));
            }
            next = summary.header.next_offset();
        }
    }
    out
}

#[test]
fn tick_cleans_a_compacted_partition_in_bounded_steps() {
    let (mut broker, tp) = broker(true);
    for i in 0..30 {
        produce(&mut broker, &tp, &format!("k{}", i % 4), &format!("v{i}"));
    }
    let before = records(&broker, &tp);
    let mut now = Millis(100);
    let mut steps = 0;
    broker.tick(now).unwrap();
    while broker.cleaning().is_some() {
        // While a round runs, the broker asks to be ticked again at once.
        assert!(broker.next_deadline().is_some_and(|d| d <= now));
        now = now.plus(Millis(1));
        broker.tick(now).unwrap();
        steps += 1;
    }
    assert!(steps > 3, "one bounded step per tick: {steps}");
    let (cleaned, stats) = broker.last_cleaning().expect("a round finished");
    assert_eq!(cleaned, &tp);
    assert!(stats.records_kept < stats.records_read);
    let after = records(&broker, &tp);
    let latest = |rows: &[(i64, String, String)]| -> BTreeMap<String, String> {
        rows.iter()
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(latest(&after), latest(&before));
    assert!(after.len() < before.len());
    assert!(
        after.iter().all(|row| before.contains(row)),
        "offsets unchanged"
    );
    // Nothing dirty is left: the cleaner backs off log.cleaner.backoff.ms.
    broker.tick(now.plus(Millis(1))).unwrap();
    assert!(broker.cleaning().is_none());
    assert_eq!(broker.next_deadline(), Some(now.plus(Millis(1_001))));
}

#[test]
fn a_disabled_cleaner_never_cleans() {
    let (mut broker, tp) = broker(false);
    for i in 0..30 {
        produce(&mut broker, &tp, "k", &format!("v{i}"));
    }
    for t in 0..100 {
        broker.tick(Millis(t * 1_000)).unwrap();
    }
    assert!(broker.last_cleaning().is_none());
    assert_eq!(records(&broker, &tp).len(), 30);
}

#[test]
fn topic_and_broker_configs_reach_the_log_and_the_cleaner() {
    use crate::config::{BrokerConfig, CleanupPolicy};
    let broker = BrokerConfig::from_pairs([
        ("log.cleaner.enable", "false"),
        ("log.cleaner.backoff.ms", "250"),
        ("log.cleaner.dedupe.buffer.size", "1048576"),
        ("log.cleaner.io.buffer.size", "65536"),
        ("log.cleaner.delete.retention.ms", "5000"),
        ("log.cleaner.min.cleanable.ratio", "0.25"),
    ])
    .unwrap();
    let mut topic = broker.topic_defaults.clone();
    topic.cleanup_policy = CleanupPolicy::Compact;
    topic.min_compaction_lag_ms = 100;
    topic.max_compaction_lag_ms = 60_000;
    let settings = PartitionSettings::from_configs(&topic, &broker);
    let log = settings.log;
    assert!(log.compact && !log.delete);
    assert_eq!(log.delete_retention_ms, Millis(5_000));
    assert_eq!(log.min_cleanable_dirty_ratio, 0.25);
    assert_eq!(
        (log.min_compaction_lag_ms, log.max_compaction_lag_ms),
        (Millis(100), Millis(60_000))
    );
    let cleaner = settings.cleaner;
    assert!(!cleaner.enable);
    assert_eq!(cleaner.backoff_ms, Millis(250));
    assert_eq!(
        (
            cleaner.config.dedupe_buffer_size,
            cleaner.config.io_buffer_size
        ),
        (1_048_576, 65_536)
    );
    // Kafka's defaults: a day of tombstones, half dirty, no lag, the cleaner on.
    let defaults = PartitionSettings::from_configs(
        &BrokerConfig::default().topic_defaults,
        &BrokerConfig::default(),
    );
    assert_eq!(
        defaults.log,
        LogConfig {
            segment_ms: defaults.log.segment_ms,
            max_message_bytes: defaults.log.max_message_bytes,
            ..LogConfig::default()
        }
    );
    assert_eq!(defaults.cleaner, LogCleanerSettings::default());
}

#[test]
fn a_broker_ticked_before_hosting_partitions_uses_the_configured_backoff() {
    // Before any partition is hosted the cleaner knows only Kafka's defaults (a 15 s
    // backoff); the compacted partition hosted afterwards is looked at after its broker's
    // own log.cleaner.backoff.ms (1 s here), not 15 s later.
    let tp = TopicPartition::new("state", 0);
    let mut broker = Broker::new(
        crate::broker::BrokerSettings {
            node_id: 1,
            durable: false,
        },
        MemoryStorageFactory,
    );
    broker.tick(Millis(0)).unwrap();
    let state = crate::controller::PartitionState {
        replicas: vec![1],
        isr: vec![1],
        leader: 1,
        leader_epoch: 0,
        partition_epoch: 0,
    };
    broker
        .apply_partition(&tp, &state, settings(true), Millis(0))
        .unwrap();
    for i in 0..30 {
        produce(&mut broker, &tp, "k", &format!("v{i}"));
    }
    assert!(broker.next_deadline().is_some_and(|d| d <= Millis(1_000)));
    let mut now = Millis(1_000);
    broker.tick(now).unwrap();
    while broker.cleaning().is_some() {
        now = now.plus(Millis(1));
        broker.tick(now).unwrap();
    }
    assert!(broker.last_cleaning().is_some());
    assert!(now < Millis(15_000));
}

#[test]
fn an_open_transaction_is_never_cleaned() {
    let (mut broker, tp) = broker(true);
    produce(&mut broker, &tp, "k", "v1");
    for i in 0..10 {
        produce(&mut broker, &tp, &format!("f{}", i % 2), &format!("x{i}"));
    }
    // A transaction that has not ended: its K=v2 may still be aborted.
    let mut open = BatchBuilder::new().idempotent(5, 0, 0).transactional();
    open.push(0, Some(b"k"), Some(b"v2"), &[]);
    super::produce_acks1(&mut broker, 1, &tp, open.build());
    while broker.poll_output().is_some() {}
    for i in 0..20 {
        produce(&mut broker, &tp, &format!("f{}", i % 2), &format!("y{i}"));
    }
    let lso = broker.partitions[&tp].last_stable_offset();
    assert_eq!(lso, 11, "held at the open transaction's first offset");
    let mut now = Millis(100);
    broker.tick(now).unwrap();
    while broker.cleaning().is_some() {
        now = now.plus(Millis(1));
        broker.tick(now).unwrap();
    }
    let (_, stats) = broker
        .last_cleaning()
        .expect("a round below the open transaction");
    assert!(
        stats.end_offset <= lso,
        "cleaned up to {}",
        stats.end_offset
    );
    let k: Vec<_> = records(&broker, &tp)
        .into_iter()
        .filter(|(_, key, _)| key == "k")
        .collect();
    assert_eq!(
        k,
        [(0, "k".into(), "v1".into()), (11, "k".into(), "v2".into())]
    );
}
