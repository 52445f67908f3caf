//! Ordering and parallelism in consumer groups, and the two rebalance protocols.

use super::common::{self, c, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::checker::{Anomaly, Op};
use crate::sim::client_node::Running;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, ScenarioSpec};

const KEYS: u32 = 6;

pub const KEYED_ORDERING: Scenario = Scenario {
    name: "keyed-ordering",
    description: "Keyed messages over 3 partitions and one consumer: each key's records arrive in the order they were sent.",
    build: keyed_ordering,
    drive: no_samples,
    measure: measure_ordering,
};

fn keyed_ordering() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("keyed-ordering");
    spec.topics.push(common::topic("orders", 3, 3, &[]));
    spec.clients
        .push(p(common::producer("producer", "orders", 90, 10, KEYS, 1)));
    spec.clients.push(c(common::consumer(
        "consumer",
        "order-processor",
        "orders",
        AssignorKind::Range,
        CommitMode::Auto,
    )));
    spec.end_ms = Millis(5_000);
    spec
}

/// Keys whose records were processed out of send order, and how many partitions carried
/// records. A value `producer-n` was the n-th send, with key `n % KEYS`.
fn measure_ordering(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let mut last_by_key = std::collections::BTreeMap::new();
    let mut out_of_order = std::collections::BTreeSet::new();
    let mut partitions = std::collections::BTreeSet::new();
    let mut processed = 0;
    for op in &sim.history().ops {
        let Op::Process { value, tp, .. } = op else {
            continue;
        };
        let Some(n) = value.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        let key = n % u64::from(KEYS);
        if let Some(previous) = last_by_key.insert(key, n)
            && previous >= n
        {
            out_of_order.insert(key);
        }
        partitions.insert(tp.clone());
        processed += 1;
    }
    Fields::from([
        ("keys".into(), i64::from(KEYS)),
        ("processed".into(), processed),
        ("out_of_order_keys".into(), out_of_order.len() as i64),
        ("partitions_used".into(), partitions.len() as i64),
    ])
}

pub const PARTITION_PARALLELISM: Scenario = Scenario {
    name: "partition-parallelism",
    description: "Four consumers in one group over three partitions: one of them gets nothing.",
    build: partition_parallelism,
    drive: no_samples,
    measure: measure_parallelism,
};

fn partition_parallelism() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("partition-parallelism");
    spec.topics.push(common::topic("events", 3, 3, &[]));
    spec.clients
        .push(p(common::producer("producer", "events", 60, 20, 0, 1)));
    for i in 0..4 {
        let name = format!("consumer-{i}");
        spec.clients.push(c(common::consumer(
            &name,
            "workers",
            "events",
            AssignorKind::Range,
            CommitMode::Auto,
        )));
    }
    spec.end_ms = Millis(5_000);
    spec
}

fn measure_parallelism(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let consumers: Vec<usize> = sim
        .clients
        .iter()
        .filter_map(|client| match &client.running {
            Some(Running::Consumer(c)) => Some(c.consumer.assignment().len()),
            _ => None,
        })
        .collect();
    Fields::from([
        ("consumers".into(), consumers.len() as i64),
        ("partitions".into(), 3),
        (
            "idle_consumers".into(),
            consumers.iter().filter(|&&n| n == 0).count() as i64,
        ),
    ])
}

/// When the third member starts in the rebalance scenarios.
const THIRD_JOINS_MS: Millis = Millis(3_000);

pub const REBALANCE_EAGER: Scenario = Scenario {
    name: "rebalance-eager",
    description: "Six partitions, two members, a third joins: under range every member revokes everything first.",
    build: || rebalance("rebalance-eager", AssignorKind::Range),
    drive: no_samples,
    measure: measure_rebalance,
};

pub const REBALANCE_COOPERATIVE: Scenario = Scenario {
    name: "rebalance-cooperative",
    description: "The same under cooperative-sticky: only the two partitions that move are revoked, in two phases.",
    build: || rebalance("rebalance-cooperative", AssignorKind::CooperativeSticky),
    drive: no_samples,
    measure: measure_rebalance,
};

fn rebalance(name: &str, assignor: AssignorKind) -> ScenarioSpec {
    let mut spec = ScenarioSpec::new(name);
    spec.topics.push(common::topic("orders", 6, 3, &[]));
    spec.clients
        .push(p(common::producer("producer", "orders", 200, 25, 0, 1)));
    for i in 0..3 {
        let mut consumer = common::consumer(
            &format!("consumer-{i}"),
            "order-processor",
            "orders",
            assignor,
            CommitMode::Auto,
        );
        if i == 2 {
            consumer.start_ms = THIRD_JOINS_MS;
        }
        spec.clients.push(c(consumer));
    }
    spec.end_ms = Millis(8_000);
    spec
}

fn measure_rebalance(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let owned: Vec<i64> = sim
        .clients
        .iter()
        .filter_map(|client| match &client.running {
            Some(Running::Consumer(c)) => Some(c.consumer.assignment().len() as i64),
            _ => None,
        })
        .collect();
    Fields::from([
        ("partitions".into(), 6),
        (
            "revoked".into(),
            common::revocations_since(sim, THIRD_JOINS_MS),
        ),
        ("owned_min".into(), owned.iter().copied().min().unwrap_or(0)),
        ("owned_max".into(), owned.iter().copied().max().unwrap_or(0)),
    ])
}
