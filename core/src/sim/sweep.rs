//! Seed sweeps: run a scenario over a range of seeds and count anomalies per kind, with the
//! seeds that showed each, so a failure can be replayed (`partita sim --seed S --scenario N`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::scenarios::{self, Summary, UnknownScenario};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    pub scenario: String,
    pub seeds: u64,
    /// Per anomaly kind: how many seeds showed it.
    pub seeds_with: BTreeMap<String, u64>,
    /// Per anomaly kind: the first seeds that showed it (at most [`EXAMPLE_SEEDS_MAX`]).
    pub example_seeds: BTreeMap<String, Vec<u64>>,
    pub acknowledged: u64,
    pub events: u64,
}

pub const EXAMPLE_SEEDS_MAX: usize = 10;

/// Runs `scenario` for every seed in `seeds` and tallies the anomalies. `each` sees every
/// summary as it comes (to print progress, or a replay command for a failure).
pub fn sweep(
    scenario: &str,
    seeds: std::ops::Range<u64>,
    mut each: impl FnMut(&Summary),
) -> Result<SweepSummary, UnknownScenario> {
    let mut out = SweepSummary {
        scenario: scenario.to_string(),
        ..SweepSummary::default()
    };
    for seed in seeds {
        let summary = scenarios::run(scenario, seed)?;
        each(&summary);
        out.seeds += 1;
        out.acknowledged += summary.acknowledged;
        out.events += summary.events;
        let mut kinds: Vec<&'static str> =
            summary.anomalies.iter().map(|a| a.kind.name()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            *out.seeds_with.entry(kind.to_string()).or_insert(0) += 1;
            let examples = out.example_seeds.entry(kind.to_string()).or_default();
            if examples.len() < EXAMPLE_SEEDS_MAX {
                examples.push(seed);
            }
        }
    }
    Ok(out)
}

/// The command that replays one run.
pub fn replay_command(scenario: &str, seed: u64) -> String {
    format!("partita sim --seed {seed} --scenario {scenario} --json")
}
