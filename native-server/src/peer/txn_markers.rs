//! The transaction coordinator's markers between nodes as Kafka's own WriteTxnMarkers (API 27,
//! KIP-98) request and response, v1 (flexible), encoded with kafka-protocol and walked by the
//! guard against Kafka's schema (`guard::check_peer_request`, `check_peer_response`) before
//! they are decoded.
//!
//! The request groups the core's markers as Kafka's `TransactionMarkerChannelManager` does:
//! one `WritableTxnMarker` per producer, epoch, result and coordinator epoch, its partitions by
//! topic; the response groups the results by producer id, then topic. Runs of consecutive
//! markers are grouped and nothing is reordered, so the core's one-result-per-marker order
//! survives the trip.
//!
//! The coordinator's request id rides in the header's correlation id, which the answer echoes
//! as Kafka's does: its low 32 bits, and, for an id of 2^32 or more (the node's request
//! counter is a u64), the high 32 bits in the header's tagged field [`REQUEST_ID_HIGH_TAG`]
//! (four bytes, big-endian), which a Kafka broker skips as an unknown tag. Without it, a
//! node that has sent four billion internal requests would get answers it cannot match and
//! retry its markers forever.
//!
//! Frames of the older envelope (the core's `PeerMessage` as JSON) still decode in
//! `codec.rs`; answers in it carry no producer id (`TxnMarkerResult::producer_id` -1).

use anyhow::{Context, ensure};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{
    ProducerId, RequestHeader, ResponseHeader, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use partita_core::ErrorCode;
use partita_core::assignor::TopicPartition;
use partita_core::batch::EndTxnMarker;
use partita_core::broker::TxnMarkerWrite;
use partita_core::node::{PeerMessage, TxnMarkerResult};

use crate::kafka::convert::topic_name;
use crate::kafka::guard;

/// WriteTxnMarkers v1: the flexible version (Kafka has 0 and 1).
pub const WRITE_TXN_MARKERS_VERSION: i16 = 1;
/// The API key of the request and of the response frames (27).
pub const WRITE_TXN_MARKERS_KEY: i16 = WriteTxnMarkersRequest::KEY;
/// The header's tagged field holding the high 32 bits of a request id past `u32::MAX`.
pub const REQUEST_ID_HIGH_TAG: i32 = 10_000;
const CLIENT_ID: &str = "partita-txn-markers";

/// As `replication::encode`: `Some((is_request, bytes))` for WriteTxnMarkers and its answer.
pub fn encode(message: &PeerMessage) -> Option<anyhow::Result<(bool, Vec<u8>)>> {
    Some(match message {
        PeerMessage::WriteTxnMarkers {
            request_id,
            markers,
        } => encode_request(*request_id, markers).map(|b| (true, b)),
        PeerMessage::WriteTxnMarkersResponse {
            request_id,
            results,
        } => encode_response(*request_id, results).map(|b| (false, b)),
        _ => return None,
    })
}

/// A request frame (header and body), after the guard walked it.
pub fn decode_request(frame: &[u8]) -> anyhow::Result<PeerMessage> {
    guard::check_peer_request(frame)?;
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    ensure!(
        version == WRITE_TXN_MARKERS_VERSION,
        "WriteTxnMarkers v{version}, not v{WRITE_TXN_MARKERS_VERSION}"
    );
    let mut bytes = Bytes::copy_from_slice(frame);
    let header =
        RequestHeader::decode(&mut bytes, WriteTxnMarkersRequest::header_version(version))?;
    let request = WriteTxnMarkersRequest::decode(&mut bytes, version)?;
    ensure!(bytes.is_empty(), "{} bytes after the request", bytes.len());
    let mut markers = Vec::new();
    for marker in &request.markers {
        let end = EndTxnMarker {
            producer_id: marker.producer_id.0,
            producer_epoch: marker.producer_epoch,
            coordinator_epoch: marker.coordinator_epoch,
            commit: marker.transaction_result,
        };
        for topic in &marker.topics {
            for &partition in &topic.partition_indexes {
                markers.push(TxnMarkerWrite {
                    tp: TopicPartition::new(topic.name.to_string(), partition),
                    marker: end,
                });
            }
        }
    }
    Ok(PeerMessage::WriteTxnMarkers {
        request_id: request_id(header.correlation_id, &header.unknown_tagged_fields)?,
        markers,
    })
}

/// A response frame after its API key and version, after the guard walked it.
pub fn decode_response(version: i16, rest: &[u8]) -> anyhow::Result<PeerMessage> {
    guard::check_peer_response(WRITE_TXN_MARKERS_KEY, version, rest)?;
    ensure!(
        version == WRITE_TXN_MARKERS_VERSION,
        "a WriteTxnMarkers response v{version}, not v{WRITE_TXN_MARKERS_VERSION}"
    );
    let mut bytes = Bytes::copy_from_slice(rest);
    let header =
        ResponseHeader::decode(&mut bytes, WriteTxnMarkersResponse::header_version(version))?;
    let response = WriteTxnMarkersResponse::decode(&mut bytes, version)?;
    ensure!(bytes.is_empty(), "{} bytes after the response", bytes.len());
    let mut results = Vec::new();
    for marker in &response.markers {
        for topic in &marker.topics {
            for partition in &topic.partitions {
                results.push(TxnMarkerResult {
                    tp: TopicPartition::new(topic.name.to_string(), partition.partition_index),
                    error: ErrorCode::from_code(partition.error_code)
                        .unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR),
                    producer_id: marker.producer_id.0,
                });
            }
        }
    }
    Ok(PeerMessage::WriteTxnMarkersResponse {
        request_id: request_id(header.correlation_id, &header.unknown_tagged_fields)?,
        results,
    })
}

