//! What one node sends another, addressed by node id: KRaft's broker-to-controller requests
//! (BrokerRegistration, BrokerHeartbeat, AlterPartition, AllocateProducerIds, CreateTopics
//! forwarded for auto-creation, clients' admin commands forwarded as KIP-590 does), the metadata records the controller sends back, and the
//! inter-broker replication requests (Fetch from a follower, OffsetForLeaderEpoch), and the
//! transaction coordinator's WriteTxnMarkers to partition leaders.
//!
//! Every variant is plain data with no reference into a node, so a shell can carry it over
//! its simulated network or, later (issue 14), encode it for TCP between processes.

use crate::ErrorCode;
use crate::assignor::TopicPartition;
use crate::broker::{
    EpochEndOffset, FetchRequest, FetchResponse, OffsetForLeaderEpochRequest, TxnMarkerWrite,
};
use crate::controller::{
    AlterPartition, BrokerId, ControllerCommand, CreateTopic, MetadataImage, MetadataRecord,
};

/// Serializable so a shell can carry it between processes (the server's `peer` module).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PeerMessage {
    /// A broker is alive (KRaft's BrokerHeartbeat; with no epoch, BrokerRegistration) and
    /// asks for the metadata records from `metadata_offset` on (KRaft brokers fetch the
    /// metadata log the same way).
    BrokerHeartbeat {
        broker_id: BrokerId,
        broker_epoch: Option<u64>,
        metadata_offset: u64,
        host: String,
        port: u16,
    },
    /// `records` start at record offset `from_offset`; a broker behind the controller's
    /// latest snapshot gets the metadata `image` after `from_offset` records instead (KRaft
    /// brokers load the snapshot, then fetch the log after it).
    BrokerHeartbeatResponse {
        broker_epoch: Option<u64>,
        from_offset: u64,
        records: Vec<MetadataRecord>,
        image: Option<Box<MetadataImage>>,
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
    /// A broker asks the controller for a block of producer ids (KIP-730).
    AllocateProducerIds {
        broker_id: BrokerId,
        broker_epoch: u64,
    },
    /// `Ok((first id, size))`, or why not.
    AllocateProducerIdsResponse {
        result: Result<(i64, i64), ErrorCode>,
    },
    /// A broker forwards the creation of topics a client's Metadata request named
    /// (`auto.create.topics.enable`); the broker learns the outcome from the metadata log.
    CreateTopics {
        topics: Vec<CreateTopic>,
    },
    /// A broker forwards a client's admin command to the active controller (KIP-590: one
    /// resource of CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs or
    /// IncrementalAlterConfigs, after the broker's own checks). `request_id` is the
    /// broker's, echoed in the answer (Kafka's Envelope gets it from the correlation id).
    ForwardedCommand {
        request_id: u64,
        validate_only: bool,
        command: ControllerCommand,
    },
    /// The controller's answer to [`PeerMessage::ForwardedCommand`] `request_id`, sent once
    /// the command's records are committed: `Ok`, or Kafka's error code and message
    /// (NOT_CONTROLLER when the node asked is not the active controller).
    ForwardedCommandResponse {
        request_id: u64,
        result: Result<(), (ErrorCode, String)>,
    },
    /// A request for the active controller reached a node that is not it (Kafka's
    /// NOT_CONTROLLER); `leader` is the active controller if this node knows it.
    NotController {
        leader: Option<BrokerId>,
    },
    /// A transaction coordinator asks a partition leader to append commit or abort markers
    /// (Kafka's WriteTxnMarkers, KIP-98), acks=all: the leader answers once the ISR has
    /// them. `request_id` is the coordinator's, echoed in the answer.
    WriteTxnMarkers {
        request_id: u64,
        markers: Vec<TxnMarkerWrite>,
    },
    /// One result per partition of the [`PeerMessage::WriteTxnMarkers`] `request_id`, in
    /// its order (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH,
    /// TRANSACTION_COORDINATOR_FENCED, REQUEST_TIMED_OUT... as Kafka's partition errors).
    WriteTxnMarkersResponse {
        request_id: u64,
        results: Vec<TxnMarkerResult>,
    },
    /// A message of the controller quorum between two voters: raft-rs's `eraftpb::Message` in
    /// its protobuf encoding (plain bytes, for any transport).
    Raft {
        bytes: Vec<u8>,
    },
}

