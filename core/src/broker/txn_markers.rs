//! WriteTxnMarkers on the partition leader: the transaction coordinator's commit and abort
//! markers, appended as control batches and acknowledged once the ISR has them (Kafka writes
//! markers with acks=-1, `ReplicaManager.appendRecords` with origin COORDINATOR).

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::EndTxnMarker;
use crate::group::RequestId;

use super::produce::{ACKS_ALL, ProducedPartition};
use super::purgatory::{ParkedProduce, Waiting};
use super::{Broker, StorageFactory};

/// One marker for one partition.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxnMarkerWrite {
    pub tp: TopicPartition,
    pub marker: EndTxnMarker,
}

impl<F: StorageFactory> Broker<F> {
    /// Appends each marker to its partition on this leader and answers with
    /// [`super::Output::Produced`] (one result per partition, in order) once every marker is
    /// in the ISR or failed, or `timeout_ms` passed (REQUEST_TIMED_OUT). A partition this
    /// broker does not lead is NOT_LEADER_OR_FOLLOWER; a fenced producer epoch is
    /// INVALID_PRODUCER_EPOCH; an older coordinator TRANSACTION_COORDINATOR_FENCED.
    pub fn write_txn_markers(
        &mut self,
        request: RequestId,
        markers: Vec<TxnMarkerWrite>,
        timeout_ms: Millis,
        now: Millis,
    ) {
        let partitions = markers
            .into_iter()
            .map(|write| self.append_marker(write, now))
            .collect();
        self.purgatory.produces.push(ParkedProduce {
            request,
            deadline: now.plus(timeout_ms),
            acks: ACKS_ALL,
            partitions,
        });
        self.complete_waiting(now);
    }

    fn append_marker(&mut self, write: TxnMarkerWrite, now: Millis) -> Waiting {
        let tp = write.tp;
        let Some(partition) = self.partitions.get_mut(&tp) else {
            return Waiting::Done(ProducedPartition::failed(
                tp,
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                None,
            ));
        };
        if !partition.is_leader() {
            return Waiting::Done(ProducedPartition::failed(
                tp,
                ErrorCode::NOT_LEADER_OR_FOLLOWER,
                None,
            ));
        }
        let leader_epoch = partition.state.leader_epoch;
        match partition
            .log
            .append_marker(&write.marker, leader_epoch, now)
        {
            Ok(info) => {
                partition.appended(1, now);
                Waiting::Pending {
                    result: ProducedPartition {
                        tp,
                        error: ErrorCode::NONE,
                        error_message: None,
                        base_offset: info.base_offset,
                        log_start_offset: info.log_start_offset,
                        log_append_time_ms: -1,
                        record_errors: Vec::new(),
                    },
                    last_offset: info.last_offset,
                    leader_epoch,
                }
            }
            Err(e) => Waiting::Done(ProducedPartition::failed(tp, e.code(), Some(e.to_string()))),
        }
    }
}
