//! The Kafka wire protocol: accepting connections, framing, and one file per API.
//!
//! Adding an API: write `<api>.rs` with a `handle` function from the request type to the
//! response type, list its versions in `versions.rs`, and route it in `dispatch.rs`.

mod add_partitions_to_txn;
mod alter_configs;
mod api_versions;
mod capture;
mod connection;
pub(crate) mod convert;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_producers;
pub mod describe_quorum;
mod describe_transactions;
mod dispatch;
mod fetch;
mod find_coordinator;
mod frame;
pub mod guard;
mod heartbeat;
mod incremental_alter_configs;
mod init_producer_id;
mod join_group;
mod leave_group;
pub mod limits;
mod list_groups;
mod list_offsets;
mod list_transactions;
mod metadata;
mod node;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod offset_for_leader_epoch;
mod produce;
pub mod sasl;
mod sync_group;
mod txn;
mod txn_offset_commit;
mod versions;

pub use connection::{ProtocolError, decode_request};
pub use convert::{str_bytes, topic_name};
pub use frame::read_frame;
pub use node::Node;

/// Who sent a request, as group members are described (CLIENT-ID and HOST columns).
pub struct ClientInfo {
    pub client_id: String,
    pub host: String,
}

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections beyond this wait in the kernel's accept queue until one closes.
pub const CONNECTIONS_MAX: usize = 1024;

/// Accepts Kafka connections until `shutdown` turns true, then waits for open connections to
/// finish the request they are on.
pub async fn accept_loop(
    listener: TcpListener,
    node: Arc<Node>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    let per_ip = limits::ConnectionsPerIp::default();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit?,
            _ = shutdown.changed() => break,
        };
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Running out of file descriptors and the like: log, back off, go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Some(slot) = per_ip.admit(peer.ip(), node.limits.max_connections_per_ip) else {
            tracing::warn!(
                %peer,
                "closing connection: max.connections.per.ip ({}) reached",
                node.limits.max_connections_per_ip
            );
            drop(socket);
            continue;
        };
        let node = node.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            connection::serve(socket, peer, node, shutdown).await;
            drop((permit, slot));
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}
