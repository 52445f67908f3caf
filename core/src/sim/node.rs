//! The processes of a simulated cluster, by name.

use serde::Serialize;

use crate::controller::BrokerId;

/// The node id of the first simulated controller (controller-only nodes,
/// `process.roles=controller`; Kafka's examples number controllers from 3000, brokers below).
/// A scenario's quorum has the voters `CONTROLLER_NODE_ID..CONTROLLER_NODE_ID + n`.
pub const CONTROLLER_NODE_ID: BrokerId = 3000;

/// The most voters a scenario's controller quorum may have.
pub const CONTROLLERS_MAX: u32 = 5;

/// The node ids of a quorum of `n` controllers.
pub fn controller_ids(n: u32) -> Vec<BrokerId> {
    (0..n as BrokerId).map(|i| CONTROLLER_NODE_ID + i).collect()
}

/// One process: a controller (by node id), a broker (which coordinates the groups of the
/// offsets partitions it leads), or a client (by its index in the scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum NodeId {
    Controller(BrokerId),
    Broker(BrokerId),
    Client(usize),
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeId::Controller(id) => write!(f, "controller-{id}"),
            NodeId::Broker(id) => write!(f, "broker-{id}"),
            NodeId::Client(index) => write!(f, "client-{index}"),
        }
    }
}
