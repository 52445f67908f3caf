//! What the engine thread owns: the controller (with its metadata log on disk) and the broker
//! (with its partition logs on disk), plus the answers still owed to connections.

use std::collections::HashMap;
use std::path::PathBuf;

use partita_core::assignor::TopicPartition;
use partita_core::broker::{
    Broker, BrokerSettings, FetchRequest, FetchResponse, Output, PartitionSettings, ProduceRequest,
    ProduceResponse,
};
use partita_core::config::BrokerConfig;
use partita_core::controller::{BrokerId, Controller, CreateTopic, MetadataImage, MetadataRecord};
use partita_core::group::{Coordinator, CoordinatorConfig, GroupRecord, RequestId};
use partita_core::{ErrorCode, Millis};
use tokio::sync::oneshot;

use crate::storage::{FileStorageFactory, JsonLog};

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub node_id: BrokerId,
    /// Host and port clients are told to connect to.
    pub advertised_host: String,
    pub advertised_port: u16,
    pub broker: BrokerConfig,
    pub groups: CoordinatorConfig,
    /// Sync before acknowledging (`--durable`), instead of trusting the page cache.
    pub durable: bool,
    /// Feeds the controller's deterministic choices (replica placement, topic ids).
    pub seed: u64,
}

pub struct State {
    pub controller: Controller,
    pub broker: Broker<FileStorageFactory>,
    pub coordinator: Coordinator,
    config: EngineConfig,
    metadata_log: JsonLog<MetadataRecord>,
    pub(super) group_log: JsonLog<GroupRecord>,
    pub(super) group_replies: super::groups::GroupReplies,
    pub producer_ids: super::producer_ids::ProducerIds,
    next_request: u64,
    produce_replies: HashMap<RequestId, oneshot::Sender<ProduceResponse>>,
    fetch_replies: HashMap<RequestId, oneshot::Sender<FetchResponse>>,
    last_heartbeat: Millis,
}

/// An error to answer a client with: the Kafka code and a message.
pub type Refusal = (ErrorCode, String);

impl State {
    /// Recovers the metadata log and every hosted partition, then registers this broker.
    pub fn open(config: EngineConfig) -> anyhow::Result<State> {
        let (metadata_log, records) = JsonLog::open(
            &config.data_dir.join("__cluster_metadata"),
            "metadata.jsonl",
        )?;
        let mut controller = Controller::new(config.broker.clone(), config.seed);
        for record in &records {
            controller.replay(record);
        }
        tracing::info!("replayed {} metadata records", records.len());
        let settings = BrokerSettings {
            node_id: config.node_id,
            durable: config.durable,
        };
        let broker = Broker::new(settings, FileStorageFactory::new(&config.data_dir));
        let (coordinator, group_log) = super::groups::open_coordinator(&config)?;
        let producer_ids =
            super::producer_ids::ProducerIds::open(&config.data_dir.join("__producer_ids"))?;
        let mut state = State {
            controller,
            broker,
            coordinator,
            config,
            metadata_log,
            group_log,
            group_replies: Default::default(),
            producer_ids,
            next_request: 0,
            produce_replies: HashMap::new(),
            fetch_replies: HashMap::new(),
            last_heartbeat: Millis::ZERO,
        };
        let now = super::now();
        let (id, host, port) = (
            state.config.node_id,
            state.config.advertised_host.clone(),
            state.config.advertised_port,
        );
        let registered = state.controller.register_broker(now, id, &host, port)?;
        state.commit(&registered, now)?;
        state.broker_heartbeat(now)?;
        Ok(state)
    }

    pub fn image(&self) -> &MetadataImage {
        self.controller.image()
    }

    pub fn node_id(&self) -> BrokerId {
        self.config.node_id
    }