/// One partition's answer in a [`PeerMessage::WriteTxnMarkersResponse`]: Kafka's
/// `WritableTxnMarkerPartitionResult`, under the producer id of the marker it answers (Kafka's
/// response groups its results by producer id).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxnMarkerResult {
    pub tp: TopicPartition,
    pub error: ErrorCode,
    /// The marker's producer id; -1 in an answer from a node of an older version, which sent
    /// `[partition, error]` pairs in a JSON envelope.
    #[serde(default = "unknown_producer")]
    pub producer_id: i64,
}

fn unknown_producer() -> i64 {
    -1
}

impl PeerMessage {
    /// A short, stable description for a trace.
    pub fn summary(&self) -> String {
        match self {
            PeerMessage::BrokerHeartbeat {
                broker_epoch,
                metadata_offset,
                ..
            } => match broker_epoch {
                Some(epoch) => format!("BrokerHeartbeat(epoch={epoch},offset={metadata_offset})"),
                None => "BrokerRegistration".to_string(),
            },
            PeerMessage::BrokerHeartbeatResponse {
                from_offset,
                records,
                image,
                ..
            } => format!(
                "BrokerHeartbeatResponse(from={from_offset},records={}{})",
                records.len(),
                if image.is_some() { ",image" } else { "" }
            ),
            PeerMessage::MetadataPush {
                from_offset,
                records,
            } => format!("MetadataPush(from={from_offset},records={})", records.len()),
            PeerMessage::ReplicaFetch { request } => {
                let offsets: Vec<String> = request
                    .partitions
                    .iter()
                    .map(|p| format!("{}-{}@{}", p.tp.topic, p.tp.partition, p.fetch_offset))
                    .collect();
                format!("ReplicaFetch({})", offsets.join(","))
            }
            PeerMessage::ReplicaFetchResponse { response } => {
                format!("ReplicaFetchResponse(bytes={})", response.size_bytes())
            }
            PeerMessage::OffsetForLeaderEpoch { request } => format!(
                "OffsetForLeaderEpoch(partitions={})",
                request.partitions.len()
            ),
            PeerMessage::OffsetForLeaderEpochResponse { answers } => {
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
            PeerMessage::AlterPartition { tp, request } => format!(
                "AlterPartition({}-{} isr={:?})",
                tp.topic, tp.partition, request.new_isr
            ),
            PeerMessage::AlterPartitionResponse { tp, result } => {
                let outcome = match result {
                    Ok(()) => "ok",
                    Err(e) => e.name(),
                };
                format!(
                    "AlterPartitionResponse({}-{} {outcome})",
                    tp.topic, tp.partition
                )
            }
            PeerMessage::AllocateProducerIds { .. } => "AllocateProducerIds".to_string(),
            PeerMessage::AllocateProducerIdsResponse { result } => match result {
                Ok((first, size)) => format!("AllocateProducerIdsResponse({first}+{size})"),
                Err(e) => format!("AllocateProducerIdsResponse({})", e.name()),
            },
            PeerMessage::CreateTopics { topics } => {
                let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
                format!("CreateTopics({})", names.join(","))
            }
            PeerMessage::ForwardedCommand {
                request_id,
                validate_only,
                command,
            } => format!(
                "ForwardedCommand({},request={request_id}{})",
                command.name(),
                if *validate_only { ",validate_only" } else { "" }
            ),
            PeerMessage::ForwardedCommandResponse { request_id, result } => {
                let outcome = match result {
                    Ok(()) => "ok",
                    Err((e, _)) => e.name(),
                };
                format!("ForwardedCommandResponse(request={request_id} {outcome})")
            }
            PeerMessage::NotController { leader } => match leader {
                Some(leader) => format!("NotController(leader={leader})"),
                None => "NotController".to_string(),
            },
            PeerMessage::WriteTxnMarkers {
                request_id,
                markers,
            } => {
                let tps: Vec<String> = markers
                    .iter()
                    .map(|m| {
                        let kind = if m.marker.commit { "COMMIT" } else { "ABORT" };
                        format!("{}-{}={kind}", m.tp.topic, m.tp.partition)
                    })
                    .collect();
                format!(
                    "WriteTxnMarkers(partitions={},request={request_id},{})",
                    tps.len(),
                    tps.join(" ")
                )
            }
            PeerMessage::WriteTxnMarkersResponse {
                request_id,
                results,
            } => {
                let tps: Vec<String> = results
                    .iter()
                    .map(|r| format!("{}-{}={}", r.tp.topic, r.tp.partition, r.error.name()))
                    .collect();
                format!(
                    "WriteTxnMarkersResponse(partitions={},request={request_id},{})",
                    tps.len(),
                    tps.join(" ")
                )
            }
            PeerMessage::Raft { bytes } => super::quorum::summary(bytes),
        }
    }
}
