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
use partita_core::group::RequestId;
use partita_core::{ErrorCode, Millis};
use tokio::sync::oneshot;

use crate::storage::{FileStorageFactory, MetadataLog};

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub node_id: BrokerId,
    /// Host and port clients are told to connect to.
    pub advertised_host: String,
    pub advertised_port: u16,
    pub broker: BrokerConfig,
    /// Sync before acknowledging (`--durable`), instead of trusting the page cache.
    pub durable: bool,
    /// Feeds the controller's deterministic choices (replica placement, topic ids).
    pub seed: u64,
}

pub struct State {
    pub controller: Controller,
    pub broker: Broker<FileStorageFactory>,
    config: EngineConfig,
    metadata_log: MetadataLog,
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
        let (metadata_log, records) =
            MetadataLog::open(&config.data_dir.join("__cluster_metadata"))?;
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
        let mut state = State {
            controller,
            broker,
            config,
            metadata_log,
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
        state.heartbeat(now)?;
        Ok(state)
    }

    pub fn image(&self) -> &MetadataImage {
        self.controller.image()
    }

    pub fn node_id(&self) -> BrokerId {
        self.config.node_id
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
        let mut hosted = Vec::new();
        for (topic, index, state) in self.controller.image().partitions() {
            if !state.replicas.contains(&node) {
                continue;
            }
            let tp = TopicPartition::new(topic.name.clone(), index as i32);
            let topic_config = self
                .controller
                .topic_config(&topic.name)
                .unwrap_or_default();
            let settings = PartitionSettings::from_configs(&topic_config, &self.config.broker);
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

    pub fn create_topic(
        &mut self,
        request: &CreateTopic,
        validate_only: bool,
    ) -> Result<(), Refusal> {
        if validate_only {
            // The controller applies what it emits, so a dry run goes to a copy.
            let mut scratch = self.controller.clone();
            return scratch
                .create_topic(request)
                .map(|_| ())
                .map_err(|e| (e.code(), e.to_string()));
        }
        let records = self
            .controller
            .create_topic(request)
            .map_err(|e| (e.code(), e.to_string()))?;
        self.commit(&records, super::now())
            .map_err(|e| (ErrorCode::KAFKA_STORAGE_ERROR, e.to_string()))
    }

    pub fn delete_topic(&mut self, name: &str) -> Result<(), Refusal> {
        let records = self
            .controller
            .delete_topic(name)
            .map_err(|e| (e.code(), e.to_string()))?;
        self.commit(&records, super::now())
            .map_err(|e| (ErrorCode::KAFKA_STORAGE_ERROR, e.to_string()))
    }

    fn request_id(&mut self) -> RequestId {
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
        self.broker.next_deadline()
    }

    /// After each round of commands: time-driven work, one sync for the round, answers out.
    pub fn tick(&mut self, now: Millis) {
        if let Err(e) = self.broker.tick(now) {
            tracing::error!("storage error: {e}");
        }
        let interval = Millis(self.config.broker.broker_heartbeat_interval_ms);
        if now.since(self.last_heartbeat) >= interval
            && let Err(e) = self.heartbeat(now)
        {
            tracing::error!("heartbeat: {e}");
        }
        let expired = self.controller.tick(now);
        if let Err(e) = self.commit(&expired, now) {
            tracing::error!("metadata log: {e}");
        }
        self.deliver();
    }

    fn heartbeat(&mut self, now: Millis) -> anyhow::Result<()> {
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
