//! The named scenarios, shared by `partita sim` and the playground's tours. Each is a small
//! builder of a [`ScenarioSpec`] plus what it measures; [`run`] plays one for a seed and
//! returns a [`Summary`] that serializes to the JSON `partita sim --json` prints.
//!
//! | scenario | what happens | what its summary shows |
//! |---|---|---|
//! | `keyed-ordering` | keyed messages over 3 partitions, one consumer | no anomalies, `out_of_order_keys` = 0 |
//! | `keyed-vs-keyless` | a keyed and a keyless producer on 3 partitions | `partitions_per_key_max` = 1, `keyless_partitions` = 3 |
//! | `partition-parallelism` | 4 consumers in a group, 3 partitions | `idle_consumers` = 1 |
//! | `acks0-leader-crash`, `acks1-leader-crash` | RF 3, the leader crashes holding unreplicated writes | `lost-write` in some seeds |
//! | `acks-all-leader-crash` | the same with acks=all, `min.insync.replicas=2` | no anomalies, `acknowledged` > 0 |
//! | `replication-isr` | 3 brokers, 12 partitions, 3 consumers; a broker crashes and returns | `isr_min` = 2, `under_replicated_final` = 0, no anomalies |
//! | `min-isr` | one, then two of three replicas stop, acks=all, idempotent | `acknowledged_one_down` > 0, `rejected_not_enough_replicas` > 0, no anomalies |
//! | `rebalance-eager`, `rebalance-cooperative` | 6 partitions, 2 members, a third joins | `revoked` = 6 and = 2 |
//! | `at-least-once`, `at-most-once` | a consumer crashes between processing and committing | `redelivered` > 0 with `lost` = 0; `lost` > 0 |
//! | `idempotence-off`, `idempotence-on` | produce responses are lost and the producer retries | `duplicates` > 0; `duplicates` = 0 |
//! | `lag` | a slow consumer, then more members join | `lag_max` > 0, `lag_final` = 0 |
//! | `controller-failover` | 3 controllers; the active one crashes, a topic is created after, it returns | a new active controller, `voters_in_sync` = 3, `records_final` ≥ `records_before_crash`, `created_after_failover` = 1, no anomalies |
//! | `transactions` | a transactional producer aborts every third of 15 transactions; a read_committed and a read_uncommitted consumer | no anomalies, `read_committed_saw_aborted` = 0, `read_uncommitted_saw_aborted` = `aborted_records` = 20 |
//! | `exactly-once` | consume-transform-produce in transactions (offsets committed in them) crashes mid-transaction and restarts | no anomalies, `outputs_missing` = 0, `ctp_duplicates` = 0, `aborted_outputs` > 0 |
//! | `at-least-once-ctp` | the same producing idempotently, then committing offsets | only `ctp-duplicate`, `outputs_missing` = 0 |
//! | `zombie-fenced` | a transactional producer pauses; a new instance with its `transactional.id` fences it | no anomalies, `zombie_fenced` = 1, `successor_committed` = 8 |
//! | `txn-coordinator-crash` | three brokers; the transaction coordinator crashes with a commit prepared and its markers lost | no anomalies, a new coordinator, `committed_transactions` = 10, `reader_polled` = 60 |
//! | `compaction` | six keys overwritten 300 times with tombstones on a compacted topic with small segments; a late consumer | no anomalies, `records_left` well below `records_produced`, `tombstones_removed` > 0, `consumer_offset_gaps` > 0 |

mod common;
mod compaction;
mod coordinator;
mod delivery;
mod durability;
pub mod expectations;
mod groups;
mod idempotence;
mod keys;
mod lag;
mod quorum;
mod replication;
mod transactions;

use std::collections::BTreeMap;

use serde::Serialize;

/// Clients and topics with the scenarios' settings, for clients and topics added at run time
/// (the playground's forms).
pub use common::{consumer, producer, topic};

use super::simulation::Simulation;
use super::spec::ScenarioSpec;
use crate::checker::Anomaly;

/// A scenario's own measurements, by name (they become top-level JSON fields).
pub type Fields = BTreeMap<String, i64>;

/// One named scenario: how to build it and what to measure once it ran.
pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    pub build: fn() -> ScenarioSpec,
    /// Runs the simulation to its end (sampling on the way if it needs to) and measures.
    pub measure: fn(&mut Simulation, &[Anomaly]) -> Fields,
    /// Runs the simulation to the spec's end time; most scenarios need nothing else.
    pub drive: fn(&mut Simulation) -> Fields,
}

/// Every named scenario, in the order the playground lists them.
pub const SCENARIOS: &[Scenario] = &[
    groups::KEYED_ORDERING,
    keys::KEYED_VS_KEYLESS,
    groups::PARTITION_PARALLELISM,
    replication::REPLICATION_ISR,
    durability::ACKS0_LEADER_CRASH,
    durability::ACKS1_LEADER_CRASH,
    durability::ACKS_ALL_LEADER_CRASH,
    durability::MIN_ISR,
    groups::REBALANCE_EAGER,
    groups::REBALANCE_COOPERATIVE,
    delivery::AT_LEAST_ONCE,
    delivery::AT_MOST_ONCE,
    transactions::AT_LEAST_ONCE_CTP,
    transactions::EXACTLY_ONCE,
    idempotence::IDEMPOTENCE_OFF,
    idempotence::IDEMPOTENCE_ON,
    transactions::TRANSACTIONS,
    transactions::ZOMBIE_FENCED,
    transactions::TXN_COORDINATOR_CRASH,
    lag::LAG,
    quorum::CONTROLLER_FAILOVER,
    coordinator::COORDINATOR_FAILOVER,
    compaction::COMPACTION,
];

/// The names of every scenario.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The spec of a named scenario, to run step by step (the playground).
pub fn spec(name: &str) -> Option<ScenarioSpec> {
    find(name).map(|s| (s.build)())
}

/// What a run of a scenario shows: the fields `partita sim --json` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// FNV-1a of the trace text, as 16 hex digits (a string: JSON numbers lose 64-bit values).
    pub trace_hash: String,
    pub events: u64,
    pub sim_time_ms: u64,
    /// Sends the producers were told succeeded.
    pub acknowledged: u64,
    pub anomalies: Vec<Anomaly>,
    #[serde(flatten)]
    pub fields: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?}")]
pub struct UnknownScenario(pub String);

/// Runs the scenario `name` with `seed` to its end and checks it.
pub fn run(name: &str, seed: u64) -> Result<Summary, UnknownScenario> {
    let scenario = find(name).ok_or_else(|| UnknownScenario(name.to_string()))?;
    let mut sim = Simulation::new((scenario.build)(), seed);
    Ok(run_simulation(scenario, &mut sim))
}

/// Drives an already built simulation of `scenario` (perhaps stepped partway by the
/// playground) to its end and summarizes it.
pub fn run_simulation(scenario: &Scenario, sim: &mut Simulation) -> Summary {
    let mut fields = (scenario.drive)(sim);
    let anomalies = sim.run_to_end();
    fields.extend((scenario.measure)(sim, &anomalies));
    let acknowledged = sim.clients.iter().map(|c| c.stats.acknowledged).sum();
    Summary {
        scenario: scenario.name.to_string(),
        seed: sim.seed(),
        trace_hash: format!("{:016x}", sim.trace_hash()),
        events: sim.events(),
        sim_time_ms: sim.now().0,
        acknowledged,
        anomalies,
        fields,
    }
}

/// The default drive: nothing to sample on the way.
fn no_samples(_: &mut Simulation) -> Fields {
    Fields::new()
}

#[cfg(test)]
mod tests;
