//! The idempotent producer: produce responses are lost, the producer times out and sends the
//! same batch again. Without idempotence the broker appends it twice; with it, the broker
//! recognises the producer id and sequence numbers and answers with the original offsets.

use super::common::{self, p};
use super::{Fields, Scenario, no_samples};
use crate::Millis;
use crate::broker::ACKS_ALL;
use crate::checker::{Anomaly, AnomalyKind};
use crate::sim::simulation::Simulation;
use crate::sim::spec::{Fault, ScenarioSpec};

pub const IDEMPOTENCE_OFF: Scenario = Scenario {
    name: "idempotence-off",
    description: "Lost produce responses and retries without idempotence: duplicates in the log.",
    build: || idempotence("idempotence-off", false),
    drive: no_samples,
    measure: measure_duplicates,
};

pub const IDEMPOTENCE_ON: Scenario = Scenario {
    name: "idempotence-on",
    description: "The same with enable.idempotence: every retry is recognised, no duplicates.",
    build: || idempotence("idempotence-on", true),
    drive: no_samples,
    measure: measure_duplicates,
};

fn idempotence(name: &str, enable: bool) -> ScenarioSpec {
    let mut spec = ScenarioSpec::new(name);
    spec.topics.push(common::topic(
        "payments",
        1,
        3,
        &[("min.insync.replicas", "2")],
    ));
    let mut producer = common::producer("producer", "payments", 100, 10, 0, ACKS_ALL);
    producer.config.enable_idempotence = enable;
    producer.config.request_timeout_ms = Millis(300);
    spec.clients.push(p(producer));
    let lose = Fault::LoseMessages {
        prefix: "ProduceResponse".into(),
        per_million: 300_000,
    };
    spec.faults.push((Millis(200), lose));
    spec.faults.push((Millis(1_000), Fault::StopLosingMessages));
    spec.end_ms = Millis(5_000);
    spec
}

fn measure_duplicates(_: &mut Simulation, anomalies: &[Anomaly]) -> Fields {
    Fields::from([(
        "duplicates".into(),
        common::count(anomalies, AnomalyKind::Duplicate),
    )])
}
