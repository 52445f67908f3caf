//! A consumer application: the poll loop of the seed document's examples. It polls,
//! processes each record for a while, and commits as its [`CommitMode`] says; an armed crash
//! kills it between processing and committing (or committing and processing).

use std::collections::BTreeMap;

use super::client_node::{ClientStats, ship};
use super::ctp_output::{OUTPUT_CORRELATION_BASE, OutputStatus, TransformOutput};
use super::node::NodeId;
use super::outbox::Outbox;
use super::spec::{CommitMode, ConsumerSpec, CrashPoint};
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::IsolationLevel;
use crate::checker::Op;
use crate::client::consumer::{Consumer, ConsumerEvent, ConsumerRecord};
use crate::client::{Destination, Response};
use crate::controller::BrokerId;

/// What the application is doing.
#[derive(Clone, Debug)]
enum AppState {
    /// Polls at `next_poll`.
    Polling { next_poll: Millis },
    /// `commitSync` before processing (at-most-once).
    CommittingBefore {
        commit_id: u64,
        records: Vec<ConsumerRecord>,
    },
    Processing {
        until: Millis,
        records: Vec<ConsumerRecord>,
    },
    /// `commitSync` after processing.
    CommittingAfter { commit_id: u64 },
    /// Consume-transform-produce: the outputs of `records` are on their way.
    Transforming { records: Vec<ConsumerRecord> },
    /// Exactly-once: the transaction with the outputs and the offsets is committing.
    CommittingTxn,
}

pub struct ConsumerProcess {
    pub consumer: Consumer,
    spec: ConsumerSpec,
    /// This life's name in the history: `name#incarnation`.
    pub life: String,
    app: AppState,
    pub processing_ms_per_record: Millis,
    pub crash_at: Option<CrashPoint>,
    /// The producing half of a consume-transform-produce application.
    output: Option<TransformOutput>,
}

