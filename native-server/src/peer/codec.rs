//! The frames between nodes. Each is a 4-byte big-endian length, then one byte saying what
//! the frame holds, then the body:
//!
//! | kind | body |
//! |------|------|
//! | 0 `HELLO` | `b"PRTA"`, protocol version (u16), the sender's node id (i32): the first frame of every connection |
//! | 1 `ENVELOPE` | a [`PeerMessage`] as JSON: the messages without a natural Kafka shape: the metadata records the controller sends, the registration, AlterPartition, admin commands forwarded to the active controller (KIP-590) and their answers (see [`super::control`] and ARCHITECTURE.md); an older node's WriteTxnMarkers and answer, still read |
//! | 2 `KAFKA_REQUEST` | a Kafka request, header and body, as a broker sends it: a follower's Fetch and OffsetForLeaderEpoch ([`super::replication`]); BrokerHeartbeat, AllocateProducerIds, CreateTopics ([`super::control`]); the transaction coordinator's WriteTxnMarkers ([`super::txn_markers`]) |
//! | 3 `KAFKA_RESPONSE` | the API key and version (2 × i16) it answers, then a Kafka response, header and body |
//! | 4 `RAFT` | a message of the controller quorum ([`PeerMessage::Raft`]): raft-rs's `eraftpb::Message` as protobuf, as is |
//!
//! A frame longer than [`FRAME_MAX`] or that does not decode is the peer's fault: the
//! connection is closed and the frame is never acted on.

use anyhow::{Context, bail, ensure};
use partita_core::controller::BrokerId;
use partita_core::node::PeerMessage;

/// The largest frame accepted: a replica fetch answer carries up to `replica.fetch.max.bytes`
/// per partition and `replica.fetch.response.max.bytes` (10 MiB) in all; JSON inflates that.
pub const FRAME_MAX: usize = 128 * 1024 * 1024;

const HELLO: u8 = 0;
const ENVELOPE: u8 = 1;
const KAFKA_REQUEST: u8 = 2;
const KAFKA_RESPONSE: u8 = 3;
const RAFT: u8 = 4;
const MAGIC: &[u8; 4] = b"PRTA";
/// Bumped when a frame's layout changes; a peer speaking another version is refused.
pub const PROTOCOL_VERSION: u16 = 1;

/// The first frame of a connection: who is speaking.
pub fn hello(node_id: BrokerId) -> Vec<u8> {
    let mut body = Vec::with_capacity(10);
    body.extend_from_slice(MAGIC);
    body.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    body.extend_from_slice(&node_id.to_be_bytes());
    frame(HELLO, &body)
}

/// Reads a hello frame's body (after the length): the sender's node id.
pub fn read_hello(frame: &[u8]) -> anyhow::Result<BrokerId> {
    let (&kind, body) = frame.split_first().context("an empty frame")?;
    ensure!(
        kind == HELLO,
        "the first frame is of kind {kind}, not a hello"
    );
    ensure!(body.len() == 10, "a hello of {} bytes, not 10", body.len());
    ensure!(&body[..4] == MAGIC, "not a partita peer (bad magic)");
    let version = u16::from_be_bytes([body[4], body[5]]);
    ensure!(
        version == PROTOCOL_VERSION,
        "peer protocol version {version}, this node speaks {PROTOCOL_VERSION}"
    );
    Ok(i32::from_be_bytes([body[6], body[7], body[8], body[9]]))
}

/// One message as a whole frame, length included.
pub fn encode(message: &PeerMessage) -> anyhow::Result<Vec<u8>> {
    if let PeerMessage::Raft { bytes } = message {
        ensure!(
            bytes.len() < FRAME_MAX,
            "a Raft message of {} bytes, over the frame limit",
            bytes.len()
        );
        return Ok(frame(RAFT, bytes));
    }
    if let Some(kafka) = super::replication::encode(message)
        .or_else(|| super::control::encode(message))
        .or_else(|| super::txn_markers::encode(message))
    {
        let (request, body) = kafka?;
        ensure!(
            body.len() < FRAME_MAX,
            "{} is {} bytes, over the frame limit",
            message.summary(),
            body.len()
        );
        return Ok(frame(
            if request {
                KAFKA_REQUEST
            } else {
                KAFKA_RESPONSE
            },
            &body,
        ));
    }
    let body = serde_json::to_vec(message).context("encoding a peer message")?;
    ensure!(
        body.len() < FRAME_MAX,
        "{} is {} bytes, over the frame limit",
        message.summary(),
        body.len()
    );
    Ok(frame(ENVELOPE, &body))
}

