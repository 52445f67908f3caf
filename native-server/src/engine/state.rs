//! What the engine thread owns: the core's [`Node`] (a single combined node: broker,
//! controller and group coordinator; or one node of a cluster) and what drives it: the files
//! its records go to, the answers still owed to connections, the queues to its peers, and the
//! wall clock.

use std::collections::HashMap;
use std::path::PathBuf;

use partita_core::Millis;
use partita_core::assignor::TopicPartition;
use partita_core::broker::Broker;
use partita_core::client::{Request, Response};
use partita_core::config::BrokerConfig;
use partita_core::controller::{BrokerId, Controller, MetadataImage, MetadataRecord};
use partita_core::group::Coordinator;
use partita_core::log::CleanerStats;
use partita_core::node::quorum::QuorumStatus;
use partita_core::node::{Event, Node, NodeConfig, Output, RequestRef, TxnInit};
use tokio::sync::oneshot;

use super::metadata_store::MetadataStore;
use crate::decompress::NATIVE_CODECS;
use crate::kafka::authz::SharedAcls;
use crate::peer::PeerRouter;
use crate::storage::FileStorageFactory;

pub use partita_core::node::Refusal;

/// Where the node keeps its files, the node's own config, and its peers (none for a single
/// combined node).
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub node: NodeConfig,
    pub peers: Option<PeerRouter>,
    /// Where the image's ACLs are published for the connections (`kafka::authz`).
    pub acls: SharedAcls,
}

pub struct State {
    pub node: Node<FileStorageFactory>,
    data_dir: PathBuf,
    /// The controller quorum's Raft log (`__cluster_metadata/raft.jsonl`).
    metadata_store: MetadataStore,
    replies: HashMap<RequestRef, oneshot::Sender<Response>>,
    next_ref: u64,
    peers: Option<PeerRouter>,
    /// The broker cleaner's last round that was logged.
    logged_cleaning: Option<(TopicPartition, CleanerStats)>,
    /// The ACLs as last published, and the image's record count then.
    acls: SharedAcls,
    acls_published_at: Option<u64>,
}

impl State {
    /// Recovers the metadata (the controller quorum's Raft log), the group records (the
    /// compacted offsets log, migrating an older `groups.jsonl`) and every hosted partition,
    /// and registers the broker with its controller: at once when that is its own, else with
    /// the first heartbeats that reach the active controller.
    pub fn open(config: EngineConfig) -> anyhow::Result<State> {
        let (metadata_store, raft_log) =
            MetadataStore::open(&config.data_dir, config.node.node_id)?;
        let now = super::now();
        let legacy_groups = super::offsets_log::read_legacy(
            &config.data_dir,
            config.node.broker.offsets_topic_segment_bytes,
            now,
        )?;
        let mut node = Node::new(
            config.node,
            FileStorageFactory::new(&config.data_dir),
            &raft_log,
            &[],
            now,
        );
        // The log cleaner compacts compressed batches with the shell's codecs.
        node.set_codecs(&NATIVE_CODECS);
        let mut state = State {
            node,
            data_dir: config.data_dir.clone(),
            metadata_store,
            replies: HashMap::new(),
            next_ref: 0,
            peers: config.peers,
            logged_cleaning: None,
            acls: config.acls.clone(),
            acls_published_at: None,
        };
        // Registration and the first heartbeat go to the node's own controller at once.
        state.tick(now);
        // Only a node that is already the active controller (a quorum of one) registers at
        // once; a voter of a larger quorum registers once one is elected.
        let own_controller = state.node.active_controller() == Some(state.node.node_id());
        if own_controller && state.node.broker_epoch().is_none() {
            anyhow::bail!("the broker could not register with its controller");
        }
        let migrated = super::producer_ids::migrate(&config.data_dir, &mut state.node, now)?;
        anyhow::ensure!(state.drain(), "cannot write the metadata log");
        if let Some(dir) = migrated {
            std::fs::remove_dir_all(&dir)?;
        }
        if let Some(records) = legacy_groups {
            // Only a node that alone makes up its cluster can take these in at start.
            anyhow::ensure!(
                own_controller,
                "{} holds the group records of an older single-node partita; start it alone once to migrate them",
                super::offsets_log::legacy_dir(&config.data_dir).display()
            );
            state
                .node
                .migrate_group_records(now, &records)
                .map_err(|(code, message)| anyhow::anyhow!("{}: {message}", code.name()))?;
            anyhow::ensure!(state.drain(), "cannot write the migrated group records");
            super::offsets_log::remove_legacy(&config.data_dir)?;
            tracing::info!(
                "migrated {} group records into the partitions of {}",
                records.len(),
                partita_core::group::OFFSETS_TOPIC
            );
        }
        Ok(state)
    }

