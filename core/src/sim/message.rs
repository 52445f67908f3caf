//! What travels over the simulated network: client requests and responses (the core's own
//! request and response types), and the brokers' traffic with the controller.

use crate::ErrorCode;
use crate::assignor::TopicPartition;
use crate::broker::{EpochEndOffset, FetchRequest, FetchResponse, OffsetForLeaderEpochRequest};
use crate::client::{Request, Response};
use crate::controller::{AlterPartition, BrokerId, MetadataRecord};

#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    ClientRequest {
        correlation_id: u64,
        request: Request,
    },
    ClientResponse {
        correlation_id: u64,
        response: Response,
    },
    /// A broker is alive (KRaft's BrokerHeartbeat; with no epoch, BrokerRegistration) and
    /// asks for the metadata records from `metadata_offset` on (KRaft brokers fetch the
    /// metadata log the same way).
    BrokerHeartbeat {
        broker_id: BrokerId,
        broker_epoch: Option<u64>,
        metadata_offset: u64,
    },
    BrokerHeartbeatResponse {
        broker_epoch: Option<u64>,
        from_offset: u64,
        records: Vec<MetadataRecord>,
    },
    /// The controller pushes records it just committed to every broker (KRaft brokers
    /// long-poll the metadata log, so they learn at once); a broker that missed some asks
    /// again from its offset with its next heartbeat.
    MetadataPush {
        from_offset: u64,
        records: Vec<MetadataRecord>,
    },
    /// A follower fetches from its leader (Fetch with the follower's replica id).
    ReplicaFetch {
        request: FetchRequest,
    },
    ReplicaFetchResponse {
        response: FetchResponse,
    },
    /// A follower asks where its leader epoch ends in the leader's log (KIP-101).
    OffsetForLeaderEpoch {
        request: OffsetForLeaderEpochRequest,
    },
    OffsetForLeaderEpochResponse {
        answers: Vec<EpochEndOffset>,
    },
    /// A leader asks the controller to change a partition's ISR.
    AlterPartition {
        tp: TopicPartition,
        request: AlterPartition,
    },
    AlterPartitionResponse {
        tp: TopicPartition,
        result: Result<(), ErrorCode>,
    },
}

impl Message {
    /// A short, stable description for the trace.
    pub fn summary(&self) -> String {
        match self {
            Message::ClientRequest {
                correlation_id,
                request,
            } => format!("{}#{correlation_id}", request.name()),
            Message::ClientResponse {
                correlation_id,
                response,
            } => format!("{}#{correlation_id}", response.name()),
            Message::BrokerHeartbeat {
                broker_epoch,
                metadata_offset,
                ..
            } => match broker_epoch {
                Some(epoch) => format!("BrokerHeartbeat(epoch={epoch},offset={metadata_offset})"),
                None => "BrokerRegistration".to_string(),
            },
            Message::BrokerHeartbeatResponse {
                from_offset,
                records,
                ..
            } => {
                format!(
                    "BrokerHeartbeatResponse(from={from_offset},records={})",
                    records.len()
                )
            }
            Message::MetadataPush {
                from_offset,
                records,
            } => format!("MetadataPush(from={from_offset},records={})", records.len()),
            Message::ReplicaFetch { request } => {
                let offsets: Vec<String> = request
                    .partitions
                    .iter()
                    .map(|p| format!("{}-{}@{}", p.tp.topic, p.tp.partition, p.fetch_offset))
                    .collect();
                format!("ReplicaFetch({})", offsets.join(","))
            }
            Message::ReplicaFetchResponse { response } => {
                format!("ReplicaFetchResponse(bytes={})", response.size_bytes())
            }
            Message::OffsetForLeaderEpoch { request } => format!(
                "OffsetForLeaderEpoch(partitions={})",
                request.partitions.len()
            ),
            Message::OffsetForLeaderEpochResponse { answers } => {
                let ends: Vec<String> = answers
                    .iter()
                    .map(|a| {
                        format!(
                            "{}-{}:{}@{}",
                            a.tp.topic, a.tp.partition, a.leader_epoch, a.end_offset
                        )
                    })
                    .collect();
                format!("OffsetForLeaderEpochResponse({})", ends.join(","))
            }
            Message::AlterPartition { tp, request } => format!(
                "AlterPartition({}-{} isr={:?})",
                tp.topic, tp.partition, request.new_isr
            ),
            Message::AlterPartitionResponse { tp, result } => {
                let outcome = match result {
                    Ok(()) => "ok",
                    Err(e) => e.name(),
                };
                format!(
                    "AlterPartitionResponse({}-{} {outcome})",
                    tp.topic, tp.partition
                )
            }
        }
    }
}