    /// The data directory (`--data-dir`): Kafka's one log directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.config.data_dir
    }

    pub fn broker_config(&self) -> &BrokerConfig {
        &self.config.broker
    }

    /// Persists records the controller emitted, then brings the broker in line with them.
    fn commit(&mut self, records: &[MetadataRecord], now: Millis) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.metadata_log.append(records)?;
        self.sync_partitions(now);
        Ok(())
    }

    /// Hosts every partition the image places on this broker, with its current leader, ISR
    /// and configs; drops the partitions of deleted topics.
    fn sync_partitions(&mut self, now: Millis) {
        let node = self.config.node_id;
        // With the dynamic broker configs the metadata log holds for this broker.
        let broker_config = self.controller.broker_config(node);
        let mut hosted = Vec::new();
        for (topic, index, state) in self.controller.image().partitions() {
            if !state.replicas.contains(&node) {
                continue;
            }
            let tp = TopicPartition::new(topic.name.clone(), index as i32);
            let topic_config = self
                .controller
                .topic_config_on(&topic.name, node)
                .unwrap_or_default();
            let settings = PartitionSettings::from_configs(&topic_config, &broker_config);
            hosted.push((tp, state.clone(), settings));
        }
        for (tp, state, settings) in &hosted {
            match self.broker.apply_partition(tp, state, *settings, now) {
                Ok(Some(report))
                    if report.truncated.is_some() || !report.deleted_files.is_empty() =>
                {
                    tracing::warn!("{}-{}: recovered: {report:?}", tp.topic, tp.partition)
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("{}-{}: cannot open the log: {e}", tp.topic, tp.partition)
                }
            }
        }
        let gone: Vec<String> = self
            .broker
            .partitions()
            .map(|(tp, _)| tp.topic.clone())
            .filter(|topic| self.controller.image().topic(topic).is_none())
            .collect();
        for topic in gone {
            if let Err(e) = self.broker.remove_topic(&topic) {
                tracing::error!("{topic}: cannot delete its logs: {e}");
            }
        }
    }

    /// Runs a controller command and commits its records; with `validate_only`, runs it on a
    /// copy (the controller applies what it emits) and keeps nothing.
    pub fn control(
        &mut self,
        validate_only: bool,
        command: impl FnOnce(&mut Controller) -> Result<Vec<MetadataRecord>, Refusal>,
    ) -> Result<(), Refusal> {
        if validate_only {
            return command(&mut self.controller.clone()).map(|_| ());
        }
        let records = command(&mut self.controller)?;
        self.commit(&records, super::now())
            .map_err(|e| (ErrorCode::KAFKA_STORAGE_ERROR, format!("{e:#}")))
    }

    pub fn create_topic(
        &mut self,
        request: &CreateTopic,
        validate_only: bool,
    ) -> Result<(), Refusal> {
        self.control(validate_only, |c| {
            c.create_topic(request)
                .map_err(|e| (e.code(), e.to_string()))
        })
    }

    pub fn delete_topic(&mut self, name: &str) -> Result<(), Refusal> {
        self.control(false, |c| {
            c.delete_topic(name).map_err(|e| (e.code(), e.to_string()))
        })?;
        // Kafka deletes the committed offsets of a deleted topic with it.
        self.coordinator.on_topic_deleted(name, super::now());
        self.drain_coordinator();
        Ok(())
    }

    pub(super) fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// Starts a produce; the answer goes to `reply` when the acks allow (never for acks=0).
    pub fn produce(&mut self, request: ProduceRequest, reply: oneshot::Sender<ProduceResponse>) {
        let id = self.request_id();
        if request.acks != 0 {
            self.produce_replies.insert(id, reply);
        }
        self.broker.produce(id, request, super::now());
    }

    /// Starts a fetch; the answer goes to `reply` once there is data or the wait is over.
    pub fn fetch(&mut self, request: FetchRequest, reply: oneshot::Sender<FetchResponse>) {
        let id = self.request_id();
        self.fetch_replies.insert(id, reply);
        self.broker.fetch(id, request, super::now());
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        [
            self.broker.next_deadline(),
            self.coordinator.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After each round of commands: time-driven work, one sync for the round, answers out.
    pub fn tick(&mut self, now: Millis) {
        if let Err(e) = self.broker.tick(now) {
            tracing::error!("storage error: {e}");
        }
        let interval = Millis(self.config.broker.broker_heartbeat_interval_ms);
        if now.since(self.last_heartbeat) >= interval
            && let Err(e) = self.broker_heartbeat(now)
        {
            tracing::error!("heartbeat: {e}");
        }
        self.coordinator.tick(now);
        self.drain_coordinator();
        let expired = self.controller.tick(now);
        if let Err(e) = self.commit(&expired, now) {
            tracing::error!("metadata log: {e}");
        }
        self.deliver();
    }

    fn broker_heartbeat(&mut self, now: Millis) -> anyhow::Result<()> {
        let node = self.config.node_id;
        let epoch = self
            .controller
            .image()
            .broker(node)
            .map(|b| b.broker_epoch)
            .unwrap_or_default();
        let records = self.controller.broker_heartbeat(now, node, epoch)?;
        self.last_heartbeat = now;
        self.commit(&records, now)
    }

    fn deliver(&mut self) {
        while let Some(output) = self.broker.poll_output() {
            match output {
                Output::Produced { request, response } => {
                    if let Some(reply) = self.produce_replies.remove(&request) {
                        let _ = reply.send(response);
                    }
                }
                Output::Fetched { request, response } => {
                    if let Some(reply) = self.fetch_replies.remove(&request) {
                        let _ = reply.send(response);
                    }
                }
            }
        }
    }

    /// Syncs every log before the process exits.
    pub fn shut_down(&mut self) {
        if let Err(e) = self.broker.sync_all() {
            tracing::error!("final sync failed: {e}");
        }
        tracing::info!("engine stopped; every log is synced");
    }
}
