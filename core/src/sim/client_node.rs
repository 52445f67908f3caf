//! Client processes: a producer or consumer application around the simulated client, with
//! its workload (what it sends, how it polls, processes and commits) and its history.

use std::collections::BTreeMap;

use super::message::Message;
use super::node::NodeId;
use super::outbox::Outbox;
use super::spec::{ClientSpec, CommitMode, ConsumerSpec, CrashPoint, ProducerSpec};
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::Op;
use crate::client::consumer::{Consumer, ConsumerEvent, ConsumerRecord};
use crate::client::producer::{Producer, ProducerEvent, SendId};
use crate::client::{Destination, Outgoing};
use crate::controller::BrokerId;

/// Counters the scenarios report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub sent: u64,
    pub acknowledged: u64,
    pub failed: u64,
    /// Failures and retries by error name.
    pub errors: BTreeMap<String, u64>,
    pub polled: u64,
    pub processed: u64,
    pub revoked: u64,
    pub commits_failed: u64,
}

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
}

pub struct ProducerProcess {
    pub producer: Producer,
    spec: ProducerSpec,
    sent: u64,
    next_send: Millis,
    values: BTreeMap<SendId, String>,
}

pub struct ConsumerProcess {
    pub consumer: Consumer,
    spec: ConsumerSpec,
    /// This life's name in the history: `name#incarnation`.
    pub life: String,
    app: AppState,
    pub processing_ms_per_record: Millis,
    pub crash_at: Option<CrashPoint>,
}

pub enum Running {
    Producer(ProducerProcess),
    Consumer(ConsumerProcess),
}

/// One client process over its lives.
pub struct ClientProcess {
    pub index: usize,
    pub spec: ClientSpec,
    pub incarnation: u32,
    /// `None` before its start and after a crash.
    pub running: Option<Running>,
    pub stats: ClientStats,
    /// Processing speed set by a fault, kept across restarts.
    slow_ms_per_record: Option<Millis>,
}

impl ClientProcess {
    pub fn new(index: usize, spec: ClientSpec) -> ClientProcess {
        ClientProcess {
            index,
            spec,
            incarnation: 0,
            running: None,
            stats: ClientStats::default(),
            slow_ms_per_record: None,
        }
    }

    pub fn node(&self) -> NodeId {
        NodeId::Client(self.index)
    }

    pub fn start_ms(&self) -> Millis {
        match &self.spec {
            ClientSpec::Producer(p) => p.start_ms,
            ClientSpec::Consumer(c) => c.start_ms,
        }
    }

    /// Starts a new life of the process.
    pub fn start(&mut self, brokers: &[BrokerId], seed: u64, now: Millis) {
        assert!(self.running.is_none(), "start of a running client");
        self.incarnation += 1;
        let running = match &self.spec {
            ClientSpec::Producer(spec) => Running::Producer(ProducerProcess {
                producer: Producer::new(spec.config.clone(), brokers.to_vec(), seed),
                spec: spec.clone(),
                sent: 0,
                next_send: now,
                values: BTreeMap::new(),
            }),
            ClientSpec::Consumer(spec) => {
                let mut consumer = Consumer::new(spec.config.clone(), brokers.to_vec(), now);
                let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
                consumer.subscribe(&topics, now);
                Running::Consumer(ConsumerProcess {
                    consumer,
                    spec: spec.clone(),
                    life: format!("{}#{}", spec.name, self.incarnation),
                    app: AppState::Polling { next_poll: now },
                    processing_ms_per_record: self
                        .slow_ms_per_record
                        .unwrap_or(spec.processing_ms_per_record),
                    crash_at: None,
                })
            }
        };
        self.running = Some(running);
    }

    pub fn slow_down(&mut self, ms_per_record: Millis) {
        self.slow_ms_per_record = Some(ms_per_record);
        if let Some(Running::Consumer(c)) = &mut self.running {
            c.processing_ms_per_record = ms_per_record;
        }
    }

    pub fn arm_crash(&mut self, at: CrashPoint) {
        if let Some(Running::Consumer(c)) = &mut self.running {
            c.crash_at = Some(at);
        }
    }

