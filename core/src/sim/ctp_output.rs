//! The producing half of a consume-transform-produce application (`spec::Transform`): each
//! polled record becomes one output record, its value unique in the run and its `source` the
//! input's value. Exactly-once: a transactional producer, one transaction per poll, the
//! consumer's offsets committed in it (`sendOffsetsToTransaction`); every life of the
//! application has the same `transactional.id`, so a restarted one fences its predecessor and
//! its open transaction is aborted. At-least-once: an idempotent producer; the application
//! commits the offsets itself once the outputs are acknowledged.

use std::collections::BTreeMap;

use super::app_history::{Delivery, acknowledged, transaction_ended};
use super::client_node::ClientStats;
use super::node::NodeId;
use super::outbox::Outbox;
use super::spec::Transform;
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Op, TxnOutcome};
use crate::client::consumer::ConsumerRecord;
use crate::client::producer::{Producer, ProducerConfig, ProducerEvent};
use crate::client::transactional::{
    TransactionalConfig, TransactionalProducer, TxnEvent, TxnPhase,
};
use crate::client::{Destination, Outgoing, Response};
use crate::controller::BrokerId;

/// Correlation ids of the output producer's requests start here, so that one client process
/// can tell its consumer's answers from its producer's.
pub const OUTPUT_CORRELATION_BASE: u64 = 1 << 48;

enum Client {
    ExactlyOnce(TransactionalProducer),
    AtLeastOnce(Producer),
}

/// What the output side reports to the application loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputStatus {
    Working,
    /// The transaction committed (exactly-once).
    Committed,
    /// Fenced or failed: the application must stop (and restart).
    Failed,
}

pub struct TransformOutput {
    transform: Transform,
    client: Client,
    life: String,
    /// Outputs sent and not yet acknowledged: send id -> value.
    pending: BTreeMap<u64, String>,
    sent: u64,
    transactions: u64,
    /// The open transaction, and whether its commit was asked for.
    open: Option<(String, bool)>,
    failed: bool,
    committed: bool,
}

impl TransformOutput {
    pub fn new(
        transform: &Transform,
        brokers: &[BrokerId],
        life: &str,
        seed: u64,
        now: Millis,
    ) -> TransformOutput {
        let client = if transform.exactly_once {
            let mut config = TransactionalConfig::new(&transform.transactional_id);
            config.request_timeout_ms = Millis(1_000);
            config.transaction_timeout_ms = 10_000;
            let mut producer = TransactionalProducer::new(config, brokers.to_vec());
            producer.init_transactions(now);
            Client::ExactlyOnce(producer)
        } else {
            let config = ProducerConfig {
                client_id: life.to_string(),
                enable_idempotence: true,
                linger_ms: Millis(5),
                request_timeout_ms: Millis(1_000),
                delivery_timeout_ms: Millis(20_000),
                ..ProducerConfig::default()
            };
            Client::AtLeastOnce(Producer::new(config, brokers.to_vec(), seed))
        };
        TransformOutput {
            transform: transform.clone(),
            client,
            life: life.to_string(),
            pending: BTreeMap::new(),
            sent: 0,
            transactions: 0,
            open: None,
            failed: false,
            committed: false,
        }
    }

    pub fn exactly_once(&self) -> bool {
        self.transform.exactly_once
    }

    /// Ready for the next poll: initialized, no transaction under way.
    pub fn ready(&self) -> bool {
        match &self.client {
            Client::ExactlyOnce(p) => p.phase() == TxnPhase::Ready,
            Client::AtLeastOnce(_) => true,
        }
    }

    /// Sends one output per record (in a new transaction with exactly-once).
    pub fn transform(
        &mut self,
        node: NodeId,
        records: &[ConsumerRecord],
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        let txn = match &mut self.client {
            Client::ExactlyOnce(p) => {
                p.begin_transaction();
                self.transactions += 1;
                let txn = format!("{}.{}", self.life, self.transactions);
                out.trace(TraceEvent::Transaction {
                    client: node,
                    description: format!("{txn} begins"),
                });
                self.open = Some((txn.clone(), false));
                Some(txn)
            }
            Client::AtLeastOnce(_) => None,
        };
        for record in records {
            let source = record
                .value
                .as_deref()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            let value = format!("{}-{}", self.life, self.sent);
            self.sent += 1;
            let partition = record.tp.partition % self.transform.output_partitions.max(1) as i32;
            let tp = TopicPartition::new(&self.transform.output, partition);
            let id = match &mut self.client {
                Client::ExactlyOnce(p) => p
                    .send(tp, None, value.as_bytes(), now)
                    .expect("in a transaction"),
                Client::AtLeastOnce(p) => {
                    p.send(&self.transform.output, None, value.as_bytes(), now)
                }
            };
            self.pending.insert(id, value.clone());
            history.push(Op::Send {
                producer: self.life.clone(),
                value,
                key: None,
                at: now,
                tombstone: false,
                txn: txn.clone(),
                source: Some(source),
            });
            stats.sent += 1;
        }
    }