    /// The data directory (`--data-dir`): Kafka's one log directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn image(&self) -> &MetadataImage {
        self.node.image()
    }

    pub fn node_id(&self) -> BrokerId {
        self.node.node_id()
    }

    pub fn broker_config(&self) -> &BrokerConfig {
        &self.node.config().broker
    }

    /// The broker role (a combined node always has it).
    pub fn broker(&self) -> &Broker<FileStorageFactory> {
        self.node.broker().expect("a combined node")
    }

    /// The controller quorum as this node sees it: `None` on a node that is not a voter.
    pub fn quorum_status(&self) -> Option<QuorumStatus> {
        self.node.quorum_status()
    }

    /// The controller role: `None` on a node of a cluster that is not the active controller.
    pub fn controller(&self) -> Option<&Controller> {
        // A follower voter keeps a controller too (it applies the committed entries); only the
        // active one answers for it.
        let node_id = self.node.node_id();
        self.node
            .controller()
            .filter(|_| self.node.active_controller() == Some(node_id))
    }

    pub fn coordinator(&self) -> &Coordinator {
        self.node.coordinator().expect("a combined node")
    }

    /// [`Node::control`] now.
    pub fn control(
        &mut self,
        validate_only: bool,
        command: impl FnOnce(&mut Controller) -> Result<Vec<MetadataRecord>, Refusal>,
    ) -> Result<(), Refusal> {
        self.node.control(super::now(), validate_only, command)
    }

    /// A message from node `from`, off the peer listener.
    pub fn on_peer(&mut self, from: BrokerId, message: partita_core::node::PeerMessage) {
        self.node.handle_peer(super::now(), from, message);
    }

    /// Hands a client request to the node; the answer goes to `reply` when the node gives
    /// it (never for a produce with acks=0).
    pub fn submit(&mut self, request: Request, reply: Option<oneshot::Sender<Response>>) {
        self.next_ref += 1;
        let reference = RequestRef(self.next_ref);
        if let Some(reply) = reply {
            self.replies.insert(reference, reply);
        }
        self.node.handle_request(super::now(), reference, request);
    }

    /// An InitProducerId with a transactional id, answered on `reply` once the node's
    /// coordinator has its answer durable (`Node::handle_init_transactional_producer_id`).
    pub fn init_transactional(&mut self, init: TxnInit, reply: oneshot::Sender<Response>) {
        self.next_ref += 1;
        let reference = RequestRef(self.next_ref);
        self.replies.insert(reference, reply);
        self.node
            .handle_init_transactional_producer_id(super::now(), reference, init);
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.node.poll_timeout()
    }

    /// Logs the broker cleaner's last round once, with a warning for compressed batches it
    /// had to keep unread (no codec, corrupt, or inflating past the bound).
    fn log_cleaner_round(&mut self) {
        let Some(round) = self.node.broker().and_then(Broker::last_cleaning) else {
            return;
        };
        if self.logged_cleaning.as_ref() == Some(round) {
            return;
        }
        let (tp, stats) = round;
        tracing::info!(
            "compacted {}-{} below offset {}: kept {} of {} records, {} of {} bytes",
            tp.topic,
            tp.partition,
            stats.end_offset,
            stats.records_kept,
            stats.records_read,
            stats.bytes_written,
            stats.bytes_read
        );
        if let Some(reason) = &stats.last_unread_reason {
            tracing::warn!(
                "the log cleaner kept {} compressed batches of {}-{} whole, unread; the last: {reason}",
                stats.unread_batches,
                tp.topic,
                tp.partition
            );
        }
        self.logged_cleaning = Some(round.clone());
    }

    /// After each round of commands: time-driven work, then the outputs.
    pub fn tick(&mut self, now: Millis) {
        self.node.handle_timeout(now);
        self.log_cleaner_round();
        self.drain();
    }

    /// Acts on the node's outputs in order: records are written (and synced) before any
    /// answer after them is sent. If a write fails, nothing after it is acknowledged: the
    /// answers are dropped (their connections close). Returns false when a write failed.
    /// (A transactional request's answer is one of these: the node holds it until the
    /// `__transaction_state` writes it depends on are in the ISR.)
    pub fn drain(&mut self) -> bool {
        self.publish_acls();
        self.drain_outputs()
    }

    /// Hands the image's ACLs to the connections when the image changed and they differ
    /// from what was published: before the answers of this round go out.
    fn publish_acls(&mut self) {
        let image = self.node.image();
        let count = image.record_count();
        if self.acls_published_at == Some(count) {
            return;
        }
        self.acls_published_at = Some(count);
        let mut published = self.acls.write().unwrap_or_else(|p| p.into_inner());
        if published.by_id() != image.acls() {
            *published = std::sync::Arc::new(image.acls().clone().into());
        }
    }

    fn drain_outputs(&mut self) -> bool {
        let mut written = true;
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::PersistRaft(write) => {
                    if let Err(e) = self.metadata_store.persist(write) {
                        tracing::error!("cannot write the metadata log: {e:#}");
                        written = false;
                    }
                }
                Output::PersistGroups(_) => {
                    // Only a coordinator-only node persists its own records; this one's go
                    // to the partitions of the offsets topic.
                    tracing::error!("a broker's group records came out to persist: a bug");
                    written = false;
                }
                Output::Respond { request, response } => {
                    if let Some(reply) = self.replies.remove(&request)
                        && written
                    {
                        let _ = reply.send(response);
                    }
                }
                Output::Send { to, message } => match &self.peers {
                    Some(peers) => peers.send(to, message),
                    None => tracing::warn!("no peer {to} to send {} to", message.summary()),
                },
                Output::Event(event) => log_event(event),
            }
        }
        written
    }

    /// Syncs every log before the process exits.
    pub fn shut_down(&mut self) {
        if let Err(e) = self.node.shut_down() {
            tracing::error!("final sync failed: {e}");
        }
        tracing::info!("engine stopped; every log is synced");
    }
}

fn log_event(event: Event) {
    match event {
        Event::StorageError { description } => tracing::error!("storage: {description}"),
        Event::Recovered { tp, description } => {
            tracing::warn!("{}-{}: recovered: {description}", tp.topic, tp.partition)
        }
        Event::Misrouted { request } => tracing::error!("no role serves {request}"),
        Event::Transaction { description } => tracing::warn!("transactions: {description}"),
        Event::MetadataRefused { description } => tracing::warn!("refused: {description}"),
        other => tracing::debug!("{other:?}"),
    }
}
