//! The test command's short smoke of every fuzz target (issue 17): each target's body
//! (`partita_tests::fuzz`, the same code the cargo-fuzz targets run) on its committed inputs
//! and a fixed number of seeded mutations of them (`partita_tests::fuzz::smoke`). Bounded by
//! count, about a minute in all on a loaded 2-core machine; the printed table is for reading,
//! nothing asserts on time. The default seed is fixed, so a run reproduces;
//! `PARTITA_FUZZ_SMOKE_SEED=S` picks another, `PARTITA_FUZZ_SMOKE_PERCENT=P` runs P% of the
//! mutations (1000: ten times as many) and `PARTITA_FUZZ_SMOKE_ONLY=T` only target T.

use partita_tests::fuzz::smoke::{SmokeRun, smoke};
use partita_tests::fuzz::{TARGETS, committed_inputs};

/// Mutations per target: each about five to fifteen seconds of the release build on a loaded
/// 2-core machine (the table this test prints has the figures).
fn mutations(target: &str) -> u64 {
    match target {
        "request" => 8_000_000,
        "response" => 8_000_000,
        "batch" => 10_000_000,
        "sasl" => 8_000_000,
        "config" => 800_000,
        "log_recovery" => 1_500_000,
        "peer" => 500_000,
        other => panic!("no smoke count for fuzz target {other}"),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn every_fuzz_target_survives_a_seeded_smoke() {
    let percent = env_u64("PARTITA_FUZZ_SMOKE_PERCENT", 100);
    let seed = env_u64("PARTITA_FUZZ_SMOKE_SEED", 0x005e_ed17);
    let mut runs: Vec<SmokeRun> = Vec::new();
    let only = std::env::var("PARTITA_FUZZ_SMOKE_ONLY").ok();
    for &(target, body) in TARGETS {
        if only.as_deref().is_some_and(|only| only != target) {
            continue;
        }
        let seeds: Vec<Vec<u8>> = committed_inputs(target)
            .iter()
            .map(|file| std::fs::read(file).unwrap())
            .collect();
        runs.push(smoke(
            target,
            body,
            &seeds,
            mutations(target) * percent / 100,
            seed,
        ));
    }
    eprintln!(
        "\n{:<14} {:>6} {:>11} {:>9} {:>10}",
        "target", "seeds", "executions", "seconds", "exec/s"
    );
    for run in &runs {
        let seconds = run.elapsed.as_secs_f64();
        eprintln!(
            "{:<14} {:>6} {:>11} {:>9.1} {:>10.0}",
            run.target,
            run.seeds,
            run.executions,
            seconds,
            run.executions as f64 / seconds.max(1e-9)
        );
    }
}
