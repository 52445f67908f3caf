//! Building blocks the scenarios share: clients with settings scaled to simulated seconds,
//! and measurements over a finished run.

use std::collections::{BTreeMap, BTreeSet};

use crate::Millis;
use crate::assignor::AssignorKind;
use crate::checker::{Anomaly, AnomalyKind, Op};
use crate::client::consumer::{ConsumerConfig, OffsetReset};
use crate::client::producer::ProducerConfig;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{ClientSpec, CommitMode, ConsumerSpec, ProducerSpec, TopicSpec};

pub fn topic(
    name: &str,
    partitions: u32,
    replication_factor: u16,
    configs: &[(&str, &str)],
) -> TopicSpec {
    TopicSpec {
        name: name.into(),
        partitions,
        replication_factor,
        configs: configs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A producer with Kafka's behaviour and timeouts shortened to the simulation's scale
/// (a request times out after 1 s, a record after 20 s).
pub fn producer(
    name: &str,
    topic: &str,
    messages: u64,
    interval_ms: u64,
    keys: u32,
    acks: i16,
) -> ProducerSpec {
    ProducerSpec {
        name: name.into(),
        config: ProducerConfig {
            client_id: name.into(),
            acks,
            linger_ms: Millis(5),
            request_timeout_ms: Millis(1_000),
            delivery_timeout_ms: Millis(20_000),
            retry_backoff_ms: Millis(100),
            ..ProducerConfig::default()
        },
        topic: topic.into(),
        messages,
        interval_ms: Millis(interval_ms),
        keys,
        start_ms: Millis(100),
        tombstone_every: 0,
        transactions: None,
    }
}

/// A consumer of `group` reading from the earliest offset, with heartbeats every 300 ms and
/// a 3 s session.
pub fn consumer(
    name: &str,
    group: &str,
    topic: &str,
    assignor: AssignorKind,
    commit: CommitMode,
) -> ConsumerSpec {
    ConsumerSpec {
        name: name.into(),
        config: ConsumerConfig {
            client_id: name.into(),
            group_id: group.into(),
            assignor,
            auto_offset_reset: OffsetReset::Earliest,
            enable_auto_commit: commit == CommitMode::Auto,
            auto_commit_interval_ms: Millis(1_000),
            heartbeat_interval_ms: Millis(300),
            session_timeout_ms: Millis(3_000),
            max_poll_interval_ms: Millis(10_000),
            max_poll_records: 50,
            fetch_max_wait_ms: Millis(100),
            request_timeout_ms: Millis(2_000),
            ..ConsumerConfig::default()
        },
        topics: vec![topic.into()],
        start_ms: Millis::ZERO,
        poll_idle_ms: Millis(50),
        processing_ms_per_record: Millis(1),
        commit,
        restart_after_ms: None,
        transform: None,
    }
}

pub fn p(spec: ProducerSpec) -> ClientSpec {
    ClientSpec::Producer(spec)
}

pub fn c(spec: ConsumerSpec) -> ClientSpec {
    ClientSpec::Consumer(spec)
}

pub fn count(anomalies: &[Anomaly], kind: AnomalyKind) -> i64 {
    anomalies.iter().filter(|a| a.kind == kind).count() as i64
}

/// Acknowledged values.
pub fn acknowledged(sim: &Simulation) -> BTreeSet<&str> {
    sim.history()
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Ack { value, .. } => Some(value.as_str()),
            _ => None,
        })
        .collect()
}

/// How many times each value was processed, over every consumer life.
pub fn processed_counts(sim: &Simulation) -> BTreeMap<&str, i64> {
    let mut counts = BTreeMap::new();
    for op in &sim.history().ops {
        if let Op::Process { value, .. } = op {
            *counts.entry(value.as_str()).or_insert(0) += 1;
        }
    }
    counts
}

/// Partition revocations at or after `from`.
pub fn revocations_since(sim: &Simulation, from: Millis) -> i64 {
    sim.history()
        .ops
        .iter()
        .map(|op| match op {
            Op::Revoke { partitions, at, .. } if *at >= from => partitions.len() as i64,
            _ => 0,
        })
        .sum()
}

/// Producer errors (retries and failures) named `error`.
pub fn producer_errors(sim: &Simulation, error: &str) -> i64 {
    sim.clients
        .iter()
        .map(|c| c.stats.errors.get(error).copied().unwrap_or(0) as i64)
        .sum()
}
