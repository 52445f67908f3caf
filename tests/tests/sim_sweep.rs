//! Every named scenario of the simulator over 200 seeds, against the outcome the seed article
//! predicts: acks=1 loses acknowledged writes under a leader crash in some seeds, acks=all with
//! min.insync.replicas=2 in none, and so on. A failing seed prints the command that replays it.

use partita_core::sim::scenarios::{self, Summary};
use partita_core::sim::sweep::replay_command;

const SEEDS: std::ops::Range<u64> = 0..200;

fn field(summary: &Summary, name: &str) -> i64 {
    *summary
        .fields
        .get(name)
        .unwrap_or_else(|| panic!("{} reports no {name}", summary.scenario))
}

fn has(summary: &Summary, kind: &str) -> bool {
    summary.anomalies.iter().any(|a| a.kind.name() == kind)
}

fn clean(summary: &Summary) -> bool {
    summary.anomalies.is_empty()
}

/// What must hold in every seed of a scenario.
fn holds_in_every_seed(summary: &Summary) -> bool {
    match summary.scenario.as_str() {
        "keyed-ordering" => clean(summary) && field(summary, "out_of_order_keys") == 0,
        "partition-parallelism" => clean(summary) && field(summary, "idle_consumers") == 1,
        // Lost writes are allowed (that is the point); nothing else is.
        "acks0-leader-crash" | "acks1-leader-crash" => summary
            .anomalies
            .iter()
            .all(|a| matches!(a.kind.name(), "lost-write" | "duplicate")),
        "acks-all-leader-crash" => clean(summary) && summary.acknowledged > 0,
        "min-isr" => clean(summary) && field(summary, "rejected_not_enough_replicas") > 0,
        "rebalance-eager" => clean(summary) && field(summary, "revoked") == 6,
        "rebalance-cooperative" => clean(summary) && field(summary, "revoked") == 2,
        "at-least-once" => {
            clean(summary) && field(summary, "redelivered") > 0 && field(summary, "lost") == 0
        }
        "at-most-once" => field(summary, "lost") > 0,
        "idempotence-off" => true,
        "idempotence-on" => clean(summary) && field(summary, "duplicates") == 0,
        "lag" => {
            clean(summary) && field(summary, "lag_max") > 0 && field(summary, "lag_final") == 0
        }
        other => panic!("no expectation written for scenario {other}"),
    }
}

/// What must show in at least one seed of a scenario (faults that only sometimes bite).
fn shows_in_some_seed(scenario: &str) -> Option<&'static str> {
    match scenario {
        "acks0-leader-crash" | "acks1-leader-crash" => Some("lost-write"),
        "idempotence-off" => Some("duplicate"),
        _ => None,
    }
}

#[test]
fn every_scenario_over_200_seeds_has_its_known_outcome() {
    let mut failures = Vec::new();
    for name in scenarios::names() {
        let mut shown = false;
        for seed in SEEDS {
            let summary = scenarios::run(name, seed).expect("a listed scenario runs");
            assert_eq!(summary.seed, seed);
            if !holds_in_every_seed(&summary) {
                failures.push(format!(
                    "{name} seed {seed}: anomalies {:?}, fields {:?}\n  replay: {}",
                    summary
                        .anomalies
                        .iter()
                        .map(|a| a.kind.name())
                        .collect::<Vec<_>>(),
                    summary.fields,
                    replay_command(name, seed)
                ));
            }
            shown |= shows_in_some_seed(name).is_some_and(|kind| has(&summary, kind));
        }
        if let Some(kind) = shows_in_some_seed(name)
            && !shown
        {
            failures.push(format!("{name}: no seed in {SEEDS:?} showed {kind}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    for name in ["acks1-leader-crash", "rebalance-cooperative"] {
        let a = scenarios::run(name, 42).unwrap();
        let b = scenarios::run(name, 42).unwrap();
        assert_eq!(a.trace_hash, b.trace_hash, "{name}");
        assert_eq!(a.events, b.events, "{name}");
        assert_ne!(
            a.trace_hash,
            scenarios::run(name, 43).unwrap().trace_hash,
            "{name}: seeds differ"
        );
    }
}
