//! The broker: the partitions one node hosts, and the requests that read and write them
//! (produce, fetch, list offsets), in Kafka's terms its *replica manager*.
//!
//! Like every part of the core it is a deterministic state machine. The shell passes each
//! request in with a [`RequestId`] and the current time; answers come out of
//! [`Broker::poll_output`], at once or later: a produce with acks=all waits until the high
//! watermark passes its records, and a fetch waits for `fetch.min.bytes` or `fetch.max.wait.ms`
//! (Kafka's *purgatories*). The shell calls [`Broker::tick`] at [`Broker::next_deadline`] so
//! that waits time out.
//!
//! Durability is the shell's choice too. Appends reach storage unsynced; in durable mode
//! ([`BrokerSettings::durable`]) nothing is acknowledged before [`Broker::flush`] has synced
//! it, and the shell calls `flush` once per round of requests, which gives group commit. In
//! the default mode, as in Kafka, the page cache is trusted and `flush` runs by policy
//! (`flush.messages`, `flush.ms`).
//!
//! Which partitions this node hosts, and whether it leads them, comes from the controller's
//! metadata through [`Broker::apply_partition`] and [`Broker::remove_topic`].
//!
//! Replication is Kafka's pull model, and every message of it passes through the shell:
//! - as follower, [`Broker::replica_requests`] says what to send to each leader (one request
//!   in flight per leader: OffsetForLeaderEpoch first after a leader change, then Fetch), and
//!   the answers come back through [`Broker::on_offset_for_leader_epoch_response`] and
//!   [`Broker::on_replica_fetch_response`] (`follower`, `replica_fetcher`);
//! - as leader, follower fetches arrive through [`Broker::fetch`] with a replica id and move
//!   the high watermark; OffsetForLeaderEpoch through [`Broker::offset_for_leader_epoch`]
//!   (`offset_for_leader_epoch`, `epoch_cache`);
//! - ISR changes are asked of the controller, never made here: [`Broker::alter_partition_requests`]
//!   out, [`Broker::on_alter_partition_response`] and then `apply_partition` in (`isr`).
//!
//! These are methods rather than [`Output`] variants so that a shell driving one broker (the
//! server today) keeps working unchanged: with a single replica none of them has anything to do.
//!
//! Invariants, asserted where they are established and checked across brokers by the tests
//! (`tests/invariants.rs`): the high watermark never exceeds the log end and never moves back
//! on a leader; a follower applies an answer only for the leader and epoch it asked in; no
//! replica keeps a record that differs from its leader's at the same offset once it has
//! truncated; acks=all is answered only once the maximal ISR holds the batch, in the epoch it
//! was appended in.

mod cleaner;
mod delete_records;
mod describe_producers;
mod epoch_cache;
mod fetch;
mod follower;
mod isr;
mod list_offsets;
mod log_dirs;
mod offset_for_leader_epoch;
mod partition;
mod produce;
mod purgatory;
mod replica_fetcher;
mod replication_snapshot;
mod storage_factory;
mod txn_markers;

#[cfg(test)]
mod tests;

