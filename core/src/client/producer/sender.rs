//! The sending side: ready batches go to their leaders, answers settle them (delivered,
//! retried after `retry.backoff.ms`, or failed), and records past `delivery.timeout.ms` fail.

use std::collections::BTreeMap;

use super::accumulator::{self, PendingRecord};
use super::config::IDEMPOTENT_MAX_IN_FLIGHT;
use super::{InFlight, Producer, ProducerEvent};
use crate::assignor::TopicPartition;
use crate::broker::{ProducePartition, ProduceRequest};
use crate::client::{Destination, Outgoing, Request};
use crate::controller::BrokerId;
use crate::{ErrorCode, Millis};

impl Producer {
    /// Sends ready batches: one request per leader with at most one batch per partition,
    /// within `max.in.flight`. With idempotence a partition's batches go strictly in order.
    pub(super) fn drain(&mut self, now: Millis) {
        let mut per_broker: BTreeMap<BrokerId, Vec<(TopicPartition, u64)>> = BTreeMap::new();
        let idempotent = self.config.enable_idempotence;
        for (tp, queue) in &self.accumulator.queues {
            let Some(leader) = self.leader_of(tp) else {
                continue;
            };
            if self.requests.count_to(Destination::Broker(leader)) >= self.config.max_in_flight {
                continue;
            }
            // With idempotence a partition never runs more than five batches ahead of its
            // oldest unacknowledged one: the broker remembers five, so a retry of the oldest
            // is always recognised as a duplicate.
            let oldest = queue.iter().filter_map(|b| b.send_index).min();
            let next_index = self.next_send_index.get(tp).copied().unwrap_or(0);
            let window_full = idempotent
                && oldest.is_some_and(|o| next_index - o >= IDEMPOTENT_MAX_IN_FLIGHT as u64);
            for batch in queue {
                if batch.send_index.is_none() && window_full {
                    break;
                }
                if accumulator::Accumulator::is_ready(batch, self.config.linger_ms, now) {
                    per_broker
                        .entry(leader)
                        .or_default()
                        .push((tp.clone(), batch.batch_id));
                    break;
                }
                if idempotent && !batch.in_flight {
                    break; // an earlier batch must go first
                }
            }
        }
        for (broker, batches) in per_broker {
            if self.requests.count_to(Destination::Broker(broker)) >= self.config.max_in_flight {
                continue;
            }
            let mut partitions = Vec::with_capacity(batches.len());
            for (tp, batch_id) in &batches {
                let producer = self.producer_id;
                let count = self.partition_count(&tp.topic);
                let batch = self
                    .accumulator
                    .get_mut(tp, *batch_id)
                    .expect("batch chosen above");
                if idempotent && batch.base_sequence.is_none() {
                    let next = self.next_sequence.entry(tp.clone()).or_insert(0);
                    batch.base_sequence = Some(*next);
                    *next = next.wrapping_add(batch.records.len() as i32);
                }
                let first_send = batch.attempts == 0;
                if batch.send_index.is_none() {
                    let index = self.next_send_index.entry(tp.clone()).or_insert(0);
                    batch.send_index = Some(*index);
                    *index += 1;
                }
                batch.in_flight = true;
                batch.sealed = true;
                batch.attempts += 1;
                partitions.push(ProducePartition {
                    tp: tp.clone(),
                    records: batch.encode(producer),
                });
                if first_send {
                    let rng = &mut self.rng;
                    let mut choose = |n: u32| rng.below(u64::from(n)) as u32;
                    self.config.partitioner.batch_sent(
                        &tp.topic,
                        tp.partition as u32,
                        count,
                        &mut choose,
                    );
                }
            }
            let request = ProduceRequest {
                acks: self.config.acks,
                timeout_ms: self.config.request_timeout_ms,
                partitions,
            };
            if self.config.acks == 0 {
                // Nothing comes back: each record counts as delivered once it is on the wire.
                self.outgoing.push_back(Outgoing {
                    to: Destination::Broker(broker),
                    correlation_id: 0,
                    request: Request::Produce(request),
                });
                for (tp, batch_id) in batches {
                    self.delivered(&tp, batch_id, -1);
                }
            } else {
                self.send_request(
                    Destination::Broker(broker),
                    Request::Produce(request),
                    InFlight::Produce(batches),
                    now,
                );
            }
        }
    }

    pub(super) fn leader_of(&self, tp: &TopicPartition) -> Option<BrokerId> {
        let leader = self
            .metadata
            .get(&tp.topic)?
            .get(tp.partition as usize)?
            .leader;
        (leader >= 0).then_some(leader)
    }

