//! The fault schedule of a `partita chaos` run: drawn from the seed before the run starts, so
//! a seed names its faults and their targets (which node a target names, e.g. "the leader of
//! partition 2", is asked of the cluster when the fault starts; the timing of the real
//! processes still varies run to run).

use partita_core::sim::rng::Rng;
use serde::Serialize;

/// The fault kinds `partita chaos` can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL the node; start it again (same data, same ports) after `for_ms`.
    Kill,
    /// SIGSTOP the node; SIGCONT after `for_ms`, longer than replica.lag.time.max.ms and the
    /// broker session timeout, so the node is fenced and dropped from the ISR meanwhile.
    Pause,
    /// Kill the followers of the target's partition, wait until the ISR shrank to the leader
    /// (which goes on acknowledging alone when min.insync.replicas=1), then kill the leader
    /// and restart the followers: the partition has no live ISR member, so it stays offline
    /// until the old leader returns, or, with `unclean.leader.election.enable=true`, an
    /// out-of-sync follower leads and whatever only the old leader had is lost.
    Cascade,
    /// Network partition (root only): the target node can reach no other node, and no other
    /// node it; clients still reach every node. Healed after `for_ms`.
    Isolate,
    /// Network partition (root only): the nodes split into two halves that cannot reach each
    /// other, the target on the smaller side; clients still reach every node.
    Split,
    /// Clock skew (libfaketime preloaded into every node): the target's wall clock steps by
    /// the fault's `skew_s`, forward or backward by seconds to minutes, then steps back
    /// again halfway through (always backward), and returns to the real time when healed.
    /// The core takes all its time (record timestamps and every timeout) from that clock.
    Clock,
}

impl FaultKind {
    /// Parses one `--faults` name; `partition` is `isolate` and `split`.
    pub fn parse(name: &str) -> anyhow::Result<Vec<FaultKind>> {
        match name {
            "kill" => Ok(vec![FaultKind::Kill]),
            "pause" => Ok(vec![FaultKind::Pause]),
            "cascade" => Ok(vec![FaultKind::Cascade]),
            "partition" => Ok(vec![FaultKind::Isolate, FaultKind::Split]),
            "isolate" => Ok(vec![FaultKind::Isolate]),
            "split" => Ok(vec![FaultKind::Split]),
            "clock" => Ok(vec![FaultKind::Clock]),
            other => anyhow::bail!(
                "--faults {other:?}: unknown (kill, pause, cascade, partition, isolate, split, \
                 clock)"
            ),
        }
    }

    /// Its `--faults` name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Cascade => "cascade",
            FaultKind::Isolate => "isolate",
            FaultKind::Split => "split",
            FaultKind::Clock => "clock",
        }
    }

    /// Whether the fault cuts the network (needs root and network namespaces).
    pub fn is_network(self) -> bool {
        matches!(self, FaultKind::Isolate | FaultKind::Split)
    }
}

/// Which nodes faults are aimed at (`--target`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Aim {
    /// Any node, drawn from the seed.
    Any,
    /// The leader of a partition of the test topic (drawn from the seed), as Metadata names it
    /// when the fault starts: the writes it acknowledged last are the ones at risk.
    Leader,
    /// The active controller, as Metadata names it when the fault starts.
    Controller,
}

/// What a fault is aimed at, resolved to a node when it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Node(u32),
    LeaderOf(i32),
    Controller,
}

/// "node 3", "the leader of partition 1", "the active controller".
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Node(n) => write!(f, "node {n}"),
            Target::LeaderOf(p) => write!(f, "the leader of partition {p}"),
            Target::Controller => write!(f, "the active controller"),
        }
    }
}

/// One fault: at `at_ms` after the workload starts, `kind` on `target` for `for_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub at_ms: u64,
    pub kind: FaultKind,
    pub target: Target,
    pub for_ms: u64,
    /// The node the target named when the fault started (filled in by the run; 0 before, or
    /// when nobody could say).
    pub node: u32,
    /// Clock faults: the node's clock offsets from the real time, in seconds, in the order
    /// they are set (at `at_ms`, then at `at_ms + for_ms / 2`, a backward step); empty for
    /// the other kinds. Healing sets 0.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skew_s: Vec<i64>,
}

/// In a cascade, how long the lone leader stays down after the followers came back (the end
/// of the fault's `for_ms`): longer than the broker session timeout, so the controller fences
/// it and elects another leader, or none.
pub const CASCADE_LEADER_DOWN_MS: u64 = 6_000;

/// What the schedule is drawn within.
#[derive(Clone, Debug)]
pub struct ScheduleSpec {
    pub seed: u64,
    pub kinds: Vec<FaultKind>,
    /// Nodes 1..=nodes.
    pub nodes: u32,
    pub aim: Aim,
    /// Partitions of the test topic (for `Aim::Leader`).
    pub partitions: i32,
    /// The workload's length: faults start after 2 s and end (healed) 2 s before it ends.
    pub duration_ms: u64,
    /// replica.lag.time.max.ms of the cluster: pauses last longer than this.
    pub replica_lag_ms: u64,
}

