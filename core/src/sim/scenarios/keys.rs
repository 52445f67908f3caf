//! Keyed versus keyless records: two producers write to one topic of three partitions. Every
//! record of a key lands in the partition its hash picks, always the same one, which is what
//! keeps a key's records in order; records without a key are spread over every partition.

use std::collections::{BTreeMap, BTreeSet};

use super::common::{self, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Anomaly, Op};
use crate::sim::simulation::Simulation;
use crate::sim::spec::ScenarioSpec;

pub const KEYED_VS_KEYLESS: Scenario = Scenario {
    name: "keyed-vs-keyless",
    description: "A keyed and a keyless producer on 3 partitions: each key stays in one partition; keyless records spread over all three.",
    build: keyed_vs_keyless,
    drive: no_samples,
    measure: measure_placement,
};

fn keyed_vs_keyless() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("keyed-vs-keyless");
    spec.topics.push(common::topic("orders", 3, 3, &[]));
    spec.clients
        .push(p(common::producer("keyed", "orders", 60, 20, 3, 1)));
    spec.clients
        .push(p(common::producer("keyless", "orders", 60, 20, 0, 1)));
    spec.end_ms = Millis(3_000);
    spec
}

/// The most partitions any one key's records went to (1 when keys keep their partition), and
/// how many partitions the keyless records went to.
fn measure_placement(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let mut key_of: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut partitions_by_key: BTreeMap<&str, BTreeSet<&TopicPartition>> = BTreeMap::new();
    let mut keyless = BTreeSet::new();
    for op in &sim.history().ops {
        match op {
            Op::Send { value, key, .. } => {
                key_of.insert(value, key.as_deref());
            }
            Op::Ack { value, tp, .. } => match key_of.get(value.as_str()).copied().flatten() {
                Some(key) => {
                    partitions_by_key.entry(key).or_default().insert(tp);
                }
                None => {
                    keyless.insert(tp);
                }
            },
            _ => {}
        }
    }
    let per_key_max = partitions_by_key.values().map(BTreeSet::len).max();
    Fields::from([
        ("keys".into(), partitions_by_key.len() as i64),
        (
            "partitions_per_key_max".into(),
            per_key_max.unwrap_or(0) as i64,
        ),
        ("keyless_partitions".into(), keyless.len() as i64),
    ])
}
