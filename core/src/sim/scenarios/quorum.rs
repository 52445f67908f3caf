//! The controller quorum under a crash. Three controller-only voters; an acks=all producer
//! writes through the crash. At 1 s the active controller (the Raft leader) crashes: the two
//! others elect a new leader, which applies every committed entry before it acts, brokers find
//! it (NOT_CONTROLLER names it, or they try the next voter), and at 5 s an operator creates a
//! topic through it. The crashed voter restarts at 6.5 s from its Raft log and catches up. No
//! metadata is lost: every voter ends with the same image, holding every record committed
//! before the crash.

use super::common::{self, p};
use super::{Fields, Scenario};
use crate::Millis;
use crate::broker::ACKS_ALL;
use crate::checker::Anomaly;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{Fault, ScenarioSpec};

const CRASH_MS: u64 = 1_000;

pub const CONTROLLER_FAILOVER: Scenario = Scenario {
    name: "controller-failover",
    description: "3 controllers in a Raft quorum: the active one crashes, the others elect a new leader, a topic is created through it, nothing committed is lost.",
    build: controller_failover,
    drive: before_the_crash,
    measure: measure_failover,
};

fn controller_failover() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("controller-failover");
    spec.controllers = 3;
    spec.topics.push(common::topic(
        "orders",
        3,
        3,
        &[("min.insync.replicas", "2")],
    ));
    let mut producer = common::producer("producer", "orders", 300, 10, 6, ACKS_ALL);
    producer.config.enable_idempotence = true;
    spec.clients.push(p(producer));
    spec.faults
        .push((Millis(CRASH_MS), Fault::CrashActiveController));
    spec.faults.push((
        Millis(5_000),
        Fault::CreateTopic(common::topic("after-failover", 2, 3, &[])),
    ));
    spec.faults.push((Millis(6_500), Fault::RestartCrashed));
    spec.end_ms = Millis(10_000);
    spec
}

/// The metadata just before the crash, and who was active.
fn before_the_crash(sim: &mut Simulation) -> Fields {
    sim.run_until(Millis(CRASH_MS - 1));
    let controller = sim.snapshot().controller;
    Fields::from([
        (
            "records_before_crash".into(),
            controller.metadata_records as i64,
        ),
        (
            "active_before_crash".into(),
            controller.active.map_or(-1, i64::from),
        ),
    ])
}

fn measure_failover(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let controller = sim.snapshot().controller;
    let active = sim.active_controller().and_then(|c| c.node.as_ref());
    let image = active.map(|n| n.image().clone());
    // Voters whose committed metadata is the active controller's, to the record.
    let in_sync = sim
        .controllers
        .values()
        .filter_map(|c| c.node.as_ref())
        .filter(|n| Some(n.image()) == image.as_ref())
        .count();
    let created = sim
        .image()
        .topic("after-failover")
        .is_some_and(|t| t.partitions.iter().all(|p| p.leader >= 0));
    Fields::from([
        (
            "active_final".into(),
            controller.active.map_or(-1, i64::from),
        ),
        (
            "term_max".into(),
            controller.voters.iter().map(|v| v.term).max().unwrap_or(0) as i64,
        ),
        ("records_final".into(), controller.metadata_records as i64),
        ("voters_in_sync".into(), in_sync as i64),
        ("topics".into(), sim.image().topics().count() as i64),
        ("created_after_failover".into(), i64::from(created)),
    ])
}
