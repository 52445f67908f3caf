//! The processes of a simulated cluster, by name.

use serde::Serialize;

use crate::controller::BrokerId;

/// The node id of the simulated controller (a controller-only node, `process.roles=controller`;
/// Kafka's examples number controllers from 3000, brokers below).
pub const CONTROLLER_NODE_ID: BrokerId = 3000;

/// The node id of the simulated group coordinator's node.
pub const COORDINATOR_NODE_ID: BrokerId = 3001;

/// One process: the controller, the group coordinator, a broker, or a client (by its index in
/// the scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum NodeId {
    Controller,
    Coordinator,
    Broker(BrokerId),
    Client(usize),
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeId::Controller => write!(f, "controller"),
            NodeId::Coordinator => write!(f, "coordinator"),
            NodeId::Broker(id) => write!(f, "broker-{id}"),
            NodeId::Client(index) => write!(f, "client-{index}"),
        }
    }
}