    /// Every output of the current poll is acknowledged.
    pub fn delivered(&self) -> bool {
        self.pending.is_empty()
    }

    /// Exactly-once: the consumer's next offsets go into the transaction, which commits.
    pub fn commit(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        offsets: Vec<(TopicPartition, i64)>,
        now: Millis,
    ) {
        if let Client::ExactlyOnce(p) = &mut self.client {
            p.send_offsets_to_transaction(group_id, generation_id, member_id, offsets, now);
            p.commit_transaction(now);
            if let Some(open) = &mut self.open {
                open.1 = true;
            }
        }
    }

    /// Takes the producer's reports into the history; what the application must know.
    pub fn drain(
        &mut self,
        node: NodeId,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) -> OutputStatus {
        loop {
            let delivered = match &mut self.client {
                Client::ExactlyOnce(p) => match p.poll_event() {
                    None => break,
                    Some(TxnEvent::Delivered { id, tp, offset }) => Some((id, tp, offset)),
                    Some(TxnEvent::Committed) => {
                        self.end(node, TxnOutcome::Commit, now, out, history);
                        self.committed = true;
                        None
                    }
                    Some(TxnEvent::Aborted) => {
                        self.end(node, TxnOutcome::Abort, now, out, history);
                        None
                    }
                    Some(TxnEvent::Initialized {
                        producer_id,
                        producer_epoch,
                    }) => {
                        out.trace(TraceEvent::Transaction {
                            client: node,
                            description: format!(
                                "initialized id={producer_id} epoch={producer_epoch}"
                            ),
                        });
                        None
                    }
                    Some(TxnEvent::Fenced { error } | TxnEvent::Error { error, .. }) => {
                        *stats.errors.entry(error.name().to_string()).or_insert(0) += 1;
                        self.failed = true;
                        None
                    }
                },
                Client::AtLeastOnce(p) => match p.poll_event() {
                    None => break,
                    Some(ProducerEvent::Delivered { id, tp, offset }) => Some((id, tp, offset)),
                    Some(ProducerEvent::Failed { id, error, .. }) => {
                        self.pending.remove(&id);
                        *stats.errors.entry(error.name().to_string()).or_insert(0) += 1;
                        self.failed = true;
                        None
                    }
                    Some(_) => None,
                },
            };
            if let Some((id, tp, offset)) = delivered
                && let Some(value) = self.pending.remove(&id)
            {
                let delivery = Delivery {
                    producer: self.life.clone(),
                    value,
                    tp,
                    offset,
                };
                acknowledged(node, delivery, now, out, history, stats);
            }
        }
        if self.failed {
            OutputStatus::Failed
        } else if std::mem::take(&mut self.committed) {
            OutputStatus::Committed
        } else {
            OutputStatus::Working
        }
    }

    /// The application dies: its open transaction is aborted by the coordinator (by the next
    /// life's `initTransactions` or on timeout), unless its commit was already asked for.
    pub fn crash(&mut self, node: NodeId, now: Millis, out: &mut Outbox, history: &mut Vec<Op>) {
        let outcome = match &self.open {
            Some((_, true)) => TxnOutcome::Unknown,
            _ => TxnOutcome::Abort,
        };
        self.end(node, outcome, now, out, history);
    }

    fn end(
        &mut self,
        node: NodeId,
        outcome: TxnOutcome,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) {
        transaction_ended(node, &self.life, &mut self.open, outcome, now, out, history);
    }

    pub fn handle_response(&mut self, correlation_id: u64, response: Response, now: Millis) {
        match &mut self.client {
            Client::ExactlyOnce(p) => p.handle_response(correlation_id, response, now),
            Client::AtLeastOnce(p) => p.handle_response(correlation_id, response, now),
        }
    }

    pub fn handle_disconnect(&mut self, peer: Destination, now: Millis) {
        match &mut self.client {
            Client::ExactlyOnce(p) => p.handle_disconnect(peer, now),
            Client::AtLeastOnce(p) => p.handle_disconnect(peer, now),
        }
    }

    pub fn tick(&mut self, now: Millis) {
        match &mut self.client {
            Client::ExactlyOnce(p) => p.tick(now),
            Client::AtLeastOnce(p) => p.tick(now),
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        match &self.client {
            Client::ExactlyOnce(p) => p.next_deadline(),
            Client::AtLeastOnce(p) => p.next_deadline(),
        }
    }

    /// The next request, its correlation id moved past [`OUTPUT_CORRELATION_BASE`].
    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        let mut o = match &mut self.client {
            Client::ExactlyOnce(p) => p.poll_outgoing(),
            Client::AtLeastOnce(p) => p.poll_outgoing(),
        }?;
        o.correlation_id += OUTPUT_CORRELATION_BASE;
        Some(o)
    }
}
