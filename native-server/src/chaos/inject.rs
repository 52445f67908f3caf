//! Runs a fault schedule against the nodes of a `partita chaos` run: resolves each fault's
//! target with Metadata when it starts, injects it (SIGKILL + restart, SIGSTOP/SIGCONT,
//! blackhole routes between network namespaces, a skewed wall clock), undoes it when its time is up, and heals
//! everything at the end.

use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::clock::SkewedClock;
use super::metadata::{self, View};
use super::netns::Net;
use super::schedule::{CASCADE_LEADER_DOWN_MS, Fault, FaultKind, Target};
use crate::cluster::{Member, NodeSpec};

/// The running nodes of a run and how to start them again.
pub struct Nodes<'a> {
    pub specs: &'a [NodeSpec],
    /// By node id - 1; `None` while killed.
    pub members: Vec<Option<Member>>,
    pub net: Option<Net>,
    /// By node id - 1, with `--faults clock` (else empty).
    pub clocks: Vec<SkewedClock>,
    pub topic: &'a str,
}

impl Nodes<'_> {
    /// Runs `faults` on the wall clock from `started`, one at a time; each fault's `node` is
    /// set to the node its target named (0 when nobody could say; the fault is skipped).
    pub fn inject(&mut self, faults: &mut [Fault], started: Instant) -> anyhow::Result<()> {
        let sleep_until = |at_ms: u64| {
            let at = started + Duration::from_millis(at_ms);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
        };
        for fault in faults.iter_mut() {
            sleep_until(fault.at_ms);
            let view = metadata::ask(&self.addrs(), self.topic);
            let Some(node) = resolve(fault.target, view.as_ref(), self.specs.len() as u32) else {
                eprintln!(
                    "partita chaos: {} at {} ms: nobody names {}; skipped",
                    fault.kind.name(),
                    fault.at_ms,
                    fault.target
                );
                continue;
            };
            fault.node = node;
            eprintln!(
                "partita chaos: {} node {node} ({}) for {} ms",
                fault.kind.name(),
                fault.target,
                fault.for_ms
            );
            match fault.kind {
                FaultKind::Kill => {
                    self.kill(node);
                    sleep_until(fault.at_ms + fault.for_ms);
                    self.start(node)?;
                }
                FaultKind::Pause => {
                    self.signal(node, Signal::STOP);
                    sleep_until(fault.at_ms + fault.for_ms);
                    self.signal(node, Signal::CONT);
                }
                FaultKind::Cascade => {
                    let nodes = self.specs.len() as u32;
                    let followers = followers_of(fault.target, view.as_ref(), node, nodes);
                    for &f in &followers {
                        self.kill(f);
                    }
                    let leader_down = fault.at_ms + fault.for_ms - CASCADE_LEADER_DOWN_MS;
                    sleep_until(leader_down);
                    self.kill(node);
                    for &f in &followers {
                        self.start(f)?;
                    }
                    sleep_until(fault.at_ms + fault.for_ms);
                    self.start(node)?;
                }
                FaultKind::Isolate | FaultKind::Split => {
                    let side = side_of(fault.kind, node, self.specs.len() as u32);
                    let net = self.net.as_mut().expect("network faults run in namespaces");
                    net.cut_off(&side)?;
                    sleep_until(fault.at_ms + fault.for_ms);
                    net.heal()?;
                }
                FaultKind::Clock => {
                    let clock = self.clocks.get(node as usize - 1);
                    let clock = clock.expect("clock faults run with libfaketime");
                    let halfway = fault.at_ms + fault.for_ms / 2;
                    let steps = [(fault.at_ms, fault.skew_s[0]), (halfway, fault.skew_s[1])];
                    for (at_ms, offset_s) in steps {
                        sleep_until(at_ms);
                        eprintln!("partita chaos: node {node}'s clock {offset_s:+} s");
                        clock.set(offset_s)?;
                    }
                    sleep_until(fault.at_ms + fault.for_ms);
                    clock.set(0)?;
                }
            }
        }
        Ok(())
    }

    /// Every node running and reachable, none paused, every clock at the real time: restarts
    /// the ones that are gone.
    pub fn heal(&mut self) -> anyhow::Result<()> {
        if let Some(net) = self.net.as_mut() {
            net.heal()?;
        }
        for clock in &self.clocks {
            clock.set(0)?;
        }
        for node in 1..=self.specs.len() as u32 {
            let alive = match &mut self.members[node as usize - 1] {
                Some(m) => matches!(m.child.try_wait(), Ok(None)),
                None => false,
            };
            if alive {
                self.signal(node, Signal::CONT);
            } else {
                self.start(node)?;
            }
        }
        Ok(())
    }

    /// The Kafka listeners, host:port, in node order.
    pub fn addrs(&self) -> Vec<String> {
        self.specs
            .iter()
            .map(|s| format!("{}:{}", s.host, s.kafka_port))
            .collect()
    }

    fn kill(&mut self, node: u32) {
        if let Some(mut m) = self.members[node as usize - 1].take() {
            let _ = m.child.kill();
            let _ = m.child.wait();
        }
    }

    fn start(&mut self, node: u32) -> anyhow::Result<()> {
        let index = node as usize - 1;
        if self.members[index].is_none() {
            self.members[index] = Some(self.specs[index].spawn()?);
        }
        Ok(())
    }

    pub fn signal(&self, node: u32, signal: Signal) {
        if let Some(member) = &self.members[node as usize - 1] {
            send(member, signal);
        }
    }
}

