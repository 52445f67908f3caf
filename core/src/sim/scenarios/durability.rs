//! Durability under a leader crash with each `acks` setting, and `min.insync.replicas`.
//!
//! One partition with three replicas; a producer writes every 5 ms; the leader crashes at
//! 600 ms and comes back at 3 s. With acks=0 and acks=1 the leader acknowledges records its
//! followers may not have fetched yet: when a follower takes over without them and the old
//! leader truncates to the new leader's log on its return, those acknowledged writes are gone.
//! With acks=all and `min.insync.replicas=2` nothing is acknowledged before two replicas have
//! it, so the new leader (elected from the ISR) has every acknowledged write.

use super::common::{self, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::broker::ACKS_ALL;
use crate::checker::{Anomaly, AnomalyKind, Op};
use crate::sim::simulation::Simulation;
use crate::sim::spec::{Fault, ScenarioSpec};

const CRASH_MS: Millis = Millis(600);
const RESTART_MS: Millis = Millis(3_000);

pub const ACKS0_LEADER_CRASH: Scenario = Scenario {
    name: "acks0-leader-crash",
    description: "acks=0: fire and forget; the leader crashes with writes its followers never fetched.",
    build: || leader_crash("acks0-leader-crash", 0, false),
    drive: no_samples,
    measure: measure_crash,
};

pub const ACKS1_LEADER_CRASH: Scenario = Scenario {
    name: "acks1-leader-crash",
    description: "acks=1: the leader acknowledges alone, then crashes before its followers fetched.",
    build: || leader_crash("acks1-leader-crash", 1, false),
    drive: no_samples,
    measure: measure_crash,
};

pub const ACKS_ALL_LEADER_CRASH: Scenario = Scenario {
    name: "acks-all-leader-crash",
    description: "acks=all with min.insync.replicas=2 (and the idempotent producer): the crash loses nothing acknowledged.",
    build: || leader_crash("acks-all-leader-crash", ACKS_ALL, true),
    drive: no_samples,
    measure: measure_crash,
};

fn leader_crash(name: &str, acks: i16, idempotent: bool) -> ScenarioSpec {
    let mut spec = ScenarioSpec::new(name);
    let min_isr = if acks == ACKS_ALL { "2" } else { "1" };
    spec.topics.push(common::topic(
        "t",
        1,
        3,
        &[("min.insync.replicas", min_isr)],
    ));
    let mut producer = common::producer("producer", "t", 300, 5, 0, acks);
    producer.config.enable_idempotence = idempotent;
    spec.clients.push(p(producer));
    spec.faults.push((
        CRASH_MS,
        Fault::CrashLeader {
            topic: "t".into(),
            partition: 0,
        },
    ));
    spec.faults.push((RESTART_MS, Fault::RestartCrashed));
    spec.end_ms = Millis(6_000);
    spec
}

fn measure_crash(sim: &mut Simulation, anomalies: &[Anomaly]) -> Fields {
    Fields::from([
        (
            "lost".into(),
            common::count(anomalies, AnomalyKind::LostWrite),
        ),
        (
            "failed".into(),
            sim.clients.iter().map(|c| c.stats.failed as i64).sum(),
        ),
    ])
}

pub const MIN_ISR: Scenario = Scenario {
    name: "min-isr",
    description: "acks=all, min.insync.replicas=2: with one of three replicas stopped writes go on; with two stopped the leader refuses them.",
    build: min_isr,
    drive: no_samples,
    measure: measure_min_isr,
};

/// The first follower stops here; the ISR shrinks once the controller fences it.
const FIRST_DOWN_MS: Millis = Millis(500);
/// The second follower stops here.
const SECOND_DOWN_MS: Millis = Millis(3_000);

fn min_isr() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("min-isr");
    spec.topics
        .push(common::topic("t", 1, 3, &[("min.insync.replicas", "2")]));
    let mut producer = common::producer("producer", "t", 250, 20, 0, ACKS_ALL);
    producer.config.delivery_timeout_ms = Millis(3_000);
    // A batch answered NOT_ENOUGH_REPLICAS_AFTER_APPEND is in the leader's log; its retry is
    // a duplicate unless the producer is idempotent (as Kafka's producers are by default
    // since 3.0). Without idempotence whether the retry lands depends on how soon the
    // followers come back, which is not what this scenario is about.
    producer.config.enable_idempotence = true;
    spec.clients.push(p(producer));
    let follower = || Fault::CrashFollower {
        topic: "t".into(),
        partition: 0,
    };
    spec.faults.push((FIRST_DOWN_MS, follower()));
    spec.faults.push((SECOND_DOWN_MS, follower()));
    spec.faults.push((Millis(5_500), Fault::RestartCrashed));
    spec.end_ms = Millis(9_500);
    spec
}

fn measure_min_isr(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    let rejected = common::producer_errors(sim, "NOT_ENOUGH_REPLICAS")
        + common::producer_errors(sim, "NOT_ENOUGH_REPLICAS_AFTER_APPEND");
    let one_down = FIRST_DOWN_MS..SECOND_DOWN_MS;
    let acknowledged_one_down = sim
        .history()
        .ops
        .iter()
        .filter(|op| matches!(op, Op::Ack { at, .. } if one_down.contains(at)))
        .count();
    Fields::from([
        ("acknowledged_one_down".into(), acknowledged_one_down as i64),
        ("rejected_not_enough_replicas".into(), rejected),
        (
            "failed".into(),
            sim.clients.iter().map(|c| c.stats.failed as i64).sum(),
        ),
    ])
}
