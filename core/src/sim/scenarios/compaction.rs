//! Log compaction: a producer overwrites six keys hundreds of times, deleting some with
//! tombstones, and a second one writes eight keys briefly (two of its own: `k6` keeps a value,
//! `k7` ends deleted), on a compacted topic with small segments; the brokers' log cleaners (the same
//! `Broker::tick` path the server runs) rewrite the closed segments as it goes, keeping the
//! latest record of each key and dropping tombstones once `delete.retention.ms` has passed. A
//! consumer that starts late reads the compacted log from the beginning and sees offset gaps.
//! The checker accepts what the cleaner may remove and nothing more (see
//! [`crate::checker`]).

use std::collections::{BTreeMap, BTreeSet};

use super::common::{self, c, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::broker::ACKS_ALL;
use crate::checker::{Anomaly, Op};
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, ScenarioSpec};

const TOPIC: &str = "table";
const KEYS: u32 = 6;
const MESSAGES: u64 = 300;
/// Sends 3, 7, 11, ... are tombstones: with six keys they delete k3, k1 and k5 in turn, and
/// the last writes of k1 and k5 are tombstones.
const TOMBSTONE_EVERY: u64 = 4;

pub const COMPACTION: Scenario = Scenario {
    name: "compaction",
    description: "A compacted topic with small segments: the cleaner keeps the latest value of each key and drops old tombstones; a late consumer sees offset gaps.",
    build: compaction,
    drive: no_samples,
    measure: measure_compaction,
};

fn compaction() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("compaction");
    // The cleaner looks for dirty logs every 200 simulated ms instead of Kafka's 15 s.
    spec.broker_config.log_cleaner_backoff_ms = 200;
    spec.topics.push(common::topic(
        TOPIC,
        1,
        3,
        &[
            ("cleanup.policy", "compact"),
            ("min.insync.replicas", "2"),
            // About 20 records a segment, and a roll every half second at most.
            ("segment.bytes", "1500"),
            ("segment.ms", "500"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("delete.retention.ms", "1000"),
        ],
    ));
    let mut producer = common::producer("producer", TOPIC, MESSAGES, 15, KEYS, ACKS_ALL);
    producer.config.enable_idempotence = true;
    producer.tombstone_every = TOMBSTONE_EVERY;
    spec.clients.push(p(producer));
    // Odd sends are tombstones: k7 only ever gets tombstones, k6 keeps its last value.
    let mut editor = common::producer("editor", TOPIC, 16, 100, 8, ACKS_ALL);
    editor.config.enable_idempotence = true;
    editor.tombstone_every = 2;
    editor.start_ms = Millis(500);
    spec.clients.push(p(editor));
    let mut reader = common::consumer(
        "reader",
        "readers",
        TOPIC,
        AssignorKind::Range,
        CommitMode::Auto,
    );
    // Production ends at about 4.6 s; the reader starts once the log has been cleaned.
    reader.start_ms = Millis(7_000);
    spec.clients.push(c(reader));
    spec.end_ms = Millis(12_000);
    spec
}

fn measure_compaction(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let history = sim.history();
    let mut key_of: BTreeMap<&str, &str> = BTreeMap::new();
    let mut tombstone_sends: BTreeSet<&str> = BTreeSet::new();
    let mut latest: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
    let mut produced = 0;
    let mut tombstones_acknowledged = 0;
    let mut polled = 0;
    let mut gaps = 0;
    // The reader starts from the earliest offset, 0 (compaction never moves the log start).
    let mut last_polled = -1;
    for op in &history.ops {
        match op {
            Op::Send {
                value,
                key: Some(key),
                tombstone,
                ..
            } => {
                key_of.insert(value, key);
                if *tombstone {
                    tombstone_sends.insert(value);
                }
            }
            Op::Ack { value, offset, .. } => {
                produced += 1;
                let tombstone = tombstone_sends.contains(value.as_str());
                tombstones_acknowledged += i64::from(tombstone);
                if let Some(key) = key_of.get(value.as_str()) {
                    let entry = latest.entry(key).or_insert((*offset, tombstone));
                    if *offset >= entry.0 {
                        *entry = (*offset, tombstone);
                    }
                }
            }
            Op::Poll { offset, .. } => {
                polled += 1;
                gaps += i64::from(*offset > last_polled + 1);
                last_polled = *offset;
            }
            _ => {}
        }
    }
    let read = history.final_reads.iter().find(|r| r.tp.topic == TOPIC);
    let left = read.map_or(0, |r| r.records.len() as i64);
    let tombstones_left = read.map_or(0, |r| {
        r.records.iter().filter(|(_, v)| v.is_empty()).count() as i64
    });
    let keys_left: BTreeSet<&str> = read
        .map(|r| r.keys.values().map(String::as_str).collect())
        .unwrap_or_default();
    // Keys whose last write was a tombstone, and which the cleaner then removed entirely.
    let keys_deleted = latest
        .iter()
        .filter(|(key, (_, tombstone))| *tombstone && !keys_left.contains(*key))
        .count() as i64;
    let high_watermark = sim
        .high_watermark(&crate::assignor::TopicPartition::new(TOPIC, 0))
        .unwrap_or(0);
    Fields::from([
        ("records_produced".into(), produced),
        ("records_left".into(), left),
        ("high_watermark".into(), high_watermark),
        (
            "distinct_keys".into(),
            key_of.values().collect::<BTreeSet<_>>().len() as i64,
        ),
        ("keys_left".into(), keys_left.len() as i64),
        ("keys_deleted".into(), keys_deleted),
        ("tombstones_acknowledged".into(), tombstones_acknowledged),
        ("tombstones_left".into(), tombstones_left),
        (
            "tombstones_removed".into(),
            tombstones_acknowledged - tombstones_left,
        ),
        ("consumer_polled".into(), polled),
        ("consumer_offset_gaps".into(), gaps),
    ])
}
