//! The processes of a simulated cluster, by name.

use serde::Serialize;

use crate::controller::BrokerId;

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
