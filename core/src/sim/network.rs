//! The simulated network: seeded latency, loss, partitions between sets of nodes, and FIFO
//! delivery per link (each pair of nodes talks over one TCP-like connection, so a later
//! message never overtakes an earlier one on the same link).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::node::NodeId;
use super::rng::Rng;
use crate::Millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkConfig {
    pub latency_ms_min: u64,
    pub latency_ms_max: u64,
    /// Every message is lost with this probability (per million).
    pub loss_per_million: u32,
    /// Extra loss for messages whose summary starts with a prefix (e.g. "ProduceResponse"):
    /// the faults that make a client retry something the server did.
    pub loss_rules: Vec<LossRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LossRule {
    pub message_prefix: String,
    pub per_million: u32,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_ms_min: 1,
            latency_ms_max: 5,
            loss_per_million: 0,
            loss_rules: Vec::new(),
        }
    }
}

/// Why a message did not get through.
pub type DropReason = &'static str;

#[derive(Clone, Debug)]
pub struct Network {
    pub config: NetworkConfig,
    rng: Rng,
    /// Pairs of node sets that cannot talk to each other, in either direction.
    partitions: Vec<(BTreeSet<NodeId>, BTreeSet<NodeId>)>,
    /// When the last message on each link arrives: later ones arrive no earlier.
    link_busy_until: BTreeMap<(NodeId, NodeId), Millis>,
}

impl Network {
    pub fn new(config: NetworkConfig, rng: Rng) -> Network {
        assert!(
            config.latency_ms_min <= config.latency_ms_max,
            "latency range is empty"
        );
        Network {
            config,
            rng,
            partitions: Vec::new(),
            link_busy_until: BTreeMap::new(),
        }
    }

    /// Cuts every link between a node of `a` and a node of `b`.
    pub fn partition(&mut self, a: BTreeSet<NodeId>, b: BTreeSet<NodeId>) {
        assert!(a.is_disjoint(&b), "a node cannot be cut off from itself");
        self.partitions.push((a, b));
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.partitions.clear();
    }

    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.partitions.iter().any(|(a, b)| {
            (a.contains(&from) && b.contains(&to)) || (b.contains(&from) && a.contains(&to))
        })
    }

    /// When a message sent now from `from` to `to` arrives, or why it never does.
    pub fn route(
        &mut self,
        from: NodeId,
        to: NodeId,
        summary: &str,
        now: Millis,
    ) -> Result<Millis, DropReason> {
        if self.is_cut(from, to) {
            return Err("partitioned");
        }
        if self.rng.chance_per_million(self.config.loss_per_million) {
            return Err("lost");
        }
        let extra = self
            .config
            .loss_rules
            .iter()
            .filter(|r| summary.starts_with(&r.message_prefix))
            .map(|r| r.per_million)
            .max();
        if let Some(per_million) = extra
            && self.rng.chance_per_million(per_million)
        {
            return Err("lost");
        }
        let latency = self
            .rng
            .between(self.config.latency_ms_min, self.config.latency_ms_max);
        let link = self
            .link_busy_until
            .entry((from, to))
            .or_insert(Millis::ZERO);
        let at = now.plus(Millis(latency)).max(*link);
        *link = at;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_fifo_and_partitions_cut_both_ways() {
        let config = NetworkConfig {
            latency_ms_min: 1,
            latency_ms_max: 50,
            ..NetworkConfig::default()
        };
        let mut net = Network::new(config, Rng::new(3));
        let (a, b) = (NodeId::Broker(1), NodeId::Client(0));
        let mut last = Millis::ZERO;
        for t in 0..100 {
            let at = net.route(a, b, "x", Millis(t)).unwrap();
            assert!(at >= last);
            last = at;
        }
        net.partition([a].into(), [b].into());
        assert_eq!(net.route(b, a, "x", Millis(0)), Err("partitioned"));
        net.heal();
        assert!(net.route(b, a, "x", Millis(0)).is_ok());
    }
}
