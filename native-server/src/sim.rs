//! `partita sim`: the core's simulator from the command line, one seed or a sweep.

use std::io::Write;

use anyhow::{Context, bail};
use partita_core::sim::scenarios::{self, Summary};
use partita_core::sim::sweep::{replay_command, sweep};
use partita_core::sim::{Simulation, scenarios::run_simulation};

use crate::cli::SimArgs;

/// Runs the command. A reader that closes the pipe early (`partita sim --trace | head`) ends
/// the run quietly, as Unix tools do, instead of a panic in `println!`.
pub fn run(args: SimArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match write_run(&args, &mut out).and_then(|()| Ok(out.flush()?)) {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn write_run(args: &SimArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if args.list {
        for scenario in scenarios::SCENARIOS {
            writeln!(out, "{:<24} {}", scenario.name, scenario.description)?;
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
            write!(out, "{}", sim.trace().text())?;
        }
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&summary)?)?;
        } else {
            write_summary(out, scenario.description, &summary)?;
        }
        return Ok(());
    }
    let seeds = args
        .seeds
        .clone()
        .context("give --seed S for one run or --seeds A..B for a sweep")?;
    let mut failing = Vec::new();
    let mut written = Ok(());
    let total = sweep(name, seeds, |summary| {
        if args.json && written.is_ok() {
            written = writeln!(
                out,
                "{}",
                serde_json::to_string(summary).expect("summaries serialize")
            );
        }
        if !summary.anomalies.is_empty() {
            failing.push(summary.seed);
        }
    })?;
    written?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&total)?)?;
    } else {
        writeln!(
            out,
            "scenario {}: {} seeds, {} events, {} acknowledged",
            total.scenario, total.seeds, total.events, total.acknowledged
        )?;
        if total.seeds_with.is_empty() {
            writeln!(out, "no anomalies")?;
        }
        for (kind, count) in &total.seeds_with {
            let examples = total.example_seeds.get(kind).cloned().unwrap_or_default();
            writeln!(out, "{kind}: {count} seeds (e.g. {examples:?})")?;
        }
        for seed in failing.iter().take(3) {
            writeln!(out, "replay: {}", replay_command(name, *seed))?;
        }
    }
    if total.seeds == 0 {
        bail!("no seeds ran");
    }
    Ok(())
}

/// One run's summary. The anomalies are what the checker finds in the history (acknowledged
/// writes lost or duplicated, reads out of order, ...); a scenario's own figures (`lost` of
/// at-most-once counts records never processed) are judged by its expectation, printed last.
fn write_summary(
    out: &mut impl Write,
    description: &str,
    summary: &Summary,
) -> std::io::Result<()> {
    writeln!(out, "scenario {} seed {}", summary.scenario, summary.seed)?;
    writeln!(out, "{description}")?;
    writeln!(
        out,
        "trace hash {} over {} events, {} ms simulated",
        summary.trace_hash, summary.events, summary.sim_time_ms
    )?;
    writeln!(out, "acknowledged {}", summary.acknowledged)?;
    for (field, value) in &summary.fields {
        writeln!(out, "{field} {value}")?;
    }
    if summary.anomalies.is_empty() {
        writeln!(out, "no anomalies")?;
    }
    for anomaly in &summary.anomalies {
        writeln!(out, "anomaly {anomaly}")?;
    }
    let verdict = if scenarios::expectations::holds_in_every_seed(summary) {
        "holds"
    } else {
        "does not hold"
    };
    writeln!(
        out,
        "the scenario's expectation (`partita sim --list`, README) {verdict}"
    )?;
    Ok(())
}