/// The correlation id (low half) and tagged fields (high half) of a request id.
fn split_request_id(request_id: u64) -> (i32, std::collections::BTreeMap<i32, Bytes>) {
    let low = request_id as u32 as i32;
    let high = (request_id >> 32) as u32;
    let mut tags = std::collections::BTreeMap::new();
    if high != 0 {
        tags.insert(
            REQUEST_ID_HIGH_TAG,
            Bytes::copy_from_slice(&high.to_be_bytes()),
        );
    }
    (low, tags)
}

/// The request id a header carries; a header with another tagged field, or the high half
/// not four bytes, is refused (only Partita's nodes send these frames).
fn request_id(
    correlation_id: i32,
    tags: &std::collections::BTreeMap<i32, Bytes>,
) -> anyhow::Result<u64> {
    let mut high = 0_u32;
    for (&tag, value) in tags {
        ensure!(
            tag == REQUEST_ID_HIGH_TAG,
            "an unknown tagged field {tag} in the header"
        );
        let bytes: [u8; 4] = value[..]
            .try_into()
            .context("the request id's high half is not four bytes")?;
        high = u32::from_be_bytes(bytes);
    }
    Ok(u64::from(high) << 32 | u64::from(correlation_id as u32))
}

fn encode_request(request_id: u64, markers: &[TxnMarkerWrite]) -> anyhow::Result<Vec<u8>> {
    let mut grouped: Vec<WritableTxnMarker> = Vec::new();
    for write in markers {
        let m = &write.marker;
        let continues = grouped.last().is_some_and(|last| {
            last.producer_id.0 == m.producer_id
                && last.producer_epoch == m.producer_epoch
                && last.transaction_result == m.commit
                && last.coordinator_epoch == m.coordinator_epoch
        });
        if !continues {
            grouped.push(
                WritableTxnMarker::default()
                    .with_producer_id(ProducerId(m.producer_id))
                    .with_producer_epoch(m.producer_epoch)
                    .with_transaction_result(m.commit)
                    .with_coordinator_epoch(m.coordinator_epoch),
            );
        }
        let topics = &mut grouped.last_mut().expect("pushed").topics;
        if topics.last().is_none_or(|t| *t.name.0 != *write.tp.topic) {
            topics.push(WritableTxnMarkerTopic::default().with_name(topic_name(&write.tp.topic)));
        }
        let topic = topics.last_mut().expect("pushed");
        topic.partition_indexes.push(write.tp.partition);
    }
    let request = WriteTxnMarkersRequest::default().with_markers(grouped);
    let version = WRITE_TXN_MARKERS_VERSION;
    let (correlation_id, tags) = split_request_id(request_id);
    let mut bytes = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(WRITE_TXN_MARKERS_KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)))
        .with_unknown_tagged_fields(tags)
        .encode(&mut bytes, WriteTxnMarkersRequest::header_version(version))?;
    request.encode(&mut bytes, version)?;
    Ok(bytes.to_vec())
}

