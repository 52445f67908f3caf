//! What every request handler can see: this node's identity, its metrics, and the engine that
//! holds the core's state.

use std::net::SocketAddr;

use super::sasl::PlainUsers;
use crate::engine::EngineHandle;
use crate::http::metrics::Metrics;

pub struct Node {
    pub node_id: i32,
    /// The address clients are told to connect to (the listener's).
    pub advertised: SocketAddr,
    pub cluster_id: String,
    pub metrics: Metrics,
    pub engine: EngineHandle,
    /// Users of SASL/PLAIN; empty: no authentication (a PLAINTEXT listener).
    pub sasl_users: PlainUsers,
}

impl Node {
    pub fn new(
        node_id: i32,
        advertised: SocketAddr,
        engine: EngineHandle,
        sasl_users: PlainUsers,
    ) -> Node {
        Node {
            node_id,
            advertised,
            cluster_id: "partita-cluster".to_string(),
            metrics: Metrics::new(),
            engine,
            sasl_users,
        }
    }
}