impl ConsumerProcess {
    /// A new life of the application: a fresh consumer, subscribed, polling at once.
    pub fn new(
        spec: &ConsumerSpec,
        brokers: &[BrokerId],
        life: String,
        processing_ms_per_record: Millis,
        seed: u64,
        now: Millis,
    ) -> ConsumerProcess {
        let mut consumer = Consumer::new(spec.config.clone(), brokers.to_vec(), now);
        let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics, now);
        let output = spec
            .transform
            .as_ref()
            .map(|t| TransformOutput::new(t, brokers, &life, seed, now));
        ConsumerProcess {
            output,
            consumer,
            spec: spec.clone(),
            life,
            app: AppState::Polling { next_poll: now },
            processing_ms_per_record,
            crash_at: None,
        }
    }

    /// The application's next step (a poll, the end of processing), or what the consumer
    /// itself waits for. A commit being waited on ends with an answer, not a time.
    pub fn next_deadline(&self) -> Option<Millis> {
        let app = match &self.app {
            AppState::Polling { next_poll } => Some(*next_poll),
            AppState::Processing { until, .. } => Some(*until),
            AppState::CommittingBefore { .. }
            | AppState::CommittingAfter { .. }
            | AppState::Transforming { .. }
            | AppState::CommittingTxn => None,
        };
        let output = self
            .output
            .as_ref()
            .and_then(TransformOutput::next_deadline);
        [self.consumer.next_deadline(), app, output]
            .into_iter()
            .flatten()
            .min()
    }

    /// The poll loop, as far as it goes now. Returns true if the application crashed.
    pub(super) fn run(
        &mut self,
        node: NodeId,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) -> bool {
        loop {
            let mut committed = None;
            while let Some(event) = self.consumer.poll_event() {
                if let ConsumerEvent::Committed { commit_id, .. } = &event {
                    committed = Some(*commit_id);
                }
                self.record(node, event, now, out, history, stats);
            }
            let output = match &mut self.output {
                Some(o) => o.drain(node, now, out, history, stats),
                None => OutputStatus::Working,
            };
            if output == OutputStatus::Failed {
                // Fenced or failed: the application exits (and a new life starts over).
                self.crash_output(node, now, out, history);
                return true;
            }
            let output_ready = self.output.as_ref().is_none_or(TransformOutput::ready);
            let next = match std::mem::replace(&mut self.app, AppState::Polling { next_poll: now })
            {
                AppState::Polling { next_poll } if now >= next_poll && output_ready => {
                    let records = self.consumer.poll(now);
                    if records.is_empty() {
                        AppState::Polling {
                            next_poll: now.plus(self.spec.poll_idle_ms),
                        }
                    } else {
                        out.trace(TraceEvent::Polled {
                            client: node,
                            records: records.len(),
                        });
                        for r in &records {
                            history.push(Op::Poll {
                                consumer: self.life.clone(),
                                tp: r.tp.clone(),
                                offset: r.offset,
                                value: value_of(r),
                                at: now,
                                read_committed: self.spec.config.isolation_level
                                    == IsolationLevel::ReadCommitted,
                            });
                        }
                        stats.polled += records.len() as u64;
                        if let Some(output) = &mut self.output {
                            output.transform(node, &records, now, out, history, stats);
                            AppState::Transforming { records }
                        } else if self.spec.commit == CommitMode::SyncBeforeProcessing {
                            let commit_id = self.consumer.commit(next_offsets(&records), now);
                            AppState::CommittingBefore { commit_id, records }
                        } else {
                            let until = now.plus(Millis(
                                self.processing_ms_per_record.0 * records.len() as u64,
                            ));
                            AppState::Processing { until, records }
                        }
                    }
                }
                AppState::CommittingBefore { commit_id, records }
                    if committed == Some(commit_id) =>
                {
                    if self.crash_at == Some(CrashPoint::AfterCommitBeforeProcessing) {
                        return true;
                    }
                    let until = now.plus(Millis(
                        self.processing_ms_per_record.0 * records.len() as u64,
                    ));
                    AppState::Processing { until, records }
                }
                AppState::Processing { until, records } if now >= until => {
                    self.processed(&records, now, history, stats);
                    if self.crash_at == Some(CrashPoint::AfterProcessingBeforeCommit) {
                        return true;
                    }
                    match self.spec.commit {
                        CommitMode::SyncAfterProcessing => {
                            let commit_id = self.consumer.commit(next_offsets(&records), now);
                            AppState::CommittingAfter { commit_id }
                        }
                        CommitMode::AsyncAfterProcessing => {
                            self.consumer.commit(next_offsets(&records), now);
                            AppState::Polling { next_poll: now }
                        }
                        CommitMode::Auto | CommitMode::SyncBeforeProcessing => {
                            AppState::Polling { next_poll: now }
                        }
                    }
                }
                AppState::CommittingAfter { commit_id } if committed == Some(commit_id) => {
                    AppState::Polling { next_poll: now }
                }
                AppState::Transforming { records }
                    if self.output.as_ref().is_some_and(TransformOutput::delivered) =>
                {
                    self.processed(&records, now, history, stats);
                    if self.crash_at == Some(CrashPoint::AfterProcessingBeforeCommit) {
                        self.crash_output(node, now, out, history);
                        return true;
                    }
                    let offsets = next_offsets(&records);
                    let output = self.output.as_mut().expect("transforming");
                    if output.exactly_once() {
                        output.commit(
                            &self.spec.config.group_id,
                            self.consumer.generation_id(),
                            self.consumer.member_id(),
                            offsets,
                            now,
                        );
                        AppState::CommittingTxn
                    } else {
                        let commit_id = self.consumer.commit(offsets, now);
                        AppState::CommittingAfter { commit_id }
                    }
                }
                AppState::CommittingTxn if output == OutputStatus::Committed => {
                    AppState::Polling { next_poll: now }
                }
                waiting => {
                    self.app = waiting;
                    return false;
                }
            };
            self.app = next;
        }
    }

    fn processed(
        &self,
        records: &[ConsumerRecord],
        now: Millis,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        for r in records {
            history.push(Op::Process {
                consumer: self.life.clone(),
                tp: r.tp.clone(),
                offset: r.offset,
                value: value_of(r),
                at: now,
            });
        }
        stats.processed += records.len() as u64;
    }

    fn crash_output(&mut self, node: NodeId, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) {
        if let Some(output) = &mut self.output {
            output.crash(node, now, out, history);
        }
    }

    /// A response, to the consumer or to the output producer (by correlation id).
    pub fn handle_response(&mut self, correlation_id: u64, response: Response, now: Millis) {
        match &mut self.output {
            Some(output) if correlation_id >= OUTPUT_CORRELATION_BASE => {
                output.handle_response(correlation_id - OUTPUT_CORRELATION_BASE, response, now);
            }
            _ => self.consumer.handle_response(correlation_id, response, now),
        }
    }

    pub fn handle_disconnect(&mut self, peer: Destination, now: Millis) {
        self.consumer.handle_disconnect(peer, now);
        if let Some(output) = &mut self.output {
            output.handle_disconnect(peer, now);
        }
    }

    pub fn tick(&mut self, now: Millis) {
        self.consumer.tick(now);
        if let Some(output) = &mut self.output {
            output.tick(now);
        }
    }

    /// Hands what the consumer and the output producer want sent to the network.
    pub(super) fn ship(&mut self, node: NodeId, out: &mut Outbox) {
        ship(
            node,
            std::iter::from_fn(|| self.consumer.poll_outgoing()),
            out,
        );
        if let Some(output) = &mut self.output {
            ship(node, std::iter::from_fn(|| output.poll_outgoing()), out);
        }
    }

    pub(super) fn record(
        &mut self,
        node: NodeId,
        event: ConsumerEvent,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        match event {
            ConsumerEvent::Joined {
                generation_id,
                leader,
                ..
            } => {
                out.trace(TraceEvent::Joined {
                    client: node,
                    generation_id,
                    leader,
                });
            }
            ConsumerEvent::Assigned { partitions } => {
                out.trace(TraceEvent::Synced {
                    client: node,
                    assigned: partitions.clone(),
                });
                history.push(Op::Assign {
                    consumer: self.life.clone(),
                    partitions,
                    at: now,
                });
            }
            ConsumerEvent::Revoked { partitions, .. } => {
                out.trace(TraceEvent::Revoked {
                    client: node,
                    partitions: partitions.clone(),
                });
                stats.revoked += partitions.len() as u64;
                history.push(Op::Revoke {
                    consumer: self.life.clone(),
                    partitions,
                    at: now,
                });
            }
            ConsumerEvent::Committed { offsets, error, .. } => {
                if error.is_some() {
                    stats.commits_failed += 1;
                }
                out.trace(TraceEvent::Commit {
                    client: node,
                    offsets,
                    error: error.map(|e| e.name().to_string()),
                });
            }
            ConsumerEvent::PositionSet { .. }
            | ConsumerEvent::NoOffset { .. }
            | ConsumerEvent::Left { .. } => {}
        }
    }
}

fn value_of(record: &ConsumerRecord) -> String {
    record
        .value
        .as_deref()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

/// The offsets to commit after `records`: one past the last of each partition.
fn next_offsets(records: &[ConsumerRecord]) -> Vec<(TopicPartition, i64)> {
    let mut next: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    for r in records {
        let entry = next.entry(r.tp.clone()).or_insert(r.offset + 1);
        *entry = (*entry).max(r.offset + 1);
    }
    next.into_iter().collect()
}
