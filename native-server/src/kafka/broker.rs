//! What every request handler can see: this broker's identity and its metrics.

use std::net::SocketAddr;

use crate::http::metrics::Metrics;

pub struct Broker {
    pub node_id: i32,
    /// The address clients are told to connect to (the listener's).
    pub advertised: SocketAddr,
    pub cluster_id: String,
    pub metrics: Metrics,
}

impl Broker {
    pub fn new(node_id: i32, advertised: SocketAddr) -> Broker {
        Broker {
            node_id,
            advertised,
            cluster_id: "partita-cluster".to_string(),
            metrics: Metrics::new(),
        }
    }
}
