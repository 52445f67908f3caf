//! The broker-to-controller requests that have a natural Kafka shape, encoded with
//! kafka-protocol: BrokerHeartbeat v1 (a registered broker's heartbeat, with its metadata
//! offset), AllocateProducerIds v0 and its response (KIP-730), and CreateTopics v7 (a broker
//! forwarding the topics a client's Metadata request auto-creates).
//!
//! What stays in the JSON envelope (`codec.rs`): the registration (Kafka's
//! BrokerRegistration has no metadata offset, ours asks for the records from one), the
//! heartbeat and metadata answers (they carry Partita's metadata records, where KRaft brokers
//! fetch `__cluster_metadata`), and AlterPartition (Kafka's names topics by id only, the core's
//! answer by name).
//!
//! CreateTopics is walked by the guard before it is decoded. BrokerHeartbeat and
//! AllocateProducerIds are not in the guard's tables (the broker does not serve them to
//! clients), so their frames are held to their exact fixed layout instead: no array, string
//! or tagged field, so nothing the codec reserves comes from a count on the wire.

use anyhow::{bail, ensure};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::{
    AllocateProducerIdsRequest, AllocateProducerIdsResponse, BrokerHeartbeatRequest, BrokerId,
    CreateTopicsRequest, ProducerId, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use partita_core::ErrorCode;
use partita_core::assignor::TopicPartition;
use partita_core::batch::EndTxnMarker;
use partita_core::broker::TxnMarkerWrite;
use partita_core::controller::{AlterConfigOp, ControllerCommand, CreateTopic};
use partita_core::node::{PeerMessage, TxnMarkerResult};

use crate::kafka::convert::topic_name;
use crate::kafka::guard;

pub const BROKER_HEARTBEAT_VERSION: i16 = 1;
pub const ALLOCATE_PRODUCER_IDS_VERSION: i16 = 0;
pub const CREATE_TOPICS_VERSION: i16 = 7;
const CLIENT_ID: &str = "partita-node";
/// How long the controller may take on forwarded topics (the broker does not wait anyway).
const CREATE_TOPICS_TIMEOUT_MS: i32 = 30_000;

/// Body sizes of the fixed-layout messages (tagged-field count included).
const BROKER_HEARTBEAT_BODY: usize = 4 + 8 + 8 + 1 + 1 + 1;
const ALLOCATE_PRODUCER_IDS_BODY: usize = 4 + 8 + 1;
const ALLOCATE_PRODUCER_IDS_RESPONSE_BODY: usize = 4 + 2 + 8 + 4 + 1;

/// As `replication::encode`: `Some((is_request, bytes))` for the messages this file carries.
pub fn encode(message: &PeerMessage) -> Option<anyhow::Result<(bool, Vec<u8>)>> {
    Some(match message {
        PeerMessage::BrokerHeartbeat {
            broker_id,
            broker_epoch: Some(epoch),
            metadata_offset,
            ..
        } => {
            let request = BrokerHeartbeatRequest::default()
                .with_broker_id(BrokerId(*broker_id))
                .with_broker_epoch(i64::try_from(*epoch).unwrap_or(i64::MAX))
                .with_current_metadata_offset(i64::try_from(*metadata_offset).unwrap_or(i64::MAX));
            encode_request(&request, BROKER_HEARTBEAT_VERSION).map(|b| (true, b))
        }
        PeerMessage::AllocateProducerIds {
            broker_id,
            broker_epoch,
        } => {
            let request = AllocateProducerIdsRequest::default()
                .with_broker_id(BrokerId(*broker_id))
                .with_broker_epoch(i64::try_from(*broker_epoch).unwrap_or(i64::MAX));
            encode_request(&request, ALLOCATE_PRODUCER_IDS_VERSION).map(|b| (true, b))
        }
        PeerMessage::AllocateProducerIdsResponse { result } => {
            let response = match result {
                Ok((first, size)) => AllocateProducerIdsResponse::default()
                    .with_producer_id_start(ProducerId(*first))
                    .with_producer_id_len(i32::try_from(*size).unwrap_or(i32::MAX)),
                Err(code) => AllocateProducerIdsResponse::default()
                    .with_error_code(code.code())
                    .with_producer_id_start(ProducerId(-1)),
            };
            encode_allocate_response(&response).map(|b| (false, b))
        }
        PeerMessage::CreateTopics { topics } => {
            let request = CreateTopicsRequest::default()
                .with_topics(topics.iter().map(creatable).collect())
                .with_timeout_ms(CREATE_TOPICS_TIMEOUT_MS);
            encode_request(&request, CREATE_TOPICS_VERSION).map(|b| (true, b))
        }
        _ => return None,
    })
}

/// Whether a request frame with this API key is one of this file's.
pub fn is_control_request(api_key: i16) -> bool {
    [
        BrokerHeartbeatRequest::KEY,
        AllocateProducerIdsRequest::KEY,
        CreateTopicsRequest::KEY,
    ]
    .contains(&api_key)
}

/// A request frame (header and body).
pub fn decode_request(frame: &[u8]) -> anyhow::Result<PeerMessage> {
    ensure!(frame.len() >= 4, "a request frame of {} bytes", frame.len());
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let mut bytes = Bytes::copy_from_slice(frame);
    match (api_key, version) {
        (BrokerHeartbeatRequest::KEY, BROKER_HEARTBEAT_VERSION) => {
            check_fixed_request(frame, BROKER_HEARTBEAT_BODY)?;
            RequestHeader::decode(&mut bytes, BrokerHeartbeatRequest::header_version(version))?;
            let r = BrokerHeartbeatRequest::decode(&mut bytes, version)?;
            Ok(PeerMessage::BrokerHeartbeat {
                broker_id: r.broker_id.0,
                broker_epoch: Some(unsigned(r.broker_epoch, "broker epoch")?),
                metadata_offset: unsigned(r.current_metadata_offset, "metadata offset")?,
                // A heartbeat carries no endpoint: the registration did.
                host: String::new(),
                port: 0,
            })
        }
        (AllocateProducerIdsRequest::KEY, ALLOCATE_PRODUCER_IDS_VERSION) => {
            check_fixed_request(frame, ALLOCATE_PRODUCER_IDS_BODY)?;
            RequestHeader::decode(
                &mut bytes,
                AllocateProducerIdsRequest::header_version(version),
            )?;
            let r = AllocateProducerIdsRequest::decode(&mut bytes, version)?;
            Ok(PeerMessage::AllocateProducerIds {
                broker_id: r.broker_id.0,
                broker_epoch: unsigned(r.broker_epoch, "broker epoch")?,
            })
        }
        (CreateTopicsRequest::KEY, CREATE_TOPICS_VERSION) => {
            guard::check_request(frame)?;
            RequestHeader::decode(&mut bytes, CreateTopicsRequest::header_version(version))?;
            let r = CreateTopicsRequest::decode(&mut bytes, version)?;
            Ok(PeerMessage::CreateTopics {
                topics: r.topics.iter().map(create_topic).collect(),
            })
        }
        _ => bail!("API key {api_key} v{version} is not a request between nodes"),
    }
}

/// An AllocateProducerIds response frame: API key and version, then header and body.
pub fn decode_allocate_response(rest: &[u8]) -> anyhow::Result<PeerMessage> {
    // The response header v1 is a correlation id and an empty tagged-field count.
    ensure!(
        rest.len() == 5 + ALLOCATE_PRODUCER_IDS_RESPONSE_BODY
            && rest[4] == 0
            && rest.ends_with(&[0]),
        "an AllocateProducerIds response of {} bytes, not its fixed layout",
        rest.len()
    );
    let mut bytes = Bytes::copy_from_slice(rest);
    let version = ALLOCATE_PRODUCER_IDS_VERSION;
    ResponseHeader::decode(
        &mut bytes,
        AllocateProducerIdsResponse::header_version(version),
    )?;
    let r = AllocateProducerIdsResponse::decode(&mut bytes, version)?;
    let result = match ErrorCode::from_code(r.error_code) {
        Some(ErrorCode::NONE) => Ok((r.producer_id_start.0, i64::from(r.producer_id_len))),
        Some(code) => Err(code),
        None => Err(ErrorCode::UNKNOWN_SERVER_ERROR),
    };
    Ok(PeerMessage::AllocateProducerIdsResponse { result })
}

/// The API key of the AllocateProducerIds response frames.
pub const ALLOCATE_PRODUCER_IDS_KEY: i16 = AllocateProducerIdsRequest::KEY;

fn encode_request<R: Request>(request: &R, version: i16) -> anyhow::Result<Vec<u8>> {
    super::replication::encode_request_as(request, version, CLIENT_ID)
}

fn encode_allocate_response(response: &AllocateProducerIdsResponse) -> anyhow::Result<Vec<u8>> {
    let version = ALLOCATE_PRODUCER_IDS_VERSION;
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&AllocateProducerIdsRequest::KEY.to_be_bytes());
    bytes.extend_from_slice(&version.to_be_bytes());
    ResponseHeader::default().encode(
        &mut bytes,
        AllocateProducerIdsResponse::header_version(version),
    )?;
    response.encode(&mut bytes, version)?;
    Ok(bytes.to_vec())
}