/// One fault at a time, separated by 1 to 3 s of calm: kills last 1 to 5 s, pauses the lag
/// timeout plus 1 to 3 s, cascades that plus [`CASCADE_LEADER_DOWN_MS`], partitions 3 to 10
/// s, clock skews 4 to 10 s (5 s to 5 min either way, then 5 s to 2 min back). Empty when
/// there is no node to fault or no time for one.
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
        let target = match spec.aim {
            Aim::Any => Target::Node(rng.between(1, u64::from(spec.nodes)) as u32),
            Aim::Leader => Target::LeaderOf(rng.below(spec.partitions.max(1) as u64) as i32),
            Aim::Controller => Target::Controller,
        };
        let for_ms = match kind {
            FaultKind::Kill => rng.between(1_000, 5_000),
            FaultKind::Pause => spec.replica_lag_ms + rng.between(1_000, 3_000),
            FaultKind::Cascade => {
                spec.replica_lag_ms + rng.between(1_000, 3_000) + CASCADE_LEADER_DOWN_MS
            }
            FaultKind::Isolate | FaultKind::Split => rng.between(3_000, 10_000),
            FaultKind::Clock => rng.between(4_000, 10_000),
        };
        let skew_s = match kind {
            FaultKind::Clock => {
                let magnitude = rng.between(5, 300) as i64;
                let first = if rng.below(2) == 0 {
                    magnitude
                } else {
                    -magnitude
                };
                vec![first, first - rng.between(5, 120) as i64]
            }
            _ => Vec::new(),
        };
        if at + for_ms > end {
            break;
        }
        faults.push(Fault {
            at_ms: at,
            kind,
            target,
            for_ms,
            node: 0,
            skew_s,
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
            aim: Aim::Any,
            partitions: 3,
            duration_ms: 60_000,
            replica_lag_ms: 5_000,
        }
    }

    #[test]
    fn a_seed_names_its_schedule_one_fault_at_a_time() {
        assert_eq!(draw(&spec(7)), draw(&spec(7)));
        assert_ne!(draw(&spec(7)), draw(&spec(8)));
        let mut faulted = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let faults = draw(&spec(seed));
            assert!(!faults.is_empty());
            let mut free_from = 0;
            for f in &faults {
                let Target::Node(node) = f.target else {
                    panic!("{f:?}")
                };
                assert!((1..=3).contains(&node), "{f:?}");
                faulted.insert(node);
                assert!(f.at_ms >= free_from, "one fault at a time: {faults:?}");
                assert!(f.at_ms + f.for_ms <= 58_000);
                if f.kind == FaultKind::Pause {
                    assert!(f.for_ms > 5_000);
                }
                free_from = f.at_ms + f.for_ms;
            }
        }
        assert_eq!(
            faulted.len(),
            3,
            "node 1 is faulted too: the quorum elects another"
        );
    }

    #[test]
    fn clock_faults_skew_either_way_then_step_back() {
        let mut directions = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let faults = draw(&ScheduleSpec {
                kinds: vec![FaultKind::Clock, FaultKind::Kill],
                ..spec(seed)
            });
            for f in faults {
                if f.kind != FaultKind::Clock {
                    assert!(f.skew_s.is_empty(), "{f:?}");
                    continue;
                }
                let [first, second] = f.skew_s[..] else {
                    panic!("{f:?}")
                };
                assert!((5..=300).contains(&first.abs()), "{f:?}");
                assert!(
                    (5..=120).contains(&(first - second)),
                    "a backward step: {f:?}"
                );
                directions.insert(first > 0);
            }
        }
        assert_eq!(directions.len(), 2, "forward and backward skews");
    }

    #[test]
    fn leader_and_controller_aims_name_their_targets() {
        let leaders = draw(&ScheduleSpec {
            aim: Aim::Leader,
            ..spec(3)
        });
        assert!(
            leaders
                .iter()
                .all(|f| matches!(f.target, Target::LeaderOf(p) if (0..3).contains(&p)))
        );
        let controller = draw(&ScheduleSpec {
            aim: Aim::Controller,
            ..spec(3)
        });
        assert!(controller.iter().all(|f| f.target == Target::Controller));
    }

    #[test]
    fn no_schedule_without_a_node_to_fault() {
        let one = ScheduleSpec {
            nodes: 1,
            ..spec(1)
        };
        assert!(draw(&one).is_empty());
        assert!(FaultKind::parse("clocks").is_err());
        assert_eq!(FaultKind::parse("clock").unwrap(), vec![FaultKind::Clock]);
        assert_eq!(
            FaultKind::parse("partition").unwrap(),
            vec![FaultKind::Isolate, FaultKind::Split]
        );
        assert_eq!(FaultKind::parse("kill").unwrap(), vec![FaultKind::Kill]);
    }
}