fn encode_response(request_id: u64, results: &[TxnMarkerResult]) -> anyhow::Result<Vec<u8>> {
    let mut grouped: Vec<WritableTxnMarkerResult> = Vec::new();
    for result in results {
        if grouped
            .last()
            .is_none_or(|last| last.producer_id.0 != result.producer_id)
        {
            grouped.push(
                WritableTxnMarkerResult::default().with_producer_id(ProducerId(result.producer_id)),
            );
        }
        let topics = &mut grouped.last_mut().expect("pushed").topics;
        if topics.last().is_none_or(|t| *t.name.0 != *result.tp.topic) {
            topics.push(
                WritableTxnMarkerTopicResult::default().with_name(topic_name(&result.tp.topic)),
            );
        }
        let topic = topics.last_mut().expect("pushed");
        topic.partitions.push(
            WritableTxnMarkerPartitionResult::default()
                .with_partition_index(result.tp.partition)
                .with_error_code(result.error.code()),
        );
    }
    let response = WriteTxnMarkersResponse::default().with_markers(grouped);
    let version = WRITE_TXN_MARKERS_VERSION;
    let (correlation_id, tags) = split_request_id(request_id);
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&WRITE_TXN_MARKERS_KEY.to_be_bytes());
    bytes.extend_from_slice(&version.to_be_bytes());
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .with_unknown_tagged_fields(tags)
        .encode(&mut bytes, WriteTxnMarkersResponse::header_version(version))?;
    response.encode(&mut bytes, version)?;
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(producer_id: i64, commit: bool) -> EndTxnMarker {
        EndTxnMarker {
            producer_id,
            producer_epoch: 3,
            coordinator_epoch: 5,
            commit,
        }
    }

    fn write(topic: &str, partition: i32, marker: EndTxnMarker) -> TxnMarkerWrite {
        TxnMarkerWrite {
            tp: TopicPartition::new(topic, partition),
            marker,
        }
    }

    fn result(topic: &str, partition: i32, error: ErrorCode, producer_id: i64) -> TxnMarkerResult {
        TxnMarkerResult {
            tp: TopicPartition::new(topic, partition),
            error,
            producer_id,
        }
    }

    fn round_trip(message: &PeerMessage) -> PeerMessage {
        let (request, body) = encode(message).expect("carried").unwrap();
        if request {
            decode_request(&body).unwrap()
        } else {
            let version = i16::from_be_bytes([body[2], body[3]]);
            decode_response(version, &body[4..]).unwrap()
        }
    }

    #[test]
    fn markers_and_answers_round_trip_in_their_order() {
        let request = PeerMessage::WriteTxnMarkers {
            request_id: 17,
            markers: vec![
                write("orders", 2, marker(4000, true)),
                write("orders", 0, marker(4000, true)),
                write("__consumer_offsets", 11, marker(4000, true)),
                // Another producer, then the first again: runs, never reordered.
                write("orders", 1, marker(4001, false)),
                write("orders", 3, marker(4000, true)),
            ],
        };
        assert_eq!(round_trip(&request), request);
        let response = PeerMessage::WriteTxnMarkersResponse {
            request_id: 17,
            results: vec![
                result("orders", 2, ErrorCode::NONE, 4000),
                result(
                    "__consumer_offsets",
                    11,
                    ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    4000,
                ),
                result("orders", 1, ErrorCode::INVALID_PRODUCER_EPOCH, 4001),
            ],
        };
        assert_eq!(round_trip(&response), response);
    }

    #[test]
    fn the_request_is_kafkas_grouping_and_its_id_the_correlation_id() {
        let request = PeerMessage::WriteTxnMarkers {
            request_id: 9,
            markers: vec![
                write("a", 0, marker(1, true)),
                write("a", 1, marker(1, true)),
                write("b", 0, marker(1, true)),
            ],
        };
        let (_, body) = encode(&request).unwrap().unwrap();
        let mut bytes = Bytes::from(body);
        let header = RequestHeader::decode(&mut bytes, 2).unwrap();
        assert_eq!(header.request_api_key, 27);
        assert_eq!(header.request_api_version, 1);
        assert_eq!(header.correlation_id, 9);
        assert!(header.unknown_tagged_fields.is_empty());
        let decoded = WriteTxnMarkersRequest::decode(&mut bytes, 1).unwrap();
        assert_eq!(decoded.markers.len(), 1);
        let topics: Vec<(String, Vec<i32>)> = decoded.markers[0]
            .topics
            .iter()
            .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
            .collect();
        assert_eq!(topics, [("a".into(), vec![0, 1]), ("b".into(), vec![0])]);
        assert!(decoded.markers[0].transaction_result);
        assert_eq!(decoded.markers[0].coordinator_epoch, 5);
    }

    #[test]
    fn request_ids_past_32_bits_survive_in_a_tagged_field() {
        for request_id in [0, u64::from(u32::MAX), 1 << 32, (7 << 32) | 12, u64::MAX] {
            let request = PeerMessage::WriteTxnMarkers {
                request_id,
                markers: vec![write("a", 0, marker(1, false))],
            };
            assert_eq!(round_trip(&request), request);
            let response = PeerMessage::WriteTxnMarkersResponse {
                request_id,
                results: vec![result("a", 0, ErrorCode::NONE, 1)],
            };
            assert_eq!(round_trip(&response), response);
        }
    }

    #[test]
    fn cut_foreign_or_tagged_frames_are_refused() {
        let request = PeerMessage::WriteTxnMarkers {
            request_id: 3,
            markers: vec![write("a", 0, marker(1, true))],
        };
        let (_, body) = encode(&request).unwrap().unwrap();
        for cut in 1..body.len() {
            assert!(decode_request(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode_request(&longer).is_err(), "a byte after the body");
        // v0 (not flexible) is not what nodes send.
        let mut v0 = body.clone();
        v0[3] = 0;
        assert!(decode_request(&v0).is_err());
        // A markers count larger than the frame: refused by the guard, not reserved.
        let header_len = 8 + 2 + CLIENT_ID.len() + 1;
        let mut lying = body[..header_len].to_vec();
        lying.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x07]);
        assert!(decode_request(&lying).is_err());
        let response = PeerMessage::WriteTxnMarkersResponse {
            request_id: 3,
            results: vec![result("a", 0, ErrorCode::NONE, 1)],
        };
        let (_, body) = encode(&response).unwrap().unwrap();
        for cut in 4..body.len() {
            assert!(decode_response(1, &body[4..cut]).is_err(), "cut at {cut}");
        }
        // A header tag other than the request id's.
        let (correlation_id, _) = split_request_id(3);
        let mut tags = std::collections::BTreeMap::new();
        tags.insert(1, Bytes::from_static(&[0, 0, 0, 1]));
        assert!(request_id(correlation_id, &tags).is_err());
        tags.clear();
        tags.insert(REQUEST_ID_HIGH_TAG, Bytes::from_static(&[1, 2]));
        assert!(request_id(correlation_id, &tags).is_err());
    }
}