/// One message from a frame's bytes (after the length).
pub fn decode(frame: &[u8]) -> anyhow::Result<PeerMessage> {
    let (&kind, body) = frame.split_first().context("an empty frame")?;
    match kind {
        ENVELOPE => serde_json::from_slice(body).context("a malformed envelope"),
        // raft-rs decodes (and refuses) the protobuf when the node steps the message.
        RAFT => Ok(PeerMessage::Raft {
            bytes: body.to_vec(),
        }),
        KAFKA_REQUEST => {
            let api_key = i16::from_be_bytes([
                *body.first().context("an empty request")?,
                *body.get(1).context("a request of one byte")?,
            ]);
            if super::control::is_control_request(api_key) {
                super::control::decode_request(body)
            } else if api_key == super::txn_markers::WRITE_TXN_MARKERS_KEY {
                super::txn_markers::decode_request(body)
            } else {
                super::replication::decode_request(body)
            }
        }
        KAFKA_RESPONSE => match body {
            [a, b, _, _, rest @ ..]
                if i16::from_be_bytes([*a, *b]) == super::control::ALLOCATE_PRODUCER_IDS_KEY =>
            {
                ensure!(
                    body[2..4] == super::control::ALLOCATE_PRODUCER_IDS_VERSION.to_be_bytes(),
                    "an AllocateProducerIds response of another version"
                );
                super::control::decode_allocate_response(rest)
            }
            [a, b, c, d, rest @ ..]
                if i16::from_be_bytes([*a, *b]) == super::txn_markers::WRITE_TXN_MARKERS_KEY =>
            {
                super::txn_markers::decode_response(i16::from_be_bytes([*c, *d]), rest)
            }
            _ => super::replication::decode_response(body),
        },
        HELLO => bail!("a second hello"),
        other => bail!("unknown frame kind {other}"),
    }
}

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let length = u32::try_from(body.len() + 1).expect("checked against FRAME_MAX");
    let mut frame = Vec::with_capacity(5 + body.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.push(kind);
    frame.extend_from_slice(body);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use partita_core::ErrorCode;
    use partita_core::controller::MetadataRecord;

    #[test]
    fn hello_round_trips_and_strangers_are_refused() {
        assert_eq!(read_hello(&hello(7)[4..]).unwrap(), 7);
        let mut bad = hello(7)[4..].to_vec();
        bad[1] = b'X';
        assert!(format!("{:#}", read_hello(&bad).unwrap_err()).contains("magic"));
        assert!(read_hello(&[HELLO, 1, 2]).is_err());
    }

    #[test]
    fn a_message_round_trips() {
        let message = PeerMessage::MetadataPush {
            from_offset: 3,
            records: vec![MetadataRecord::FenceBroker(
                partita_core::controller::records::FenceBrokerRecord {
                    broker_id: 2,
                    broker_epoch: 5,
                },
            )],
        };
        let frame = encode(&message).unwrap();
        assert_eq!(decode(&frame[4..]).unwrap(), message);
    }

    #[test]
    fn the_quorum_messages_round_trip() {
        let image = partita_core::controller::MetadataImage::default();
        for message in [
            PeerMessage::Raft {
                bytes: vec![8, 3, 16, 0, 0xff],
            },
            PeerMessage::NotController { leader: Some(2) },
            PeerMessage::NotController { leader: None },
            PeerMessage::BrokerHeartbeatResponse {
                broker_epoch: Some(4),
                from_offset: 9,
                records: Vec::new(),
                image: Some(Box::new(image.clone())),
            },
        ] {
            let frame = encode(&message).unwrap();
            assert_eq!(decode(&frame[4..]).unwrap(), message);
        }
    }

    #[test]
    fn the_marker_messages_travel_as_kafkas_write_txn_markers() {
        let samples = super::super::control::sample_messages();
        let markers: Vec<&PeerMessage> = samples
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    PeerMessage::WriteTxnMarkers { .. }
                        | PeerMessage::WriteTxnMarkersResponse { .. }
                )
            })
            .collect();
        assert_eq!(markers.len(), 2);
        for message in markers {
            let frame = encode(message).unwrap();
            let request = matches!(message, PeerMessage::WriteTxnMarkers { .. });
            assert_eq!(
                frame[4],
                if request {
                    KAFKA_REQUEST
                } else {
                    KAFKA_RESPONSE
                }
            );
            // API 27, v1.
            assert_eq!(frame[5..9], [0, 27, 0, 1]);
            assert_eq!(&decode(&frame[4..]).unwrap(), message);
            assert!(decode(&frame[4..frame.len() - 3]).is_err());
        }
    }

    /// A node of the previous version sent its markers and answers as JSON envelopes: they
    /// are still read (its answers without producer ids).
    #[test]
    fn an_older_nodes_marker_envelopes_are_still_read() {
        let request = concat!(
            r#"{"WriteTxnMarkers":{"request_id":17,"markers":[{"tp":{"topic":"orders","partition":2},"#,
            r#""marker":{"producer_id":4000,"producer_epoch":3,"coordinator_epoch":5,"commit":true}}]}}"#
        );
        let mut frame = vec![ENVELOPE];
        frame.extend_from_slice(request.as_bytes());
        let PeerMessage::WriteTxnMarkers {
            request_id,
            markers,
        } = decode(&frame).unwrap()
        else {
            panic!("not WriteTxnMarkers");
        };
        assert_eq!((request_id, markers.len()), (17, 1));
        assert_eq!(markers[0].marker.producer_id, 4000);
        let response = concat!(
            r#"{"WriteTxnMarkersResponse":{"request_id":17,"results":["#,
            r#"[{"topic":"orders","partition":2},"NONE"],"#,
            r#"[{"topic":"__consumer_offsets","partition":11},"NOT_LEADER_OR_FOLLOWER"]]}}"#
        );
        let mut frame = vec![ENVELOPE];
        frame.extend_from_slice(response.as_bytes());
        let PeerMessage::WriteTxnMarkersResponse {
            request_id,
            results,
        } = decode(&frame).unwrap()
        else {
            panic!("not WriteTxnMarkersResponse");
        };
        assert_eq!(request_id, 17);
        let read: Vec<(String, i32, ErrorCode, i64)> = results
            .into_iter()
            .map(|r| (r.tp.topic, r.tp.partition, r.error, r.producer_id))
            .collect();
        assert_eq!(
            read,
            [
                ("orders".to_string(), 2, ErrorCode::NONE, -1),
                (
                    "__consumer_offsets".to_string(),
                    11,
                    ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    -1
                ),
            ]
        );
        // A field of the wrong type is still refused.
        let bent = response.replacen("\"request_id\":17", "\"request_id\":\"17\"", 1);
        let mut bad = vec![ENVELOPE];
        bad.extend_from_slice(bent.as_bytes());
        assert!(decode(&bad).is_err(), "{bent}");
    }

    #[test]
    fn forwarded_commands_round_trip_in_the_envelope() {
        let samples = super::super::control::sample_messages();
        let forwarded: Vec<&PeerMessage> = samples
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    PeerMessage::ForwardedCommand { .. }
                        | PeerMessage::ForwardedCommandResponse { .. }
                )
            })
            .collect();
        assert_eq!(forwarded.len(), 10);
        for message in forwarded {
            let frame = encode(message).unwrap();
            assert_eq!(frame[4], ENVELOPE);
            assert_eq!(&decode(&frame[4..]).unwrap(), message);
            assert!(decode(&frame[4..frame.len() - 2]).is_err());
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_message() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[ENVELOPE, b'{']).is_err());
        assert!(decode(&[9, 0, 0]).is_err());
        assert!(decode(&hello(1)[4..]).is_err());
    }
}
