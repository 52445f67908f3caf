//! The replication messages as Kafka's own inter-broker requests and responses, encoded with
//! kafka-protocol: a follower's Fetch (v12: topics by name, the follower's id in `replica_id`,
//! which v15 moved into `ReplicaState`) and OffsetForLeaderEpoch (v4, with `replica_id`), and
//! their responses. Every frame read is walked by the guard (`kafka::guard`) against Kafka's
//! schema before kafka-protocol decodes it.
//!
//! Topics go by name because the core's replica fetcher names them so; a version with topic
//! ids would need the metadata image on the link's task.

use anyhow::bail;
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use partita_core::assignor::TopicPartition;
use partita_core::node::PeerMessage;
use partita_core::{ErrorCode, Millis, broker};

use crate::kafka::convert::{by_topic, topic_name};
use crate::kafka::guard;

/// Fetch v12: the newest version that names topics and carries `replica_id` in the body.
pub const FETCH_VERSION: i16 = 12;
/// OffsetForLeaderEpoch v4 (flexible, with `replica_id`).
pub const OFFSET_FOR_LEADER_EPOCH_VERSION: i16 = 4;
const CLIENT_ID: &str = "partita-replica-fetcher";

/// A request or response frame's body for `message`, if it is one Kafka's protocol carries:
/// `Some((true, bytes))` for a request (header and body), `Some((false, bytes))` for a
/// response (API key and version, then header and body).
pub fn encode(message: &PeerMessage) -> Option<anyhow::Result<(bool, Vec<u8>)>> {
    Some(match message {
        PeerMessage::ReplicaFetch { request } => {
            encode_request(&fetch_request(request), FETCH_VERSION).map(|b| (true, b))
        }
        PeerMessage::ReplicaFetchResponse { response } => {
            encode_response(&fetch_response(response), FETCH_VERSION).map(|b| (false, b))
        }
        PeerMessage::OffsetForLeaderEpoch { request } => {
            encode_request(&epoch_request(request), OFFSET_FOR_LEADER_EPOCH_VERSION)
                .map(|b| (true, b))
        }
        PeerMessage::OffsetForLeaderEpochResponse { answers } => {
            encode_response(&epoch_response(answers), OFFSET_FOR_LEADER_EPOCH_VERSION)
                .map(|b| (false, b))
        }
        _ => return None,
    })
}

/// A request frame (header and body), after the guard walked it.
pub fn decode_request(frame: &[u8]) -> anyhow::Result<PeerMessage> {
    guard::check_request(frame)?;
    let mut bytes = Bytes::copy_from_slice(frame);
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    match (api_key, version) {
        (FetchRequest::KEY, FETCH_VERSION) => {
            RequestHeader::decode(&mut bytes, FetchRequest::header_version(version))?;
            let request = FetchRequest::decode(&mut bytes, version)?;
            Ok(PeerMessage::ReplicaFetch {
                request: core_fetch_request(&request),
            })
        }
        (OffsetForLeaderEpochRequest::KEY, OFFSET_FOR_LEADER_EPOCH_VERSION) => {
            RequestHeader::decode(
                &mut bytes,
                OffsetForLeaderEpochRequest::header_version(version),
            )?;
            let request = OffsetForLeaderEpochRequest::decode(&mut bytes, version)?;
            Ok(PeerMessage::OffsetForLeaderEpoch {
                request: core_epoch_request(&request),
            })
        }
        _ => bail!("API key {api_key} v{version} is not a request between nodes"),
    }
}

/// A response frame: API key and version, then header and body, after the guard walked it.
pub fn decode_response(frame: &[u8]) -> anyhow::Result<PeerMessage> {
    anyhow::ensure!(
        frame.len() >= 4,
        "a response frame of {} bytes",
        frame.len()
    );
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let rest = &frame[4..];
    guard::check_response(api_key, version, rest)?;
    let mut bytes = Bytes::copy_from_slice(rest);
    match (api_key, version) {
        (FetchRequest::KEY, FETCH_VERSION) => {
            ResponseHeader::decode(&mut bytes, FetchResponse::header_version(version))?;
            let response = FetchResponse::decode(&mut bytes, version)?;
            Ok(PeerMessage::ReplicaFetchResponse {
                response: core_fetch_response(response),
            })
        }
        (OffsetForLeaderEpochRequest::KEY, OFFSET_FOR_LEADER_EPOCH_VERSION) => {
            ResponseHeader::decode(
                &mut bytes,
                OffsetForLeaderEpochResponse::header_version(version),
            )?;
            let response = OffsetForLeaderEpochResponse::decode(&mut bytes, version)?;
            Ok(PeerMessage::OffsetForLeaderEpochResponse {
                answers: core_epoch_response(&response),
            })
        }
        _ => bail!("API key {api_key} v{version} is not a response between nodes"),
    }
}