pub use cleaner::LogCleanerSettings;
pub use delete_records::DELETE_UP_TO_HIGH_WATERMARK;
pub use describe_producers::ActiveProducer;
pub use epoch_cache::{LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
pub use fetch::{FetchPartition, FetchRequest, FetchResponse, FetchedPartition, IsolationLevel};
pub use follower::FollowerPhase;
pub use isr::{ALTER_PARTITION_BACKOFF_MS, ALTER_PARTITION_TIMEOUT_MS, IsrChangeRequest};
pub use list_offsets::{ListOffsetsPartition, ListedOffset, OffsetSpec};
pub use log_dirs::ReplicaLogInfo;
pub use offset_for_leader_epoch::{
    EpochEndOffset, OffsetForLeaderEpochPartition, OffsetForLeaderEpochRequest,
};
pub use partition::{PartitionSettings, PartitionSnapshot};
pub use produce::{
    ACKS_ALL, AppendOrigin, ProducePartition, ProduceRequest, ProduceResponse, ProducedPartition,
    RecordError,
};
pub use replica_fetcher::{ReplicaFetchSettings, ReplicaRequest};
pub use replication_snapshot::{FollowerProgress, ReplicaRole, ReplicationSnapshot};
pub use storage_factory::{MemoryStorageFactory, StorageFactory, partition_dir_name};
pub use txn_markers::TxnMarkerWrite;

use std::collections::{BTreeMap, VecDeque};

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::controller::{BrokerId, PartitionState};
use crate::group::RequestId;
use crate::log::{LogConfig, RecoveryReport};
use crate::storage::StorageError;
use partition::Partition;
use purgatory::Purgatory;
use replica_fetcher::ReplicaFetcher;

/// How this broker treats durability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerSettings {
    pub node_id: BrokerId,
    /// Acknowledge nothing before it is synced to storage (fsync before ack).
    pub durable: bool,
}

/// An answer the shell must deliver.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Produced {
        request: RequestId,
        response: ProduceResponse,
    },
    Fetched {
        request: RequestId,
        response: FetchResponse,
    },
}

pub struct Broker<F: StorageFactory> {
    settings: BrokerSettings,
    factory: F,
    partitions: BTreeMap<TopicPartition, Partition<F::Storage>>,
    purgatory: Purgatory,
    /// As follower: the requests in flight to each leader.
    fetcher: ReplicaFetcher,
    /// The log cleaner's schedule (compacted topics).
    cleaner: cleaner::CleanerState,
    /// The shell's compression codecs, lent to the log cleaner and to every hosted log (to
    /// open producers' compressed batches at append).
    codecs: &'static dyn crate::batch::Codecs,
    outputs: VecDeque<Output>,
}

impl<F: StorageFactory> Broker<F> {
    pub fn new(settings: BrokerSettings, factory: F) -> Broker<F> {
        Broker {
            settings,
            factory,
            partitions: BTreeMap::new(),
            purgatory: Purgatory::default(),
            fetcher: ReplicaFetcher::default(),
            cleaner: cleaner::CleanerState::default(),
            codecs: &crate::batch::NoCodecs,
            outputs: VecDeque::new(),
        }
    }

    pub fn node_id(&self) -> BrokerId {
        self.settings.node_id
    }

    /// Makes this broker host `tp` as the controller's `state` says (opening its log, and
    /// recovering whatever storage already holds), or updates leadership and ISR. Returns the
    /// recovery report when the log was opened now.
    pub fn apply_partition(
        &mut self,
        tp: &TopicPartition,
        state: &PartitionState,
        settings: PartitionSettings,
        now: Millis,
    ) -> Result<Option<RecoveryReport>, StorageError> {
        let mut report = None;
        if !self.partitions.contains_key(tp) {
            let storage = self.factory.open(tp)?;
            let (mut partition, recovery) = Partition::open(storage, settings, self.settings, now)?;
            partition.log.set_codecs(self.codecs);
            self.partitions.insert(tp.clone(), partition);
            report = Some(recovery);
        }
        let partition = self.partitions.get_mut(tp).expect("inserted above");
        partition.set_settings(settings);
        partition.apply_state(state, now);
        self.complete_waiting(now);
        Ok(report)
    }

    /// Stops hosting every partition of `topic` and deletes their storage.
    pub fn remove_topic(&mut self, topic: &str) -> Result<(), StorageError> {
        let doomed: Vec<TopicPartition> = self
            .partitions
            .keys()
            .filter(|tp| tp.topic == topic)
            .cloned()
            .collect();
        for tp in doomed {
            self.partitions.remove(&tp);
            self.factory.remove(&tp)?;
        }
        Ok(())
    }

