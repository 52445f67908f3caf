//! Consumer lag: one slow consumer falls behind a steady producer, then two more members
//! join and the group drains the backlog. Lag is sampled as `kafka-consumer-groups.sh`
//! computes it: high watermark minus committed offset, summed over partitions.

use super::common::{self, c, p};
use super::{Fields, Scenario};
use crate::Millis;
use crate::assignor::AssignorKind;
use crate::checker::Anomaly;
use crate::sim::simulation::Simulation;
use crate::sim::spec::{CommitMode, ScenarioSpec};

const GROUP: &str = "analytics";
const SAMPLE_EVERY_MS: u64 = 250;

pub const LAG: Scenario = Scenario {
    name: "lag",
    description: "A slow consumer's lag grows; two more members join and it drains to zero.",
    build: lag,
    drive: sample_lag,
    measure: measure_lag,
};

fn lag() -> ScenarioSpec {
    let mut spec = ScenarioSpec::new("lag");
    spec.topics.push(common::topic("clicks", 3, 3, &[]));
    spec.clients
        .push(p(common::producer("producer", "clicks", 400, 10, 0, 1)));
    for i in 0..3 {
        let mut consumer = common::consumer(
            &format!("consumer-{i}"),
            GROUP,
            "clicks",
            AssignorKind::Range,
            CommitMode::Auto,
        );
        // 25 records a second each against 100 produced: one alone falls behind, three keep up.
        consumer.processing_ms_per_record = Millis(40);
        consumer.config.max_poll_records = 10;
        if i > 0 {
            consumer.start_ms = Millis(3_000);
        }
        spec.clients.push(c(consumer));
    }
    spec.end_ms = Millis(20_000);
    spec
}

/// The group's total lag now; partitions without a committed offset count from zero.
fn total_lag(sim: &Simulation) -> i64 {
    sim.partitions()
        .iter()
        .map(|tp| {
            let high_watermark = sim.high_watermark(tp).unwrap_or(0);
            let committed = sim
                .group_coordinator(GROUP)
                .and_then(|c| {
                    c.handle_offset_fetch(GROUP, Some(std::slice::from_ref(tp)))
                        .ok()
                })
                .and_then(|offsets| offsets.into_iter().next())
                .and_then(|(_, offset)| offset)
                .map_or(0, |o| o.offset);
            (high_watermark - committed).max(0)
        })
        .sum()
}

fn sample_lag(sim: &mut Simulation) -> Fields {
    let mut lag_max = 0;
    let mut at = 0;
    while at < sim.spec().end_ms.0 {
        at += SAMPLE_EVERY_MS;
        sim.run_until(Millis(at));
        lag_max = lag_max.max(total_lag(sim));
    }
    Fields::from([("lag_max".into(), lag_max)])
}

fn measure_lag(sim: &mut Simulation, _: &[Anomaly]) -> Fields {
    Fields::from([("lag_final".into(), total_lag(sim))])
}
