//! Replication and the ISR at the size the playground's budget is measured on: 3 brokers, a
//! topic of 12 partitions with three replicas each, a keyed acks=all producer and a group of
//! 3 consumers. Broker 2 crashes: it drops out of the ISR of every partition it held (and
//! leadership moves off it); it restarts, catches up from the leaders, and rejoins every ISR.
//! With acks=all and `min.insync.replicas=2` nothing acknowledged is lost.

use super::common::{self, c, p};
use super::{Fields, Scenario};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::broker::ACKS_ALL;
use crate::checker::Anomaly;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, Fault, ScenarioSpec};

const SAMPLE_EVERY_MS: u64 = 100;

pub const REPLICATION_ISR: Scenario = Scenario {
    name: "replication-isr",
    description: "3 brokers, 12 partitions with 3 replicas, 3 consumers: a broker crashes, leaves every ISR, returns and catches up.",
    build: replication_isr,
    drive: sample_isr,
    measure: measure_isr,
};

fn replication_isr() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("replication-isr");
    spec.topics.push(common::topic(
        "orders",
        12,
        3,
        &[("min.insync.replicas", "2")],
    ));
    let mut producer = common::producer("producer", "orders", 400, 10, 12, ACKS_ALL);
    producer.config.enable_idempotence = true;
    spec.clients.push(p(producer));
    for i in 0..3 {
        spec.clients.push(c(common::consumer(
            &format!("consumer-{i}"),
            "order-processor",
            "orders",
            AssignorKind::CooperativeSticky,
            CommitMode::Auto,
        )));
    }
    spec.faults.push((Millis(1_500), Fault::CrashBroker(2)));
    spec.faults.push((Millis(3_500), Fault::RestartBroker(2)));
    spec.end_ms = Millis(7_000);
    spec
}

/// The smallest ISR any partition had, sampled as the run goes.
fn sample_isr(sim: &mut Simulation) -> Fields {
    let mut isr_min = i64::MAX;
    let mut at = 0;
    while at < sim.spec().end_ms.0 {
        at += SAMPLE_EVERY_MS;
        sim.run_until(Millis(at));
        let smallest = sim.snapshot().partitions.iter().map(|p| p.isr.len()).min();
        isr_min = isr_min.min(smallest.unwrap_or(0) as i64);
    }
    Fields::from([("isr_min".into(), isr_min)])
}

/// Partitions whose ISR is not every replica at the end (0 once broker 2 caught up).
fn measure_isr(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let partitions = sim.snapshot().partitions;
    let under_replicated = partitions
        .iter()
        .filter(|p| p.isr.len() < p.replicas.len())
        .count();
    // The topic's partitions (the group's `__consumer_offsets` partitions are replicated,
    // and counted as under-replicated, like them).
    let topic_partitions = partitions
        .iter()
        .filter(|p| p.tp.topic != crate::group::OFFSETS_TOPIC)
        .count();
    Fields::from([
        ("partitions".into(), topic_partitions as i64),
        ("under_replicated_final".into(), under_replicated as i64),
    ])
}
