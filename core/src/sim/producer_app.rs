//! A producer application: sends its workload's messages on schedule, each with a value
//! unique in the run, and records sends and delivery reports in the history.

use std::collections::BTreeMap;

use super::app_history::{Delivery, acknowledged};
use super::client_node::ClientStats;
use super::node::NodeId;
use super::outbox::Outbox;
use super::spec::ProducerSpec;
use super::trace::TraceEvent;
use crate::Millis;
use crate::checker::Op;
use crate::client::producer::{Producer, ProducerEvent, SendId};
use crate::controller::BrokerId;

pub struct ProducerProcess {
    pub producer: Producer,
    spec: ProducerSpec,
    sent: u64,
    next_send: Millis,
    values: BTreeMap<SendId, String>,
}

impl ProducerProcess {
    pub fn new(
        spec: &ProducerSpec,
        brokers: &[BrokerId],
        seed: u64,
        now: Millis,
    ) -> ProducerProcess {
        ProducerProcess {
            producer: Producer::new(spec.config.clone(), brokers.to_vec(), seed),
            spec: spec.clone(),
            sent: 0,
            next_send: now,
            values: BTreeMap::new(),
        }
    }

    /// The next send, or what the producer itself waits for.
    pub fn next_deadline(&self) -> Option<Millis> {
        let next_send = (self.sent < self.spec.messages).then_some(self.next_send);
        [self.producer.next_deadline(), next_send]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends every message due by now.
    pub(super) fn run(&mut self, now: Millis, history: &mut Vec<Op>, stats: &mut ClientStats) {
        while self.sent < self.spec.messages && now >= self.next_send {
            let n = self.sent;
            self.sent += 1;
            self.next_send = self.next_send.plus(self.spec.interval_ms);
            let value = format!("{}-{n}", self.spec.name);
            let key = (self.spec.keys > 0).then(|| format!("k{}", n % u64::from(self.spec.keys)));
            let every = self.spec.tombstone_every;
            let tombstone = every > 0 && n % every == every - 1;
            let id = self.producer.send_record(
                &self.spec.topic,
                key.as_deref().map(str::as_bytes),
                (!tombstone).then_some(value.as_bytes()),
                now,
            );
            self.values.insert(id, value.clone());
            history.push(Op::Send {
                producer: self.spec.name.clone(),
                value,
                key,
                at: now,
                tombstone,
                txn: None,
                source: None,
            });
            stats.sent += 1;
        }
    }

    pub(super) fn record(
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
                let delivery = Delivery {
                    producer,
                    value,
                    tp,
                    offset,
                };
                acknowledged(node, delivery, now, out, history, stats);
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