pub fn send(member: &Member, signal: Signal) {
    if let Some(pid) = Pid::from_raw(member.child.id() as i32) {
        let _ = kill_process(pid, signal);
    }
}

/// The node a target names now.
fn resolve(target: Target, view: Option<&View>, nodes: u32) -> Option<u32> {
    let node = match target {
        Target::Node(node) => return Some(node),
        Target::Controller => view?.controller,
        Target::LeaderOf(p) => view?.partitions.get(p as usize)?.leader,
    };
    (1..=nodes as i32).contains(&node).then_some(node as u32)
}

/// The other replicas of the target's partition (for another target, or when Metadata did not
/// say: every other node of `nodes`).
fn followers_of(target: Target, view: Option<&View>, leader: u32, nodes: u32) -> Vec<u32> {
    let replicas: Vec<u32> = match (target, view) {
        (Target::LeaderOf(p), Some(view)) => view
            .partitions
            .get(p as usize)
            .map(|p| p.replicas.iter().map(|&r| r as u32).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let replicas = if replicas.is_empty() {
        (1..=nodes).collect()
    } else {
        replicas
    };
    replicas.into_iter().filter(|&r| r != leader).collect()
}

/// The side cut off: the node alone (isolate), or it and the nodes after it up to the
/// smaller half (split: 2 of 5, 1 of 3, 2 of 4).
fn side_of(kind: FaultKind, node: u32, nodes: u32) -> Vec<u32> {
    let size = match kind {
        FaultKind::Split => (nodes / 2).max(1),
        _ => 1,
    };
    (0..size).map(|i| (node - 1 + i) % nodes + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::metadata::PartitionView;

    fn view() -> View {
        View {
            controller: 2,
            partitions: vec![
                PartitionView {
                    leader: 3,
                    replicas: vec![3, 1, 2],
                    isr: vec![3, 1, 2],
                },
                PartitionView {
                    leader: -1,
                    replicas: vec![1, 2],
                    isr: vec![1],
                },
            ],
        }
    }

    #[test]
    fn targets_resolve_to_what_metadata_names() {
        let v = view();
        assert_eq!(resolve(Target::Controller, Some(&v), 3), Some(2));
        assert_eq!(resolve(Target::LeaderOf(0), Some(&v), 3), Some(3));
        assert_eq!(resolve(Target::LeaderOf(1), Some(&v), 3), None);
        assert_eq!(resolve(Target::LeaderOf(7), Some(&v), 3), None);
        assert_eq!(resolve(Target::Controller, None, 3), None);
        assert_eq!(resolve(Target::Node(1), None, 3), Some(1));
        assert_eq!(
            followers_of(Target::LeaderOf(0), Some(&v), 3, 3),
            vec![1, 2]
        );
        assert_eq!(followers_of(Target::Node(2), Some(&v), 2, 3), vec![1, 3]);
    }

    #[test]
    fn split_cuts_off_the_smaller_half_with_the_target() {
        assert_eq!(side_of(FaultKind::Isolate, 2, 5), vec![2]);
        assert_eq!(side_of(FaultKind::Split, 3, 3), vec![3]);
        assert_eq!(side_of(FaultKind::Split, 5, 5), vec![5, 1]);
        assert_eq!(side_of(FaultKind::Split, 2, 4), vec![2, 3]);
    }
}
