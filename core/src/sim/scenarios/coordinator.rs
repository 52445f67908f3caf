//! The group coordinator under a crash. `__consumer_offsets` is a replicated topic like any
//! other; the coordinator of the group is the broker leading its partition. A consumer
//! processes and commits synchronously (at-least-once) while, at 1.5 s, that broker crashes:
//! the controller elects a new leader of the offsets partition from its ISR, the new leader
//! loads the group and its committed offsets from its replica, the consumer finds it
//! (FindCoordinator) and goes on from the committed offsets. The crashed broker restarts at
//! 4 s. Nothing acknowledged is skipped; what is processed again is at most what was in
//! flight between a commit and the crash.

use super::common::{self, c, p};
use super::{Fields, Scenario};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::broker::ACKS_ALL;
use crate::checker::Anomaly;
use crate::group::{OFFSETS_TOPIC, offsets_partition};
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, Fault, ScenarioSpec};

const GROUP: &str = "order-processor";
const CRASH_MS: u64 = 1_500;
const MESSAGES: u64 = 200;

pub const COORDINATOR_FAILOVER: Scenario = Scenario {
    name: "coordinator-failover",
    description: "The broker leading the group's __consumer_offsets partition crashes: a new leader loads the group and its committed offsets, the consumer finds it and goes on.",
    build: coordinator_failover,
    drive: before_the_crash,
    measure: measure_failover,
};

fn coordinator_failover() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("coordinator-failover");
    spec.topics.push(common::topic("orders", 3, 3, &[]));
    let mut producer = common::producer("producer", "orders", MESSAGES, 10, 6, ACKS_ALL);
    producer.config.enable_idempotence = true;
    spec.clients.push(p(producer));
    let mut consumer = common::consumer(
        "consumer",
        GROUP,
        "orders",
        AssignorKind::Range,
        CommitMode::SyncAfterProcessing,
    );
    consumer.processing_ms_per_record = Millis(5);
    spec.clients.push(c(consumer));
    spec.faults.push((
        Millis(CRASH_MS),
        Fault::CrashCoordinator {
            group: GROUP.into(),
        },
    ));
    spec.faults.push((Millis(4_000), Fault::RestartCrashed));
    spec.end_ms = Millis(12_000);
    spec
}

/// The leader of the group's offsets partition: its coordinator (-1 without one).
fn coordinator(sim: &Simulation) -> i64 {
    let image = sim.image();
    let Some(topic) = image.topic(OFFSETS_TOPIC) else {
        return -1;
    };
    let partition = offsets_partition(GROUP, topic.partitions.len() as i32);
    image
        .partition(OFFSETS_TOPIC, partition as u32)
        .map_or(-1, |p| i64::from(p.leader))
}

/// Who coordinated the group just before the crash.
fn before_the_crash(sim: &mut Simulation) -> Fields {
    sim.run_until(Millis(CRASH_MS - 1));
    Fields::from([("coordinator_before".into(), coordinator(sim))])
}

fn measure_failover(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let processed = common::processed_counts(sim);
    let acknowledged = common::acknowledged(sim);
    let lost = acknowledged
        .iter()
        .filter(|v| !processed.contains_key(*v))
        .count() as i64;
    let reprocessed = processed.values().map(|&n| n - 1).sum::<i64>();
    // The committed offsets, as the coordinator now holding the group answers them, against
    // each partition's high watermark.
    let lag: i64 = sim
        .partitions()
        .iter()
        .map(|tp| {
            let committed = sim
                .group_coordinator(GROUP)
                .and_then(|c| {
                    c.handle_offset_fetch(GROUP, Some(std::slice::from_ref(tp)))
                        .ok()
                })
                .and_then(|offsets| offsets.into_iter().next())
                .and_then(|(_, offset)| offset)
                .map_or(0, |o| o.offset);
            (sim.high_watermark(tp).unwrap_or(0) - committed).max(0)
        })
        .sum();
    Fields::from([
        ("coordinator_after".into(), coordinator(sim)),
        ("processed".into(), processed.len() as i64),
        ("reprocessed".into(), reprocessed),
        ("lost".into(), lost),
        ("lag_final".into(), lag),
    ])
}
