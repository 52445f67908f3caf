//! The group coordinator on the engine thread: its requests, the answers it owes (JoinGroup and
//! SyncGroup may wait for other members), and its records on disk (Kafka's
//! `__consumer_offsets`, here a JSON record log compacted on start).

use std::collections::HashMap;

use partita_core::assignor::TopicPartition;
use partita_core::group::{
    CommittedOffset, Coordinator, GroupRecord, HeartbeatError, HeartbeatRequest, JoinGroupError,
    JoinGroupRequest, JoinedGroup, LeaveGroupError, MemberIdentity, OffsetCommitError,
    OffsetCommitRequest, OffsetDeleteError, OffsetDeleteResults, OffsetFetchError, Output,
    RequestId, SyncGroupError, SyncGroupRequest, SyncedGroup,
};
use tokio::sync::oneshot;

use super::state::{EngineConfig, State};
use crate::storage::JsonLog;

type Reply<T, E> = oneshot::Sender<Result<T, E>>;

/// Answers owed to connections waiting in JoinGroup or SyncGroup.
#[derive(Default)]
pub struct GroupReplies {
    joins: HashMap<RequestId, Reply<JoinedGroup, JoinGroupError>>,
    syncs: HashMap<RequestId, Reply<SyncedGroup, SyncGroupError>>,
}

/// Rebuilds the coordinator from its record log, compacting the log to the latest record per
/// key (offsets of one partition, metadata of one group) on the way.
pub fn open_coordinator(
    config: &EngineConfig,
) -> anyhow::Result<(Coordinator, JsonLog<GroupRecord>)> {
    let (mut log, records) =
        JsonLog::open(&config.data_dir.join("__consumer_offsets"), "groups.jsonl")?;
    let now = super::now();
    let mut coordinator = Coordinator::new(config.groups.clone(), config.seed);
    for record in &records {
        coordinator.replay(record, now);
    }
    let live = partita_core::group::compact(&records);
    log.rewrite(&live)?;
    tracing::info!(
        "replayed the group coordinator: {} live records",
        live.len()
    );
    Ok((coordinator, log))
}

impl State {
    pub fn join_group(
        &mut self,
        request: JoinGroupRequest,
        reply: Reply<JoinedGroup, JoinGroupError>,
    ) {
        let id = self.request_id();
        self.group_replies.joins.insert(id, reply);
        self.coordinator.handle_join(id, request, super::now());
        self.drain_coordinator();
    }

    pub fn sync_group(
        &mut self,
        request: SyncGroupRequest,
        reply: Reply<SyncedGroup, SyncGroupError>,
    ) {
        let id = self.request_id();
        self.group_replies.syncs.insert(id, reply);
        self.coordinator.handle_sync(id, request, super::now());
        self.drain_coordinator();
    }

    pub fn group_heartbeat(&mut self, request: &HeartbeatRequest) -> Result<(), HeartbeatError> {
        let result = self.coordinator.handle_heartbeat(request, super::now());
        self.drain_coordinator();
        result
    }

    pub fn leave_group(
        &mut self,
        group: &str,
        members: &[MemberIdentity],
    ) -> Vec<Result<(), LeaveGroupError>> {
        let results = self.coordinator.handle_leave(group, members, super::now());
        self.drain_coordinator();
        results
    }

    /// Commits offsets of partitions that exist; they are on disk when this returns.
    pub fn offset_commit(
        &mut self,
        request: &OffsetCommitRequest,
    ) -> Vec<(TopicPartition, Result<(), OffsetCommitError>)> {
        let image = self.controller.image();
        let results =
            self.coordinator
                .handle_offset_commit_of_existing(request, super::now(), |tp| {
                    image.contains_partition(&tp.topic, tp.partition)
                });
        self.drain_coordinator();
        results
    }

    /// OffsetDelete (KIP-496); the tombstones are on disk when this returns.
    pub fn delete_offsets(
        &mut self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<OffsetDeleteResults, OffsetDeleteError> {
        let image = self.controller.image();
        let results =
            self.coordinator
                .delete_offsets_of_existing(group, partitions, super::now(), |tp| {
                    image.contains_partition(&tp.topic, tp.partition)
                });
        self.drain_coordinator();
        results
    }

    pub fn offset_fetch(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<Vec<(TopicPartition, Option<CommittedOffset>)>, OffsetFetchError> {
        self.coordinator.handle_offset_fetch(group, partitions)
    }

    /// Writes the records the coordinator asked for (one sync for all of them), then delivers
    /// the answers that were waiting: an answer never goes out before what it depends on is
    /// durable.
    pub(super) fn drain_coordinator(&mut self) {
        let mut records = Vec::new();
        let mut answers = Vec::new();
        while let Some(output) = self.coordinator.poll_output() {
            match output {
                Output::Persist(record) => records.push(record),
                Output::Event(event) => tracing::debug!("group: {event:?}"),
                answer => answers.push(answer),
            }
        }
        if let Err(e) = self.group_log.append(&records) {
            // Nothing that depended on these records may be acknowledged.
            tracing::error!(
                "cannot write group records, dropping the answers that depend on them: {e:#}"
            );
            return;
        }
        for answer in answers {
            match answer {
                Output::JoinGroup { request, result } => {
                    if let Some(reply) = self.group_replies.joins.remove(&request) {
                        let _ = reply.send(result);
                    }
                }
                Output::SyncGroup { request, result } => {
                    if let Some(reply) = self.group_replies.syncs.remove(&request) {
                        let _ = reply.send(result);
                    }
                }
                Output::Persist(_) | Output::Event(_) => unreachable!("sorted out above"),
            }
        }
    }
}

impl State {
    pub fn delete_groups(
        &mut self,
        groups: &[String],
    ) -> Vec<Result<(), partita_core::group::DeleteGroupError>> {
        let results = self.coordinator.delete_groups(groups, super::now());
        self.drain_coordinator();
        results
    }
}

impl State {
    /// Lag of every group on every partition it committed to or owns: the high watermark (what
    /// a consumer can reach) minus the committed offset, as kafka-consumer-groups.sh shows it.
    pub fn group_lag(&self) -> Vec<partita_core::group::LagRow> {
        self.coordinator
            .all_lag(|tp| self.broker.partition(tp).map(|p| p.high_watermark))
    }
}