/// A flexible request of a fixed-size body: header (key, version, correlation id, a client
/// id of the length it says, no tagged fields), then exactly `body` bytes ending in an empty
/// tagged-field count.
fn check_fixed_request(frame: &[u8], body: usize) -> anyhow::Result<()> {
    ensure!(
        frame.len() >= 10,
        "a request frame of {} bytes",
        frame.len()
    );
    let client_id = i16::from_be_bytes([frame[8], frame[9]]);
    let header = 10 + usize::try_from(client_id).unwrap_or(0) + 1;
    ensure!(
        frame.len() == header + body && frame[header - 1] == 0 && frame.ends_with(&[0]),
        "a request of {} bytes, not its fixed layout",
        frame.len()
    );
    Ok(())
}

fn unsigned(value: i64, what: &str) -> anyhow::Result<u64> {
    u64::try_from(value).map_err(|_| anyhow::anyhow!("a negative {what}: {value}"))
}

fn creatable(topic: &CreateTopic) -> CreatableTopic {
    let assignments = topic
        .assignment
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, replicas)| {
            CreatableReplicaAssignment::default()
                .with_partition_index(i32::try_from(index).unwrap_or(i32::MAX))
                .with_broker_ids(replicas.iter().map(|id| BrokerId(*id)).collect())
        })
        .collect();
    let configs = topic
        .configs
        .iter()
        .map(|(name, value)| {
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(name.clone()))
                .with_value(Some(StrBytes::from_string(value.clone())))
        })
        .collect();
    CreatableTopic::default()
        .with_name(topic_name(&topic.name))
        .with_num_partitions(
            topic
                .partitions
                .map_or(-1, |p| i32::try_from(p).unwrap_or(i32::MAX)),
        )
        .with_replication_factor(
            topic
                .replication_factor
                .map_or(-1, |r| i16::try_from(r).unwrap_or(i16::MAX)),
        )
        .with_assignments(assignments)
        .with_configs(configs)
}