    pub(super) fn partition_count(&self, topic: &str) -> u32 {
        self.metadata
            .get(topic)
            .map_or(1, |p| p.len() as u32)
            .max(1)
    }

    pub(super) fn delivered(&mut self, tp: &TopicPartition, batch_id: u64, base_offset: i64) {
        let Some(batch) = self.accumulator.remove(tp, batch_id) else {
            return;
        };
        for (i, record) in batch.records.iter().enumerate() {
            let offset = if base_offset < 0 {
                -1
            } else {
                base_offset.saturating_add(i as i64)
            };
            self.events.push_back(ProducerEvent::Delivered {
                id: record.id,
                tp: tp.clone(),
                offset,
            });
        }
    }

    /// A batch's request failed with `error`: retry it if the error and the budget allow,
    /// else report its records failed.
    pub(super) fn batch_failed(
        &mut self,
        tp: &TopicPartition,
        batch_id: u64,
        error: ErrorCode,
        now: Millis,
    ) {
        // Java's rule (KIP-360): an out-of-order sequence behind an earlier batch still in
        // play is the earlier batch's failure showing; retry instead of failing.
        let out_of_order_behind = error == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
            && self.accumulator.has_earlier(tp, batch_id);
        let retriable = error.is_retriable() || out_of_order_behind;
        if matches!(
            error,
            ErrorCode::NOT_LEADER_OR_FOLLOWER
                | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                | ErrorCode::FENCED_LEADER_EPOCH
                | ErrorCode::LEADER_NOT_AVAILABLE
        ) {
            self.metadata_stale = true;
        }
        let retries = self.config.retries;
        let deadline = self.config.delivery_timeout_ms;
        let backoff = self.config.retry_backoff_ms;
        let Some(batch) = self.accumulator.get_mut(tp, batch_id) else {
            return;
        };
        batch.in_flight = false;
        let expired = now >= batch.oldest().plus(deadline);
        if retriable && batch.attempts <= retries && !expired {
            batch.retry_at = now.plus(backoff);
            let (records, attempt) = (batch.records.len(), batch.attempts);
            self.events.push_back(ProducerEvent::Retrying {
                tp: tp.clone(),
                records,
                attempt,
                error,
            });
            return;
        }
        let error = if expired {
            ErrorCode::REQUEST_TIMED_OUT
        } else {
            error
        };
        let batch = self.accumulator.remove(tp, batch_id).expect("found above");
        self.fail_records(Some(tp.clone()), batch.records, error);
        if self.config.enable_idempotence {
            self.bump_epoch();
        }
    }

    /// After a batch failed for good its sequence numbers leave a gap the broker would refuse
    /// forever; as the Java client does (KIP-360), start a new epoch with sequences from 0.
    pub(super) fn bump_epoch(&mut self) {
        if let Some((_, epoch)) = &mut self.producer_id {
            *epoch = epoch.wrapping_add(1);
        }
        self.next_sequence.clear();
        for batch in self.accumulator.queues.values_mut().flatten() {
            batch.base_sequence = None;
        }
    }

    pub(super) fn fail_records(
        &mut self,
        tp: Option<TopicPartition>,
        records: Vec<PendingRecord>,
        error: ErrorCode,
    ) {
        for record in records {
            self.events.push_back(ProducerEvent::Failed {
                id: record.id,
                tp: tp.clone(),
                error,
            });
        }
    }

    /// Fails every record past `delivery.timeout.ms` that is not on the wire.
    pub(super) fn expire(&mut self, now: Millis) {
        let timeout = self.config.delivery_timeout_ms;
        let mut expired_waiting = Vec::new();
        self.waiting_for_metadata.retain(|u| {
            let keep = now < u.record.enqueued.plus(timeout);
            if !keep {
                expired_waiting.push(u.record.clone());
            }
            keep
        });
        self.fail_records(None, expired_waiting, ErrorCode::REQUEST_TIMED_OUT);
        let expired: Vec<(TopicPartition, u64)> = self
            .accumulator
            .queues
            .values()
            .flatten()
            .filter(|b| !b.in_flight && now >= b.oldest().plus(timeout))
            .map(|b| (b.tp.clone(), b.batch_id))
            .collect();
        for (tp, batch_id) in expired {
            let batch = self
                .accumulator
                .remove(&tp, batch_id)
                .expect("listed above");
            self.fail_records(Some(tp), batch.records, ErrorCode::REQUEST_TIMED_OUT);
            if self.config.enable_idempotence {
                self.bump_epoch();
            }
        }
    }
}
