//! The Kafka wire protocol: accepting connections, framing, and one file per API.
//!
//! Adding an API: write `<api>.rs` with a `handle` function from the request type to the
//! response type, list its versions in `versions.rs`, and route it in `dispatch.rs`.

mod acls;
mod add_partitions_to_txn;
mod alter_configs;
mod alter_user_scram_credentials;
mod api_versions;
pub mod authz;
mod capture;
mod connection;
pub(crate) mod convert;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod denied;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_producers;
pub mod describe_quorum;
mod describe_transactions;
mod describe_user_scram_credentials;
mod dispatch;
mod fetch;
mod find_coordinator;
mod forward;
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
pub mod listener_names;
mod metadata;
mod node;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod offset_for_leader_epoch;
mod produce;
mod reauth;
pub mod sasl;
mod scram;
pub mod scram_bootstrap;
pub mod scram_keys;
pub mod scram_spec;
pub mod security;
mod sync_group;
mod txn;
mod txn_offset_commit;
mod versions;

pub use connection::{ProtocolError, decode_request};
pub use convert::{str_bytes, topic_name};
pub use frame::read_frame;
pub use node::Node;

/// Who sent a request, as group members are described (CLIENT-ID and HOST columns), and
/// what the ACLs let it do.
pub struct ClientInfo {
    pub client_id: String,
    pub host: String,
    pub authz: authz::Authz,
}

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Connections beyond this wait in the kernel's accept queue until one closes.
pub const CONNECTIONS_MAX: usize = 1024;

/// Accepts Kafka connections until `shutdown` turns true, then waits for open connections to
/// finish the request they are on. With `tls` (SSL and SASL_SSL listeners) each connection
/// first completes a TLS handshake (`tls_handshake`).
pub async fn accept_loop(
    listener: TcpListener,
    node: Arc<Node>,
    tls: Option<TlsAcceptor>,
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
        let tls = tls.clone();
        connections.spawn(async move {
            let _ = socket.set_nodelay(true);
            match tls {
                None => connection::serve(socket, peer, None, node, shutdown).await,
                Some(tls) => {
                    if let Some((stream, principal)) =
                        tls_handshake(&tls, socket, peer, &node).await
                    {
                        connection::serve(stream, peer, principal, node, shutdown).await;
                    }
                }
            }
            drop((permit, slot));
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// The TLS handshake of a new connection, within `connections.max.idle.ms`. A failed one
/// (plaintext sent to the TLS port, garbage, a client certificate missing or not signed by a
/// trusted CA) closes the connection with a log line; the broker goes on. A client that shows a
/// certificate is logged with its principal (`crate::tls::principal`), which is returned with
/// the stream (the connection's principal for the ACLs).
async fn tls_handshake(
    tls: &TlsAcceptor,
    socket: TcpStream,
    peer: std::net::SocketAddr,
    node: &Node,
) -> Option<(TlsStream<TcpStream>, Option<String>)> {
    let idle = node.limits.idle_timeout();
    let stream = match tokio::time::timeout(idle, tls.accept(socket)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::info!(%peer, "closing connection: TLS handshake failed: {e}");
            return None;
        }
        Err(_) => {
            tracing::info!(
                %peer,
                "closing connection: no TLS handshake within connections.max.idle.ms ({} ms)",
                node.limits.connections_max_idle_ms
            );
            return None;
        }
    };
    let mut principal = None;
    if let Some(cert) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
    {
        match crate::tls::principal::mapped(cert, &node.ssl_principal_mapper) {
            Ok(name) => {
                tracing::info!(%peer, principal = name, "TLS client certificate");
                principal = Some(name);
            }
            Err(e) => {
                tracing::info!(%peer, "closing connection: {e:#}");
                return None;
            }
        }
    }
    Some((stream, principal))
}
