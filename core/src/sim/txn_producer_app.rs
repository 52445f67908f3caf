//! A transactional producer application: `initTransactions`, then its workload's sends in
//! transactions (round-robin over the topic's partitions), each committed or, every
//! `abort_every`-th, aborted; a fenced producer stops for good, as a Java application gets
//! `ProducerFencedException` and closes. Sends, acknowledgements and every transaction's
//! outcome go to the history.

use std::collections::BTreeMap;

use super::app_history::{Delivery, acknowledged, transaction_ended};
use super::client_node::ClientStats;
use super::node::NodeId;
use super::outbox::Outbox;
use super::spec::{ProducerSpec, TxnWorkload};
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::checker::{Op, TxnOutcome};
use crate::client::transactional::{
    TransactionalConfig, TransactionalProducer, TxnEvent, TxnPhase, TxnSendId,
};
use crate::controller::BrokerId;

pub struct TxnProducerProcess {
    pub producer: TransactionalProducer,
    spec: ProducerSpec,
    workload: TxnWorkload,
    sent: u64,
    next_send: Millis,
    values: BTreeMap<TxnSendId, String>,
    /// Transactions begun so far; the open one's id, and whether commit was asked.
    transactions: u64,
    open: Option<(String, bool)>,
    /// The open transaction has all its sends; it aborts once they are acknowledged (so
    /// that its records are in the log, to be skipped by read_committed).
    abort_when_delivered: bool,
}

impl TxnProducerProcess {
    pub fn new(
        spec: &ProducerSpec,
        workload: &TxnWorkload,
        brokers: &[BrokerId],
        now: Millis,
    ) -> TxnProducerProcess {
        let mut config = TransactionalConfig::new(&workload.transactional_id);
        config.transaction_timeout_ms = workload.timeout_ms;
        config.request_timeout_ms = spec.config.request_timeout_ms;
        config.retry_backoff_ms = spec.config.retry_backoff_ms;
        let mut producer = TransactionalProducer::new(config, brokers.to_vec());
        producer.init_transactions(now);
        TxnProducerProcess {
            producer,
            spec: spec.clone(),
            workload: workload.clone(),
            sent: 0,
            next_send: now,
            values: BTreeMap::new(),
            transactions: 0,
            open: None,
            abort_when_delivered: false,
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        let sending = self.sent < self.spec.messages
            && matches!(
                self.producer.phase(),
                TxnPhase::Ready | TxnPhase::InTransaction
            );
        [
            self.producer.next_deadline(),
            sending.then_some(self.next_send),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sends what is due; ends the transaction once it holds its share of sends.
    pub(super) fn run(
        &mut self,
        node: NodeId,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        if self.abort_when_delivered && self.values.is_empty() {
            self.abort_when_delivered = false;
            self.producer.abort_transaction(now);
            return;
        }
        while self.sent < self.spec.messages && now >= self.next_send {
            if self.producer.phase() == TxnPhase::Ready {
                self.producer.begin_transaction();
                self.transactions += 1;
                let txn = format!("{}.{}", self.spec.name, self.transactions);
                out.trace(TraceEvent::Transaction {
                    client: node,
                    description: format!("{txn} begins"),
                });
                self.open = Some((txn, false));
            }
            let Some((txn, _)) = self.open.clone() else {
                return;
            };
            if self.producer.phase() != TxnPhase::InTransaction || self.abort_when_delivered {
                return;
            }
            let n = self.sent;
            self.sent += 1;
            self.next_send = self.next_send.plus(self.spec.interval_ms);
            let value = format!("{}-{n}", self.spec.name);
            let partition = (n % u64::from(self.workload.partitions.max(1))) as i32;
            let tp = TopicPartition::new(&self.spec.topic, partition);
            let id = self
                .producer
                .send(tp, None, value.as_bytes(), now)
                .expect("in a transaction");
            self.values.insert(id, value.clone());
            history.push(Op::Send {
                producer: self.spec.name.clone(),
                value,
                key: None,
                at: now,
                tombstone: false,
                txn: Some(txn),
                source: None,
            });
            stats.sent += 1;
            let in_txn = self.sent - (self.transactions - 1) * self.workload.per_transaction;
            if in_txn >= self.workload.per_transaction || self.sent == self.spec.messages {
                let abort = self.workload.abort_every > 0
                    && self.transactions.is_multiple_of(self.workload.abort_every);
                if abort {
                    self.abort_when_delivered = true;
                } else {
                    self.producer.commit_transaction(now);
                    if let Some(open) = &mut self.open {
                        open.1 = true;
                    }
                }
                return;
            }
        }
    }

    pub(super) fn record(
        &mut self,
        node: NodeId,
        event: TxnEvent,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
        stats: &mut ClientStats,
    ) {
        let producer = self.spec.name.clone();
        match event {
            TxnEvent::Initialized {
                producer_id,
                producer_epoch,
            } => out.trace(TraceEvent::Transaction {
                client: node,
                description: format!("initialized id={producer_id} epoch={producer_epoch}"),
            }),
            TxnEvent::Delivered { id, tp, offset } => {
                let value = self.values.remove(&id).expect("a report per send");
                let delivery = Delivery {
                    producer,
                    value,
                    tp,
                    offset,
                };
                acknowledged(node, delivery, now, out, history, stats);
            }
            TxnEvent::Committed | TxnEvent::Aborted => {
                let outcome = if event == TxnEvent::Committed {
                    TxnOutcome::Commit
                } else {
                    TxnOutcome::Abort
                };
                self.end(node, outcome, now, out, history);
            }
            TxnEvent::Fenced { error } | TxnEvent::Error { error, .. } => {
                *stats.errors.entry(error.name().to_string()).or_insert(0) += 1;
                out.trace(TraceEvent::Transaction {
                    client: node,
                    description: format!("failed: {}", error.name()),
                });
                // Fenced before its commit was asked: the coordinator can only abort it.
                let outcome = match &self.open {
                    Some((_, true)) => TxnOutcome::Unknown,
                    _ => TxnOutcome::Abort,
                };
                self.end(node, outcome, now, out, history);
                self.abort_when_delivered = false;
                if matches!(self.producer.phase(), TxnPhase::InTransaction) {
                    self.producer.abort_transaction(now);
                }
            }
        }
    }

    fn end(
        &mut self,
        node: NodeId,
        outcome: TxnOutcome,
        now: Millis,
        out: &mut Outbox,
        history: &mut Vec<Op>,
    ) {
        let name = &self.spec.name;
        transaction_ended(node, name, &mut self.open, outcome, now, out, history);
    }
}