fn create_topic(topic: &CreatableTopic) -> CreateTopic {
    CreateTopic {
        name: topic.name.to_string(),
        partitions: u32::try_from(topic.num_partitions).ok(),
        replication_factor: u16::try_from(topic.replication_factor).ok(),
        assignment: (!topic.assignments.is_empty()).then(|| {
            topic
                .assignments
                .iter()
                .map(|a| a.broker_ids.iter().map(|id| id.0).collect())
                .collect()
        }),
        configs: topic
            .configs
            .iter()
            .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())))
            .collect(),
    }
}

/// A message of each kind this file carries, with their edge cases (an error result, a topic
/// with an explicit assignment and one without), plus NOT_CONTROLLER: for the codec's
/// round-trip tests and the peer fuzz target's seeds (`tests/fuzz_corpora.rs`), which need the
/// messages an in-memory cluster's traffic lacks. Not used by the server itself.
pub fn sample_messages() -> Vec<PeerMessage> {
    vec![
        PeerMessage::AllocateProducerIds {
            broker_id: 3,
            broker_epoch: 9,
        },
        PeerMessage::AllocateProducerIdsResponse {
            result: Ok((5000, 1000)),
        },
        PeerMessage::AllocateProducerIdsResponse {
            result: Err(ErrorCode::STALE_BROKER_EPOCH),
        },
        PeerMessage::CreateTopics {
            topics: vec![
                CreateTopic {
                    name: "orders".into(),
                    partitions: Some(12),
                    replication_factor: Some(3),
                    assignment: None,
                    configs: vec![("min.insync.replicas".into(), "2".into())],
                },
                CreateTopic {
                    name: "placed".into(),
                    partitions: None,
                    replication_factor: None,
                    assignment: Some(vec![vec![1, 2], vec![2, 3]]),
                    configs: Vec::new(),
                },
            ],
        },
        PeerMessage::NotController { leader: Some(3) },
        // The transaction coordinator's markers for another leader, and its answer (Kafka's
        // WriteTxnMarkers, `txn_markers.rs`).
        PeerMessage::WriteTxnMarkers {
            request_id: 17,
            markers: vec![
                TxnMarkerWrite {
                    tp: TopicPartition::new("orders", 2),
                    marker: EndTxnMarker {
                        producer_id: 4000,
                        producer_epoch: 3,
                        coordinator_epoch: 5,
                        commit: true,
                    },
                },
                TxnMarkerWrite {
                    tp: TopicPartition::new("__consumer_offsets", 11),
                    marker: EndTxnMarker {
                        producer_id: 4000,
                        producer_epoch: 3,
                        coordinator_epoch: 5,
                        commit: true,
                    },
                },
            ],
        },
        PeerMessage::WriteTxnMarkersResponse {
            request_id: 17,
            results: vec![
                TxnMarkerResult {
                    tp: TopicPartition::new("orders", 2),
                    error: ErrorCode::NONE,
                    producer_id: 4000,
                },
                TxnMarkerResult {
                    tp: TopicPartition::new("__consumer_offsets", 11),
                    error: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    producer_id: 4000,
                },
            ],
        },
        // A client's admin commands forwarded to the active controller (KIP-590), one of
        // each kind, and the answers (carried in the JSON envelope, see `codec.rs`).
        PeerMessage::ForwardedCommand {
            request_id: 4,
            validate_only: false,
            command: ControllerCommand::IncrementalAlterBrokerConfigs {
                resource: "2".into(),
                ops: vec![
                    (
                        "log.retention.ms".into(),
                        AlterConfigOp::Set("86400000".into()),
                    ),
                    ("log.cleaner.threads".into(), AlterConfigOp::Delete),
                ],
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 5,
            validate_only: true,
            command: ControllerCommand::IncrementalAlterTopicConfigs {
                topic: "orders".into(),
                ops: vec![
                    (
                        "cleanup.policy".into(),
                        AlterConfigOp::Append("compact".into()),
                    ),
                    (
                        "cleanup.policy".into(),
                        AlterConfigOp::Subtract("delete".into()),
                    ),
                ],
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 6,
            validate_only: false,
            command: ControllerCommand::LegacyAlterBrokerConfigs {
                resource: String::new(),
                configs: [("log.retention.ms".to_string(), "3600000".to_string())].into(),
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 7,
            validate_only: false,
            command: ControllerCommand::LegacyAlterTopicConfigs {
                topic: "orders".into(),
                configs: Default::default(),
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 8,
            validate_only: false,
            command: ControllerCommand::CreateTopic {
                topic: CreateTopic {
                    name: "placed".into(),
                    partitions: Some(3),
                    replication_factor: Some(2),
                    assignment: None,
                    configs: vec![("retention.ms".into(), "1000".into())],
                },
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 9,
            validate_only: false,
            command: ControllerCommand::DeleteTopic {
                topic: "placed".into(),
            },
        },
        PeerMessage::ForwardedCommand {
            request_id: 10,
            validate_only: false,
            command: ControllerCommand::CreatePartitions {
                topic: "orders".into(),
                count: 14,
                assignment: Some(vec![vec![1, 2, 3], vec![2, 3, 1]]),
            },
        },
        PeerMessage::ForwardedCommandResponse {
            request_id: 4,
            result: Ok(()),
        },
        PeerMessage::ForwardedCommandResponse {
            request_id: 5,
            result: Err((
                ErrorCode::INVALID_CONFIG,
                "Invalid value foo for configuration cleanup.policy".into(),
            )),
        },
        PeerMessage::ForwardedCommandResponse {
            request_id: 6,
            result: Err((
                ErrorCode::NOT_CONTROLLER,
                "node 2 is not the active controller".into(),
            )),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(message: &PeerMessage) -> PeerMessage {
        let (request, body) = encode(message).expect("a Kafka message").unwrap();
        if request {
            decode_request(&body).unwrap()
        } else {
            decode_allocate_response(&body[4..]).unwrap()
        }
    }

    #[test]
    fn control_messages_round_trip_through_kafka_frames() {
        let heartbeat = PeerMessage::BrokerHeartbeat {
            broker_id: 2,
            broker_epoch: Some(7),
            metadata_offset: 41,
            host: "127.0.0.1".into(),
            port: 9093,
        };
        let PeerMessage::BrokerHeartbeat {
            broker_id,
            broker_epoch,
            metadata_offset,
            ..
        } = round_trip(&heartbeat)
        else {
            panic!("not a heartbeat");
        };
        assert_eq!((broker_id, broker_epoch, metadata_offset), (2, Some(7), 41));
        let samples = sample_messages();
        let carried: Vec<&PeerMessage> = samples.iter().filter(|m| encode(m).is_some()).collect();
        assert_eq!(
            carried.len(),
            4,
            "NOT_CONTROLLER travels in a frame of its own"
        );
        for message in carried {
            assert_eq!(&round_trip(message), message);
        }
    }

    #[test]
    fn a_registration_stays_in_the_envelope() {
        let registration = PeerMessage::BrokerHeartbeat {
            broker_id: 2,
            broker_epoch: None,
            metadata_offset: 0,
            host: "127.0.0.1".into(),
            port: 9093,
        };
        assert!(encode(&registration).is_none());
    }

    #[test]
    fn frames_off_their_fixed_layout_are_refused() {
        let (_, body) = encode(&PeerMessage::AllocateProducerIds {
            broker_id: 3,
            broker_epoch: 9,
        })
        .unwrap()
        .unwrap();
        assert!(decode_request(&body[..body.len() - 1]).is_err());
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode_request(&longer).is_err());
        let mut tagged = body.clone();
        *tagged.last_mut().unwrap() = 1;
        assert!(decode_request(&tagged).is_err(), "a tagged field");
        assert!(decode_allocate_response(&[0; 7]).is_err());
    }
}
