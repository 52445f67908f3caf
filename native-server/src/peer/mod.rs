//! The messages between the processes of a cluster. The core's node says what to send to
//! which node id ([`partita_core::node::Output::Send`]); this module carries it there over
//! TCP, or TLS ([`security`]), and hands what arrives to the engine (`State::on_peer`, which calls
//! `Node::handle_peer`).
//!
//! - [`settings`]: the cluster flags and `--config` keys (`controller.quorum.voters` is the
//!   address book: every node and its peer listener);
//! - [`codec`]: the frames; [`replication`]: Fetch and OffsetForLeaderEpoch as Kafka's own
//!   requests and responses; [`control`]: BrokerHeartbeat, AllocateProducerIds, CreateTopics;
//! - [`link`]: one outbound connection per peer, with a bounded queue, timeouts and
//!   reconnection with backoff; messages only ever travel from the sender's link to the
//!   receiver's listener, so an answer goes back over the answerer's own link;
//! - [`inbound`]: the listener (`--controller-listen`), which disconnects a peer that sends
//!   garbage;
//! - [`security`]: TLS with mutual authentication on both (`controller.listener.names` and
//!   `listener.security.protocol.map` making the controller listener SSL).
//!
//! A message the core adds (the Raft quorum's, next) needs one more frame kind in the codec
//! and nothing else here.

pub mod codec;
pub mod control;
pub mod inbound;
pub mod link;
mod refusals;
pub mod replication;
pub mod security;
pub mod settings;
pub mod txn_markers;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use partita_core::controller::BrokerId;
use partita_core::node::PeerMessage;
use tokio::sync::mpsc;

pub use settings::ClusterSettings;

/// The engine thread's way to send: one bounded queue per peer. Never blocks.
pub struct PeerRouter {
    queues: BTreeMap<BrokerId, mpsc::Sender<PeerMessage>>,
    /// Messages dropped because a peer's queue was full or the peer is unknown.
    dropped: AtomicU64,
}

impl PeerRouter {
    /// A router to each of `peers` (id → HOST:PORT), and the links that carry its queues,
    /// to be run as tasks ([`link::Link::run`]), over TLS when `tls` is given.
    pub fn new(
        me: BrokerId,
        peers: &BTreeMap<BrokerId, String>,
        tls: Option<&security::PeerTls>,
    ) -> (PeerRouter, Vec<link::Link>) {
        let mut queues = BTreeMap::new();
        let mut links = Vec::new();
        for (&peer, address) in peers {
            let (tx, rx) = mpsc::channel(link::QUEUE_CAPACITY);
            queues.insert(peer, tx);
            links.push(link::Link {
                me,
                peer,
                address: address.clone(),
                queue: rx,
                tls: tls.cloned(),
            });
        }
        let router = PeerRouter {
            queues,
            dropped: AtomicU64::new(0),
        };
        (router, links)
    }

    /// Queues `message` for node `to`; drops it (logged, counted) when that peer's queue is
    /// full or `to` is not a known peer. The node retries what must arrive.
    pub fn send(&self, to: BrokerId, message: PeerMessage) {
        let Some(queue) = self.queues.get(&to) else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("no peer {to} to send {} to", message.summary());
            return;
        };
        if let Err(e) = queue.try_send(message) {
            let count = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let (mpsc::error::TrySendError::Full(message)
            | mpsc::error::TrySendError::Closed(message)) = e;
            tracing::warn!(
                "peer {to}: queue full, dropped {} ({count} dropped so far)",
                message.summary()
            );
        }
    }

    /// How many messages were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
