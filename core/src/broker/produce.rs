//! Produce: append each partition's batch on the leader, then answer by `acks`.

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::group::RequestId;
use crate::log::AppendError;
use crate::storage::Storage;

use super::purgatory::{ParkedProduce, Waiting};
use super::{Broker, Output, StorageFactory};

/// `acks=all` on the wire.
pub const ACKS_ALL: i16 = -1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceRequest {
    /// 0: no answer; 1: once the leader has the batch; -1 (all): once the ISR has it.
    pub acks: i16,
    /// How long an acks=all produce may wait for the ISR.
    pub timeout_ms: Millis,
    pub partitions: Vec<ProducePartition>,
}

/// Who appends (Kafka's `AppendOrigin`, the part of it that decides what may be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOrigin {
    /// A producer, through a Produce request.
    Client,
    /// This node's group (or transaction) coordinator, writing its internal topic.
    Coordinator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducePartition {
    pub tp: TopicPartition,
    /// One record batch, exactly as the producer sent it.
    pub records: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceResponse {
    pub partitions: Vec<ProducedPartition>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducedPartition {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    pub error_message: Option<String>,
    /// The offset of the batch's first record (-1 on error).
    pub base_offset: i64,
    pub log_start_offset: i64,
    /// The broker's append time, for a `message.timestamp.type=LogAppendTime` topic (-1
    /// otherwise, and for a resent duplicate).
    pub log_append_time_ms: i64,
    /// The records that made the batch fail, by index in the batch (Produce v8+'s
    /// `record_errors`, KIP-467); empty unless `error` is INVALID_RECORD.
    pub record_errors: Vec<RecordError>,
}

/// One record refused within a batch: its index in the batch and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub batch_index: i32,
    pub message: Option<String>,
}

impl ProducedPartition {
    pub(super) fn failed(
        tp: TopicPartition,
        error: ErrorCode,
        message: Option<String>,
    ) -> ProducedPartition {
        ProducedPartition {
            tp,
            error,
            error_message: message,
            base_offset: -1,
            log_start_offset: -1,
            log_append_time_ms: -1,
            record_errors: Vec::new(),
        }
    }

    /// A batch refused for keyless records on a compacted topic, answered as Kafka does: each
    /// record with its index and message, the partition with the summary of the first three.
    fn keyless(tp: TopicPartition, batch_indexes: &[i32]) -> ProducedPartition {
        let message = format!(
            "Compacted topic cannot accept message without key in topic partition {}-{}.",
            tp.topic, tp.partition
        );
        let record_errors: Vec<RecordError> = batch_indexes
            .iter()
            .map(|&batch_index| RecordError {
                batch_index,
                message: Some(message.clone()),
            })
            .collect();
        let shown: Vec<String> = record_errors
            .iter()
            .take(3)
            .map(|e| {
                format!(
                    "RecordError(batchIndex={}, message='{message}')",
                    e.batch_index
                )
            })
            .collect();
        let summary = format!(
            "One or more records have been rejected due to {} record errors in total, and only \
             showing the first three errors at most: [{}]",
            record_errors.len(),
            shown.join(", ")
        );
        ProducedPartition {
            record_errors,
            ..ProducedPartition::failed(tp, ErrorCode::INVALID_RECORD, Some(summary))
        }
    }
}

impl<F: StorageFactory> Broker<F> {
    /// Appends and answers now, or parks the request until its acks are satisfied (see the
    /// module docs). acks=0 produces no output at all.
    pub fn produce(&mut self, request: RequestId, produce: ProduceRequest, now: Millis) {
        self.produce_from(request, produce, AppendOrigin::Client, now);
    }

    /// [`Broker::produce`] for a writer of `origin`: only a coordinator of this node may
    /// append to an internal topic; a client's batch for one is refused with
    /// INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic NAME" (Kafka's
    /// `ReplicaManager.appendToLocalLog`).
    pub fn produce_from(
        &mut self,
        request: RequestId,
        mut produce: ProduceRequest,
        origin: AppendOrigin,
        now: Millis,
    ) {
        if ![0, 1, ACKS_ALL].contains(&produce.acks) {
            let partitions = produce
                .partitions
                .into_iter()
                .map(|p| ProducedPartition::failed(p.tp, ErrorCode::INVALID_REQUIRED_ACKS, None))
                .collect();
            self.outputs.push_back(Output::Produced {
                request,
                response: ProduceResponse { partitions },
            });
            return;
        }
        let mut refused = Vec::new();
        if origin == AppendOrigin::Client {
            produce.partitions.retain(|p| {
                if !crate::controller::is_internal_topic(&p.tp.topic) {
                    return true;
                }
                let message = format!("Cannot append to internal topic {}", p.tp.topic);
                refused.push(ProducedPartition::failed(
                    p.tp.clone(),
                    ErrorCode::INVALID_TOPIC_EXCEPTION,
                    Some(message),
                ));
                false
            });
        }
        let durable = self.settings.durable;
        let waiting: Vec<Waiting> = produce
            .partitions
            .into_iter()
            .map(
                |p| match self.append(p.tp.clone(), p.records, produce.acks, now) {
                    Ok((result, last_offset, leader_epoch)) => {
                        let needs_ack = match produce.acks {
                            ACKS_ALL => true,
                            1 => durable,
                            _ => false,
                        };
                        if needs_ack {
                            Waiting::Pending {
                                result,
                                last_offset,
                                leader_epoch,
                            }
                        } else {
                            Waiting::Done(result)
                        }
                    }
                    Err(failed) => Waiting::Done(failed),
                },
            )
            .chain(refused.into_iter().map(Waiting::Done))
            .collect();
        if produce.acks == 0 {
            return;
        }
        self.purgatory.produces.push(ParkedProduce {
            request,
            deadline: now.plus(produce.timeout_ms),
            acks: produce.acks,
            partitions: waiting,
        });
        self.complete_waiting(now);
    }

    /// Appends one partition's batch; `(result, last offset, leader epoch)` or the failed result.
    fn append(
        &mut self,
        tp: TopicPartition,
        mut records: Vec<u8>,
        acks: i16,
        now: Millis,
    ) -> Result<(ProducedPartition, i64, i32), ProducedPartition> {
        let Some(partition) = self.partitions.get_mut(&tp) else {
            return Err(ProducedPartition::failed(
                tp,
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                None,
            ));
        };
        if !partition.is_leader() {
            return Err(ProducedPartition::failed(
                tp,
                ErrorCode::NOT_LEADER_OR_FOLLOWER,
                None,
            ));
        }
        let isr = partition.state.isr.len();
        let min_isr = partition.settings.min_insync_replicas;
        if acks == ACKS_ALL && isr < min_isr {
            let message = format!("the ISR has {isr} replicas, min.insync.replicas is {min_isr}");
            return Err(ProducedPartition::failed(
                tp,
                ErrorCode::NOT_ENOUGH_REPLICAS,
                Some(message),
            ));
        }
        let leader_epoch = partition.state.leader_epoch;
        match partition.log.append(&mut records, leader_epoch, now) {
            Ok(info) => {
                if !info.duplicate {
                    partition.appended((info.last_offset - info.base_offset + 1) as u64, now);
                }
                let result = ProducedPartition {
                    tp,
                    error: ErrorCode::NONE,
                    error_message: None,
                    base_offset: info.base_offset,
                    log_start_offset: info.log_start_offset,
                    log_append_time_ms: info
                        .log_append_time
                        .map_or(-1, |t| i64::try_from(t.0).unwrap_or(i64::MAX)),
                    record_errors: Vec::new(),
                };
                Ok((result, info.last_offset, leader_epoch))
            }
            Err(AppendError::KeylessRecords { batch_indexes }) => {
                Err(ProducedPartition::keyless(tp, &batch_indexes))
            }
            Err(e) => Err(ProducedPartition::failed(tp, e.code(), Some(e.to_string()))),
        }
    }
}

/// Whether a parked partition's acks are satisfied now: `Some(result)` to answer with.
pub(super) fn check_acks<S: Storage>(
    partition: Option<&super::partition::Partition<S>>,
    acks: i16,
    result: &ProducedPartition,
    last_offset: i64,
    leader_epoch: i32,
) -> Option<ProducedPartition> {
    let tp = result.tp.clone();
    let Some(partition) =
        partition.filter(|p| p.is_leader() && p.state.leader_epoch == leader_epoch)
    else {
        return Some(ProducedPartition::failed(
            tp,
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            None,
        ));
    };
    let reached = if acks == ACKS_ALL {
        partition.high_watermark()
    } else {
        partition.log.flushed_offset()
    };
    if reached <= last_offset {
        return None;
    }
    if acks == ACKS_ALL && partition.state.isr.len() < partition.settings.min_insync_replicas {
        // The records are in, but fewer replicas than required hold them.
        return Some(ProducedPartition::failed(
            tp,
            ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            None,
        ));
    }
    Some(result.clone())
}