/// A request frame's bytes: the header (naming `client_id`) and the body at `version`.
pub(super) fn encode_request_as<R: Request>(
    request: &R,
    version: i16,
    client_id: &'static str,
) -> anyhow::Result<Vec<u8>> {
    let mut bytes = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_client_id(Some(StrBytes::from_static_str(client_id)))
        .encode(&mut bytes, R::header_version(version))?;
    request.encode(&mut bytes, version)?;
    Ok(bytes.to_vec())
}

fn encode_request<R: Request>(request: &R, version: i16) -> anyhow::Result<Vec<u8>> {
    encode_request_as(request, version, CLIENT_ID)
}

fn encode_response<M: Encodable + HeaderVersion + ResponseOf>(
    response: &M,
    version: i16,
) -> anyhow::Result<Vec<u8>> {
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&M::KEY.to_be_bytes());
    bytes.extend_from_slice(&version.to_be_bytes());
    ResponseHeader::default().encode(&mut bytes, M::header_version(version))?;
    response.encode(&mut bytes, version)?;
    Ok(bytes.to_vec())
}

/// The API key a response answers.
trait ResponseOf {
    const KEY: i16;
}
impl ResponseOf for FetchResponse {
    const KEY: i16 = FetchRequest::KEY;
}
impl ResponseOf for OffsetForLeaderEpochResponse {
    const KEY: i16 = OffsetForLeaderEpochRequest::KEY;
}

fn int(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn size(value: i32) -> usize {
    usize::try_from(value).unwrap_or(0)
}

fn error(code: i16) -> ErrorCode {
    ErrorCode::from_code(code).unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR)
}

fn fetch_request(request: &broker::FetchRequest) -> FetchRequest {
    let partitions = request.partitions.iter().map(|p| {
        let partition = FetchPartition::default()
            .with_partition(p.tp.partition)
            .with_current_leader_epoch(p.current_leader_epoch.unwrap_or(-1))
            .with_fetch_offset(p.fetch_offset)
            .with_partition_max_bytes(int(p.partition_max_bytes));
        (p.tp.topic.clone(), partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        FetchTopic::default()
            .with_topic(topic_name(name))
            .with_partitions(partitions)
    });
    FetchRequest::default()
        .with_replica_id(BrokerId(request.replica_id))
        .with_max_wait_ms(i32::try_from(request.max_wait_ms.0).unwrap_or(i32::MAX))
        .with_min_bytes(int(request.min_bytes))
        .with_max_bytes(int(request.max_bytes))
        .with_session_epoch(-1)
        .with_topics(topics)
}

fn core_fetch_request(request: &FetchRequest) -> broker::FetchRequest {
    broker::FetchRequest {
        replica_id: request.replica_id.0,
        max_wait_ms: Millis(u64::try_from(request.max_wait_ms).unwrap_or(0)),
        min_bytes: size(request.min_bytes),
        max_bytes: size(request.max_bytes),
        isolation_level: broker::IsolationLevel::ReadUncommitted,
        partitions: request
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| broker::FetchPartition {
                    tp: TopicPartition::new(t.topic.to_string(), p.partition),
                    fetch_offset: p.fetch_offset,
                    partition_max_bytes: size(p.partition_max_bytes),
                    current_leader_epoch: (p.current_leader_epoch >= 0)
                        .then_some(p.current_leader_epoch),
                })
            })
            .collect(),
    }
}

fn fetch_response(response: &broker::FetchResponse) -> FetchResponse {
    let partitions = response.partitions.iter().map(|p| {
        let partition = PartitionData::default()
            .with_partition_index(p.tp.partition)
            .with_error_code(p.error.code())
            .with_high_watermark(p.high_watermark)
            .with_last_stable_offset(p.last_stable_offset)
            .with_log_start_offset(p.log_start_offset)
            .with_records(Some(Bytes::copy_from_slice(&p.records)));
        (p.tp.topic.clone(), partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        FetchableTopicResponse::default()
            .with_topic(topic_name(name))
            .with_partitions(partitions)
    });
    FetchResponse::default().with_responses(topics)
}

fn core_fetch_response(response: FetchResponse) -> broker::FetchResponse {
    let mut partitions = Vec::new();
    for topic in response.responses {
        let name = topic.topic.to_string();
        for p in topic.partitions {
            partitions.push(broker::FetchedPartition {
                tp: TopicPartition::new(name.clone(), p.partition_index),
                error: error(p.error_code),
                high_watermark: p.high_watermark,
                last_stable_offset: p.last_stable_offset,
                log_start_offset: p.log_start_offset,
                records: p.records.map(|r| r.to_vec()).unwrap_or_default(),
                aborted_transactions: Vec::new(),
            });
        }
    }
    broker::FetchResponse { partitions }
}

fn epoch_request(request: &broker::OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochRequest {
    let partitions = request.partitions.iter().map(|p| {
        let partition = OffsetForLeaderPartition::default()
            .with_partition(p.tp.partition)
            .with_current_leader_epoch(p.current_leader_epoch.unwrap_or(-1))
            .with_leader_epoch(p.leader_epoch);
        (p.tp.topic.clone(), partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetForLeaderTopic::default()
            .with_topic(topic_name(name))
            .with_partitions(partitions)
    });
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(request.replica_id))
        .with_topics(topics)
}

fn core_epoch_request(
    request: &OffsetForLeaderEpochRequest,
) -> broker::OffsetForLeaderEpochRequest {
    broker::OffsetForLeaderEpochRequest {
        replica_id: request.replica_id.0,
        partitions: request
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| broker::OffsetForLeaderEpochPartition {
                        tp: TopicPartition::new(t.topic.to_string(), p.partition),
                        current_leader_epoch: (p.current_leader_epoch >= 0)
                            .then_some(p.current_leader_epoch),
                        leader_epoch: p.leader_epoch,
                    })
            })
            .collect(),
    }
}

