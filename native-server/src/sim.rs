//! `partita sim`: the core's simulator from the command line, one seed or a sweep.

use anyhow::{Context, bail};
use partita_core::sim::scenarios::{self, Summary};
use partita_core::sim::sweep::{replay_command, sweep};
use partita_core::sim::{Simulation, scenarios::run_simulation};

use crate::cli::SimArgs;

pub fn run(args: SimArgs) -> anyhow::Result<()> {
    if args.list {
        for scenario in scenarios::SCENARIOS {
            println!("{:<24} {}", scenario.name, scenario.description);
        }
        return Ok(());
    }
    let name = args.scenario.as_deref().context("--scenario is required")?;
    let scenario = scenarios::find(name)
        .with_context(|| format!("unknown scenario {name:?}; `partita sim --list` names them"))?;
    if let Some(seed) = args.seed {
        let mut sim = Simulation::new((scenario.build)(), seed);
        let summary = run_simulation(scenario, &mut sim);
        if args.trace {
            print!("{}", sim.trace().text());
        }
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print_summary(&summary);
        }
        return Ok(());
    }
    let seeds = args
        .seeds
        .clone()
        .context("give --seed S for one run or --seeds A..B for a sweep")?;
    let mut failing = Vec::new();
    let total = sweep(name, seeds, |summary| {
        if args.json {
            println!(
                "{}",
                serde_json::to_string(summary).expect("summaries serialize")
            );
        }
        if !summary.anomalies.is_empty() {
            failing.push(summary.seed);
        }
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&total)?);
    } else {
        println!(
            "scenario {}: {} seeds, {} events, {} acknowledged",
            total.scenario, total.seeds, total.events, total.acknowledged
        );
        if total.seeds_with.is_empty() {
            println!("no anomalies");
        }
        for (kind, count) in &total.seeds_with {
            let examples = total.example_seeds.get(kind).cloned().unwrap_or_default();
            println!("{kind}: {count} seeds (e.g. {examples:?})");
        }
        for seed in failing.iter().take(3) {
            println!("replay: {}", replay_command(name, *seed));
        }
    }
    if total.seeds == 0 {
        bail!("no seeds ran");
    }
    Ok(())
}

fn print_summary(summary: &Summary) {
    println!("scenario {} seed {}", summary.scenario, summary.seed);
    println!(
        "trace hash {} over {} events, {} ms simulated",
        summary.trace_hash, summary.events, summary.sim_time_ms
    );
    println!("acknowledged {}", summary.acknowledged);
    for (field, value) in &summary.fields {
        println!("{field} {value}");
    }
    if summary.anomalies.is_empty() {
        println!("no anomalies");
    }
    for anomaly in &summary.anomalies {
        println!("anomaly {anomaly:?}");
    }
}
