//! The fault schedule of a `partita chaos` run: drawn from the seed before the run starts, so
//! a seed names its faults (the timing of the real processes still varies run to run).

use partita_core::sim::rng::Rng;
use serde::Serialize;

/// The fault kinds `partita chaos` can inject now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL the node; start it again (same data, same ports) after `for_ms`.
    Kill,
    /// SIGSTOP the node; SIGCONT after `for_ms`, longer than replica.lag.time.max.ms and the
    /// broker session timeout, so the node is fenced and dropped from the ISR meanwhile.
    Pause,
}

impl FaultKind {
    /// Parses `--faults` names; `partition` and `clock` are named but not available yet.
    pub fn parse(name: &str) -> anyhow::Result<FaultKind> {
        match name {
            "kill" => Ok(FaultKind::Kill),
            "pause" => Ok(FaultKind::Pause),
            "partition" | "clock" => anyhow::bail!(
                "--faults {name}: not available yet (network namespaces / clock skew); \
                 kill and pause are"
            ),
            other => anyhow::bail!("--faults {other:?}: unknown (kill, pause)"),
        }
    }
}

/// One fault: at `at_ms` after the workload starts, `kind` on `node` for `for_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub at_ms: u64,
    pub kind: FaultKind,
    pub node: u32,
    pub for_ms: u64,
}

/// What the schedule is drawn within.
#[derive(Clone, Debug)]
pub struct ScheduleSpec {
    pub seed: u64,
    pub kinds: Vec<FaultKind>,
    /// Nodes 1..=nodes; node 1 (the single active controller) is never faulted.
    pub nodes: u32,
    /// The workload's length: faults start after 2 s and end (healed) 2 s before it ends.
    pub duration_ms: u64,
    /// replica.lag.time.max.ms of the cluster: pauses last longer than this.
    pub replica_lag_ms: u64,
}

/// One fault at a time, separated by 1 to 3 s of calm: kills last 1 to 5 s, pauses the lag
/// timeout plus 1 to 3 s. Empty when there is no node to fault or no time for one.
pub fn draw(spec: &ScheduleSpec) -> Vec<Fault> {
    let mut rng = Rng::new(spec.seed);
    let mut faults = Vec::new();
    if spec.nodes < 2 || spec.kinds.is_empty() {
        return faults;
    }
    let end = spec.duration_ms.saturating_sub(2_000);
    let mut at = 2_000;
    loop {
        let kind = spec.kinds[rng.below(spec.kinds.len() as u64) as usize];
        let node = rng.between(2, u64::from(spec.nodes)) as u32;
        let for_ms = match kind {
            FaultKind::Kill => rng.between(1_000, 5_000),
            FaultKind::Pause => spec.replica_lag_ms + rng.between(1_000, 3_000),
        };
        if at + for_ms > end {
            break;
        }
        faults.push(Fault {
            at_ms: at,
            kind,
            node,
            for_ms,
        });
        at += for_ms + rng.between(1_000, 3_000);
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> ScheduleSpec {
        ScheduleSpec {
            seed,
            kinds: vec![FaultKind::Kill, FaultKind::Pause],
            nodes: 3,
            duration_ms: 60_000,
            replica_lag_ms: 5_000,
        }
    }

    #[test]
    fn a_seed_names_its_schedule_and_the_controller_is_spared() {
        assert_eq!(draw(&spec(7)), draw(&spec(7)));
        assert_ne!(draw(&spec(7)), draw(&spec(8)));
        for seed in 0..50 {
            let faults = draw(&spec(seed));
            assert!(!faults.is_empty());
            let mut free_from = 0;
            for f in &faults {
                assert!((2..=3).contains(&f.node), "{f:?}");
                assert!(f.at_ms >= free_from, "one fault at a time: {faults:?}");
                assert!(f.at_ms + f.for_ms <= 58_000);
                if f.kind == FaultKind::Pause {
                    assert!(f.for_ms > 5_000);
                }
                free_from = f.at_ms + f.for_ms;
            }
        }
    }

    #[test]
    fn no_schedule_without_a_node_to_fault() {
        let one = ScheduleSpec {
            nodes: 1,
            ..spec(1)
        };
        assert!(draw(&one).is_empty());
        assert!(FaultKind::parse("partition").is_err());
        assert_eq!(FaultKind::parse("kill").unwrap(), FaultKind::Kill);
    }
}