fn epoch_response(answers: &[broker::EpochEndOffset]) -> OffsetForLeaderEpochResponse {
    let partitions = answers.iter().map(|a| {
        let partition = EpochEndOffset::default()
            .with_partition(a.tp.partition)
            .with_error_code(a.error.code())
            .with_leader_epoch(a.leader_epoch)
            .with_end_offset(a.end_offset);
        (a.tp.topic.clone(), partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetForLeaderTopicResult::default()
            .with_topic(topic_name(name))
            .with_partitions(partitions)
    });
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}

fn core_epoch_response(response: &OffsetForLeaderEpochResponse) -> Vec<broker::EpochEndOffset> {
    response
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| broker::EpochEndOffset {
                tp: TopicPartition::new(t.topic.to_string(), p.partition),
                error: error(p.error_code),
                leader_epoch: p.leader_epoch,
                end_offset: p.end_offset,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(message: PeerMessage) {
        let (request, body) = encode(&message).expect("a Kafka message").unwrap();
        let decoded = if request {
            decode_request(&body)
        } else {
            decode_response(&body)
        };
        assert_eq!(decoded.unwrap(), message);
    }

    #[test]
    fn replication_messages_round_trip_through_kafka_frames() {
        let tp = |t: &str, p| TopicPartition::new(t.to_string(), p);
        round_trip(PeerMessage::ReplicaFetch {
            request: broker::FetchRequest {
                replica_id: 2,
                max_wait_ms: Millis(500),
                min_bytes: 1,
                max_bytes: 10 << 20,
                isolation_level: broker::IsolationLevel::ReadUncommitted,
                partitions: vec![
                    broker::FetchPartition {
                        tp: tp("orders", 0),
                        fetch_offset: 42,
                        partition_max_bytes: 1 << 20,
                        current_leader_epoch: Some(3),
                    },
                    broker::FetchPartition {
                        tp: tp("orders", 5),
                        fetch_offset: 0,
                        partition_max_bytes: 1 << 20,
                        current_leader_epoch: None,
                    },
                ],
            },
        });
        round_trip(PeerMessage::ReplicaFetchResponse {
            response: broker::FetchResponse {
                partitions: vec![broker::FetchedPartition {
                    tp: tp("orders", 0),
                    error: ErrorCode::NONE,
                    high_watermark: 50,
                    last_stable_offset: 50,
                    log_start_offset: 0,
                    records: vec![1, 2, 3, 4],
                    aborted_transactions: Vec::new(),
                }],
            },
        });
        round_trip(PeerMessage::OffsetForLeaderEpoch {
            request: broker::OffsetForLeaderEpochRequest {
                replica_id: 3,
                partitions: vec![broker::OffsetForLeaderEpochPartition {
                    tp: tp("orders", 1),
                    current_leader_epoch: Some(4),
                    leader_epoch: 2,
                }],
            },
        });
        round_trip(PeerMessage::OffsetForLeaderEpochResponse {
            answers: vec![broker::EpochEndOffset {
                tp: tp("orders", 1),
                error: ErrorCode::FENCED_LEADER_EPOCH,
                leader_epoch: 2,
                end_offset: 17,
            }],
        });
    }

    #[test]
    fn truncated_or_foreign_frames_are_refused() {
        let (_, body) = encode(&PeerMessage::OffsetForLeaderEpoch {
            request: broker::OffsetForLeaderEpochRequest {
                replica_id: 2,
                partitions: Vec::new(),
            },
        })
        .unwrap()
        .unwrap();
        assert!(decode_request(&body[..body.len() - 2]).is_err());
        assert!(
            decode_request(&[0, 3, 0, 12, 0xff]).is_err(),
            "a Metadata request"
        );
        assert!(decode_response(&[0, 1]).is_err());
    }
}
