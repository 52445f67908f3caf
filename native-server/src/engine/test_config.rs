//! The engine config the engine's tests start from: one combined node (broker, controller,
//! group coordinator) over `data_dir`, durable, with Kafka's defaults, and no peers.

use std::path::Path;

use partita_core::node::{METADATA_SNAPSHOT_INTERVAL, NodeConfig, Roles};

use super::state::EngineConfig;

/// A single combined node with id 1 over `data_dir`.
pub(super) fn single_node(data_dir: &Path) -> EngineConfig {
    EngineConfig {
        data_dir: data_dir.to_path_buf(),
        node: NodeConfig {
            node_id: 1,
            roles: Roles::COMBINED,
            controller_id: 1,
            controller_quorum_voters: vec![1],
            metadata_snapshot_interval: METADATA_SNAPSHOT_INTERVAL,
            advertised_host: "127.0.0.1".into(),
            advertised_port: 9092,
            broker: Default::default(),
            groups: Default::default(),
            durable: true,
            seed: 1,
            replica_fetch: Default::default(),
        },
        peers: None,
        acls: Default::default(),
    }
}
