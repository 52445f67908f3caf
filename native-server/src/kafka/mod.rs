//! The Kafka wire protocol: accepting connections, framing, and one file per API.
//!
//! Adding an API: write `<api>.rs` with a `handle` function from the request type to the
//! response type, list its versions in `versions.rs`, and route it in `dispatch.rs`.

mod api_versions;
mod connection;
mod convert;
mod create_topics;
mod delete_topics;
mod dispatch;
mod fetch;
mod frame;
mod list_offsets;
mod metadata;
mod node;
mod produce;
mod versions;

pub use node::Node;

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
        let node = node.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            connection::serve(socket, peer, node, shutdown).await;
            drop(permit);
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}
