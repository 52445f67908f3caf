//! Delivery semantics: a consumer application crashes between processing and committing.
//!
//! At-least-once (process, then commit): the records processed but not committed are read
//! again by the next owner, so some are processed twice and none is skipped. At-most-once
//! (commit, then process): the records committed but not processed are skipped by the next
//! owner, so some are never processed.

use super::common::{self, c, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::checker::Anomaly;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, CrashPoint, Fault, ScenarioSpec};

pub const AT_LEAST_ONCE: Scenario = Scenario {
    name: "at-least-once",
    description: "Process, then commit; the consumer crashes in between and its records are redelivered.",
    build: || {
        delivery(
            "at-least-once",
            CommitMode::SyncAfterProcessing,
            CrashPoint::AfterProcessingBeforeCommit,
        )
    },
    drive: no_samples,
    measure: measure_delivery,
};

pub const AT_MOST_ONCE: Scenario = Scenario {
    name: "at-most-once",
    description: "Commit, then process; the consumer crashes in between and its records are never processed.",
    build: || {
        delivery(
            "at-most-once",
            CommitMode::SyncBeforeProcessing,
            CrashPoint::AfterCommitBeforeProcessing,
        )
    },
    drive: no_samples,
    measure: measure_delivery,
};

fn delivery(name: &str, commit: CommitMode, crash: CrashPoint) -> ScenarioSpec {
    let mut spec = ScenarioSpec::new(name);
    spec.topics.push(common::topic("orders", 1, 3, &[]));
    spec.clients
        .push(p(common::producer("producer", "orders", 100, 20, 0, -1)));
    let mut consumer = common::consumer(
        "consumer",
        "order-processor",
        "orders",
        AssignorKind::Range,
        commit,
    );
    consumer.processing_ms_per_record = Millis(5);
    consumer.restart_after_ms = Some(Millis(500));
    spec.clients.push(c(consumer));
    spec.faults.push((
        Millis(1_200),
        Fault::CrashClient {
            client: 1,
            at: crash,
        },
    ));
    spec.end_ms = Millis(12_000);
    spec
}

fn measure_delivery(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let processed = common::processed_counts(sim);
    let acknowledged = common::acknowledged(sim);
    let redelivered = processed.values().filter(|&&n| n > 1).count() as i64;
    let lost = acknowledged
        .iter()
        .filter(|v| !processed.contains_key(*v))
        .count() as i64;
    Fields::from([
        ("processed".into(), processed.len() as i64),
        ("redelivered".into(), redelivered),
        ("lost".into(), lost),
    ])
}