    /// The partitions this broker hosts, with their offsets, for metadata, the JSON API and
    /// the playground.
    pub fn partitions(&self) -> impl Iterator<Item = (&TopicPartition, PartitionSnapshot)> {
        self.partitions.iter().map(|(tp, p)| (tp, p.snapshot()))
    }

    pub fn partition(&self, tp: &TopicPartition) -> Option<PartitionSnapshot> {
        self.partitions.get(tp).map(Partition::snapshot)
    }

    /// The log settings `tp` runs with here (its topic configs resolved against this
    /// broker's), if hosted.
    pub fn log_config(&self, tp: &TopicPartition) -> Option<LogConfig> {
        self.partitions.get(tp).map(|p| p.settings.log)
    }

    /// Whole batches of `tp` from the one holding `offset`, below `end_offset`, read straight
    /// from the log without a request: for views of the data (the playground's cells), never
    /// for clients.
    pub fn read_log(
        &self,
        tp: &TopicPartition,
        offset: i64,
        max_bytes: usize,
        end_offset: i64,
    ) -> Option<Vec<u8>> {
        let log = &self.partitions.get(tp)?.log;
        log.read_bounded(offset, max_bytes, end_offset)
            .ok()
            .map(|read| read.records)
    }

    /// The aborted transactions of `tp` overlapping offsets `[from, to)`, for views of the
    /// data (the playground shades their records), never for clients; none if the log's
    /// indexes cannot be read.
    pub fn aborted_transactions(
        &self,
        tp: &TopicPartition,
        from: i64,
        to: i64,
    ) -> Vec<crate::log::AbortedTxn> {
        self.partitions
            .get(tp)
            .and_then(|p| p.log.aborted_transactions(from, to).ok())
            .unwrap_or_default()
    }

    /// Syncs every partition with unsynced appends (in durable mode), or those whose flush
    /// policy says so, then answers whatever that unblocked.
    pub fn flush(&mut self, now: Millis) -> Result<(), StorageError> {
        let durable = self.settings.durable;
        let mut first_error = None;
        for partition in self.partitions.values_mut() {
            if let Err(e) = partition.flush_if_due(durable, now) {
                first_error.get_or_insert(e);
            }
        }
        self.complete_waiting(now);
        first_error.map_or(Ok(()), Err)
    }

    /// Syncs every partition, whatever the policy says (a clean shutdown).
    pub fn sync_all(&mut self) -> Result<(), StorageError> {
        let mut first_error = None;
        for partition in self.partitions.values_mut() {
            if let Err(e) = partition.flush_if_due(true, Millis::ZERO) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Lets time pass: expired waits are answered, flush and retention policies run, and the
    /// log cleaner does one bounded step (`cleaner`).
    pub fn tick(&mut self, now: Millis) -> Result<(), StorageError> {
        let mut first_error = None;
        for partition in self.partitions.values_mut() {
            if let Err(e) = partition.apply_retention_if_due(now) {
                first_error.get_or_insert(e);
            }
        }
        if let Err(e) = self.run_cleaner(now) {
            first_error.get_or_insert(e);
        }
        if let Err(e) = self.flush(now) {
            first_error.get_or_insert(e);
        }
        self.check_isrs(now);
        self.expire_replica_requests(now);
        self.expire_waiting(now);
        first_error.map_or(Ok(()), Err)
    }

    /// When [`Broker::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        let durable = self.settings.durable;
        let partitions = self
            .partitions
            .values()
            .filter_map(|p| p.next_deadline(durable));
        let isrs = self.partitions.values().filter_map(|p| p.isr_deadline());
        let compacted = self.partitions.values().any(|p| p.log.config().compact);
        let cleaner = compacted
            .then(|| self.cleaner.next_deadline(&self.cleaner_settings()))
            .flatten();
        partitions
            .chain(isrs)
            .chain(cleaner)
            .chain(self.replica_deadline())
            .chain(self.purgatory.next_deadline())
            .min()
    }

    /// The next answer to deliver, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }
}