    /// Delivers a response. Returns true if the process crashed on the way.
    pub fn handle(
        &mut self,
        message: Message,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) -> bool {
        let Message::ClientResponse {
            correlation_id,
            response,
        } = message
        else {
            panic!("client-{} got {}", self.index, message.summary());
        };
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.handle_response(correlation_id, response, now),
            Some(Running::Consumer(c)) => c.consumer.handle_response(correlation_id, response, now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    /// The connection to `peer` broke (it crashed): requests in flight on it fail now.
    /// Returns true if the process crashed.
    pub fn disconnected(
        &mut self,
        peer: Destination,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) -> bool {
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.handle_disconnect(peer, now),
            Some(Running::Consumer(c)) => c.consumer.handle_disconnect(peer, now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    /// Lets time pass for the client and its application. Returns true if it crashed.
    pub fn tick(&mut self, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) -> bool {
        match &mut self.running {
            Some(Running::Producer(p)) => p.producer.tick(now),
            Some(Running::Consumer(c)) => c.consumer.tick(now),
            None => return false,
        }
        self.advance(now, out, history)
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        match &self.running {
            Some(Running::Producer(p)) => {
                let next_send = (p.sent < p.spec.messages).then_some(p.next_send);
                [p.producer.next_deadline(), next_send]
                    .into_iter()
                    .flatten()
                    .min()
            }
            Some(Running::Consumer(c)) => {
                let app = match &c.app {
                    AppState::Polling { next_poll } => Some(*next_poll),
                    AppState::Processing { until, .. } => Some(*until),
                    AppState::CommittingBefore { .. } | AppState::CommittingAfter { .. } => None,
                };
                [c.consumer.next_deadline(), app]
                    .into_iter()
                    .flatten()
                    .min()
            }
            None => None,
        }
    }

    /// Runs the application as far as it can go now, then ships what the client wants sent
    /// and records what happened. Returns true if the application crashed.
    fn advance(&mut self, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) -> bool {
        let node = self.node();
        let stats = &mut self.stats;
        let crashed = match &mut self.running {
            Some(Running::Producer(p)) => {
                p.run(now, history, stats);
                ship(node, std::iter::from_fn(|| p.producer.poll_outgoing()), out);
                while let Some(event) = p.producer.poll_event() {
                    p.record(node, event, now, out, history, stats);
                }
                false
            }
            Some(Running::Consumer(c)) => {
                let crashed = c.run(node, now, out, history, stats);
                if !crashed {
                    ship(node, std::iter::from_fn(|| c.consumer.poll_outgoing()), out);
                }
                crashed
            }
            None => false,
        };
        if crashed {
            out.trace(TraceEvent::Fault {
                description: format!("{node} crashed ({})", self.spec.name()),
            });
            self.running = None;
        }
        crashed
    }

    pub fn restart_after(&self) -> Option<Millis> {
        match &self.spec {
            ClientSpec::Consumer(c) => c.restart_after_ms,
            ClientSpec::Producer(_) => None,
        }
    }
}

fn ship(node: NodeId, outgoing: impl Iterator<Item = Outgoing>, out: &mut Outbox) {
    for o in outgoing {
        let to = match o.to {
            Destination::Broker(id) => NodeId::Broker(id),
            Destination::Coordinator => NodeId::Coordinator,
        };
        out.send(
            node,
            to,
            Message::ClientRequest {
                correlation_id: o.correlation_id,
                request: o.request,
            },
        );
    }
}

impl ProducerProcess {
    /// Sends every message due by now.
    fn run(&mut self, now: Millis, history: &mut Vec<Op>, stats: &mut ClientStats) {
        while self.sent < self.spec.messages && now >= self.next_send {
            let n = self.sent;
            self.sent += 1;
            self.next_send = self.next_send.plus(self.spec.interval_ms);
            let value = format!("{}-{n}", self.spec.name);
            let key = (self.spec.keys > 0).then(|| format!("k{}", n % u64::from(self.spec.keys)));
            let id = self.producer.send(
                &self.spec.topic,
                key.as_deref().map(str::as_bytes),
                value.as_bytes(),
                now,
            );
            self.values.insert(id, value.clone());
            history.push(Op::Send {
                producer: self.spec.name.clone(),
                value,
                key,
                at: now,
            });
            stats.sent += 1;
        }
    }

    fn record(
        &mut self,
        node: NodeId,
        event: ProducerEvent,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        let producer = self.spec.name.clone();
        match event {
            ProducerEvent::Delivered { id, tp, offset } => {
                let value = self.values.remove(&id).expect("a report per send");
                out.trace(TraceEvent::Produced {
                    client: node,
                    value: value.clone(),
                    tp: tp.clone(),
                    offset,
                });
                history.push(Op::Ack {
                    producer,
                    value,
                    tp,
                    offset,
                    at: now,
                });
                stats.acknowledged += 1;
            }
            ProducerEvent::Failed { id, error, .. } => {
                let value = self.values.remove(&id).expect("a report per send");
                out.trace(TraceEvent::ProduceFailed {
                    client: node,
                    value: value.clone(),
                    error: error.name().to_string(),
                });
                history.push(Op::Fail {
                    producer,
                    value,
                    at: now,
                });
                stats.failed += 1;
                *stats.errors.entry(error.name().to_string()).or_insert(0) += 1;
            }
            ProducerEvent::Retrying {
                tp, attempt, error, ..
            } => {
                out.trace(TraceEvent::Retry {
                    client: node,
                    tp,
                    attempt,
                    error: error.name().to_string(),
                });
                *stats.errors.entry(error.name().to_string()).or_insert(0) += 1;
            }
            ProducerEvent::ProducerId { .. } => {}
        }
    }
}

impl ConsumerProcess {
    /// The poll loop, as far as it goes now. Returns true if the application crashed.
    fn run(
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
            let next = match std::mem::replace(&mut self.app, AppState::Polling { next_poll: now })
            {
                AppState::Polling { next_poll } if now >= next_poll => {
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
                            });
                        }
                        stats.polled += records.len() as u64;
                        if self.spec.commit == CommitMode::SyncBeforeProcessing {
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
                    for r in &records {
                        history.push(Op::Process {
                            consumer: self.life.clone(),
                            tp: r.tp.clone(),
                            offset: r.offset,
                            value: value_of(r),
                            at: now,
                        });
                    }
                    stats.processed += records.len() as u64;
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
                waiting => {
                    self.app = waiting;
                    return false;
                }
            };
            self.app = next;
        }
    }

    fn record(
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
