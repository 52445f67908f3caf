use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

use super::hostile::{Poison, poisoned_request};
use super::*;
use crate::kafka::versions::SUPPORTED;

/// Every supported version of every API.
fn supported() -> impl Iterator<Item = (ApiKey, i16)> {
    SUPPORTED
        .iter()
        .flat_map(|&(api, min, max)| (min..=max).map(move |v| (api, v)))
}

#[test]
fn the_table_covers_every_api_and_version_in_versions_rs() {
    for (api, version) in supported() {
        let message = schema(api as i16, version)
            .unwrap_or_else(|| panic!("no schema for {api:?} v{version}: regenerate schemas.rs"));
        assert!(message.versions.contains(version));
    }
    assert_eq!(REQUESTS.len(), SUPPORTED.len(), "one schema per API");
    assert_eq!(
        RESPONSES.len(),
        SUPPORTED.len(),
        "one response schema per API"
    );
    for (api, version) in supported() {
        assert!(
            response_schema(api as i16, version).is_some(),
            "{api:?} v{version}"
        );
    }
}

#[test]
fn header_versions_match_the_codec() {
    for (api, version) in supported() {
        let message = schema(api as i16, version).unwrap();
        assert_eq!(
            header_version(message, version),
            api.request_header_version(version),
            "{api:?} v{version}"
        );
        let response = response_schema(api as i16, version).unwrap();
        assert_eq!(
            response_header_version(response, version),
            api.response_header_version(version),
            "{api:?} v{version} response"
        );
    }
}

#[test]
fn the_issue_17_frame_is_refused() {
    // Metadata v1, correlation id 7, client id "xx", topics count 2^31-1 and nothing else.
    let frame = [
        0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x02, 0x78, 0x78, 0x7f, 0xff, 0xff,
        0xff,
    ];
    let refusal = check_request(&frame).unwrap_err();
    assert_eq!(
        refusal,
        Refusal {
            message: "MetadataRequest",
            version: 1,
            field: "Topics".to_string(),
            problem: Problem::CountTooLarge {
                count: 2_147_483_647,
                left: 0
            },
        }
    );
    assert_eq!(
        refusal.to_string(),
        "refused MetadataRequest v1: Topics: count 2147483647 is larger than the 0 bytes left"
    );
}

#[test]
fn every_poison_is_refused_in_every_api_and_version() {
    let mut refused = 0;
    for (api, version) in supported() {
        let message = schema(api as i16, version).unwrap();
        for poison in Poison::ALL {
            let Some(frame) = poisoned_request(message, version, poison, 1) else {
                continue;
            };
            let refusal = check_request(&frame).expect_err(&format!(
                "{api:?} v{version} {poison:?} passed the guard: {frame:02x?}"
            ));
            assert_eq!(refusal.version, version);
            refused += 1;
        }
        // Every API but those without an array has a huge-count frame.
        let huge = poisoned_request(message, version, Poison::HugeCount, 1);
        let has_array = message
            .fields
            .iter()
            .any(|f| f.in_body(version) && matches!(f.ty, Ty::Array(_) | Ty::ArrayOf(_)));
        assert_eq!(huge.is_some(), has_array, "{api:?} v{version}");
    }
    assert!(refused > 300, "only {refused} poisoned frames");
}

/// A request frame as a client encodes it: header, then body.
fn encode<T: Encodable>(api: ApiKey, version: i16, body: &T) -> Vec<u8> {
    encode_if_valid(api, version, body).expect("encodes")
}

/// `None` when the codec refuses to encode `body` at `version` (a default value a version
/// cannot carry).
fn encode_if_valid<T: Encodable>(api: ApiKey, version: i16, body: &T) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(42)
        .with_client_id(Some(StrBytes::from_static_str("guard-test")))
        .encode(&mut buf, api.request_header_version(version))
        .unwrap();
    body.encode(&mut buf, version).ok()?;
    Some(buf.to_vec())
}

fn name(s: &'static str) -> StrBytes {
    StrBytes::from_static_str(s)
}

/// Requests with something in every array, as clients send them.
fn populated(api: ApiKey, version: i16) -> Option<Vec<u8>> {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ReplicaState};
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    Some(match api {
        ApiKey::Metadata => encode(
            api,
            version,
            &MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(TopicName(name("orders")))),
                MetadataRequestTopic::default().with_name(Some(TopicName(name("payments")))),
            ])),
        ),
        ApiKey::Produce => encode(
            api,
            version,
            &ProduceRequest::default()
                .with_acks(-1)
                .with_topic_data(vec![
                    TopicProduceData::default()
                        .with_name(TopicName(name("orders")))
                        .with_partition_data(vec![
                            PartitionProduceData::default()
                                .with_index(0)
                                .with_records(Some(bytes::Bytes::from_static(&[1; 70]))),
                        ]),
                ]),
        ),
        ApiKey::Fetch => {
            let mut request = FetchRequest::default().with_topics(vec![
                FetchTopic::default()
                    .with_topic(TopicName(name("orders")))
                    .with_partitions(vec![FetchPartition::default().with_partition(3)]),
            ]);
            if version >= 12 {
                request = request.with_cluster_id(Some(name("cluster")));
            }
            if version >= 15 {
                request = request.with_replica_state(
                    ReplicaState::default()
                        .with_replica_id(BrokerId(2))
                        .with_replica_epoch(9),
                );
            }
            encode(api, version, &request)
        }
        ApiKey::AlterUserScramCredentials => encode(
            api,
            version,
            &AlterUserScramCredentialsRequest::default()
                .with_upsertions(vec![
                    alter_user_scram_credentials_request::ScramCredentialUpsertion::default()
                        .with_name(name("alice"))
                        .with_mechanism(2)
                        .with_iterations(8192)
                        .with_salt(bytes::Bytes::from_static(&[7; 32]))
                        .with_salted_password(bytes::Bytes::from_static(&[9; 64])),
                ])
                .with_deletions(vec![
                    alter_user_scram_credentials_request::ScramCredentialDeletion::default()
                        .with_name(name("bob"))
                        .with_mechanism(1),
                ]),
        ),
        _ => return None,
    })
}

/// Every API at every version, encoded by the codec from its default (empty arrays, empty
/// strings), passes the guard; so do populated ones with tagged fields.
#[test]
fn requests_encoded_by_the_codec_pass() {
    macro_rules! defaults {
        ($api:expr, $version:expr, $($key:ident => $ty:ty),* $(,)?) => {
            match $api {
                $(ApiKey::$key => encode_if_valid($api, $version, &<$ty>::default()),)*
                other => panic!("{other:?} missing from the test's list"),
            }
        };
    }
    let mut checked = 0;
    for (api, version) in supported() {
        let frame = defaults!(api, version,
            Produce => ProduceRequest, Fetch => FetchRequest, ListOffsets => ListOffsetsRequest,
            Metadata => MetadataRequest, OffsetCommit => OffsetCommitRequest,
            OffsetFetch => OffsetFetchRequest, FindCoordinator => FindCoordinatorRequest,
            JoinGroup => JoinGroupRequest, Heartbeat => HeartbeatRequest,
            LeaveGroup => LeaveGroupRequest, SyncGroup => SyncGroupRequest,
            DescribeGroups => DescribeGroupsRequest, ListGroups => ListGroupsRequest,
            ApiVersions => ApiVersionsRequest, CreateTopics => CreateTopicsRequest,
            DeleteTopics => DeleteTopicsRequest, DeleteGroups => DeleteGroupsRequest,
            DeleteRecords => DeleteRecordsRequest, InitProducerId => InitProducerIdRequest,
            DescribeConfigs => DescribeConfigsRequest, CreatePartitions => CreatePartitionsRequest,
            AlterConfigs => AlterConfigsRequest,
            IncrementalAlterConfigs => IncrementalAlterConfigsRequest,
            DescribeCluster => DescribeClusterRequest,
            OffsetForLeaderEpoch => OffsetForLeaderEpochRequest,
            SaslHandshake => SaslHandshakeRequest, SaslAuthenticate => SaslAuthenticateRequest,
            OffsetDelete => OffsetDeleteRequest, DescribeLogDirs => DescribeLogDirsRequest,
            DescribeProducers => DescribeProducersRequest,
            AddPartitionsToTxn => AddPartitionsToTxnRequest,
            AddOffsetsToTxn => AddOffsetsToTxnRequest, EndTxn => EndTxnRequest,
            TxnOffsetCommit => TxnOffsetCommitRequest,
            DescribeQuorum => DescribeQuorumRequest,
            DescribeTransactions => DescribeTransactionsRequest,
            ListTransactions => ListTransactionsRequest,
            DescribeUserScramCredentials => DescribeUserScramCredentialsRequest,
            AlterUserScramCredentials => AlterUserScramCredentialsRequest,
            DescribeAcls => DescribeAclsRequest, CreateAcls => CreateAclsRequest,
            DeleteAcls => DeleteAclsRequest,
        );
        for frame in frame.into_iter().chain(populated(api, version)) {
            check_request(&frame)
                .unwrap_or_else(|e| panic!("{api:?} v{version} refused: {e}: {frame:02x?}"));
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} frames checked");
}

#[test]
fn a_tagged_field_must_fill_its_declared_size() {
    // Fetch v12 with the ClusterId tag (0): a compact string "cluster" takes 8 bytes.
    let mut frame = populated(ApiKey::Fetch, 12).unwrap();
    let good = frame.clone();
    check_request(&good).unwrap();
    // The body's tagged section is at the end: count 1, tag 0, size 9, compact string "cluster".
    let tail = [1u8, 0, 8, 8, b'c', b'l', b'u', b's', b't', b'e', b'r'];
    let body_tags = frame.len() - tail.len();
    assert_eq!(&frame[body_tags..], &tail[..], "layout as expected");
    frame[body_tags + 2] = 9;
    frame.push(0);
    let refusal = check_request(&frame).unwrap_err();
    assert_eq!(
        refusal.problem,
        Problem::TaggedSizeMismatch {
            tag: 0,
            size: 9,
            used: 8
        }
    );
    assert_eq!(refusal.field, "ClusterId");
}

#[test]
fn a_tag_beyond_i32_max_is_refused() {
    // Metadata v9: header (client id "", no tags), then topics null, three booleans, and a
    // tagged section with one unknown tag 2^31 of one byte.
    let mut frame = vec![0, 3, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    let good = [frame.clone(), vec![1, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 0]].concat();
    check_request(&good).expect("tag 2^31 - 1 is a Java int");
    frame.extend_from_slice(&[1, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 0]);
    assert_eq!(
        check_request(&frame).unwrap_err().problem,
        Problem::TagTooLarge(1 << 31)
    );
}

#[test]
fn a_varint_longer_than_five_bytes_is_refused() {
    // Metadata v9 (flexible): topics count as a six-byte varint.
    let mut frame = vec![0, 3, 0, 9, 0, 0, 0, 1, 0, 0, 0];
    frame.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert_eq!(
        check_request(&frame).unwrap_err().problem,
        Problem::BadVarint
    );
}

#[test]
fn more_array_elements_than_the_cap_are_refused() {
    // DescribeGroups v0 (header: client id "", then groups: count N and N empty strings).
    let count = ARRAY_ELEMENTS_MAX as usize + 1;
    let mut frame = vec![0, 15, 0, 0, 0, 0, 0, 1, 0, 0];
    frame.extend_from_slice(&(count as i32).to_be_bytes());
    frame.resize(frame.len() + 2 * count, 0);
    assert_eq!(
        check_request(&frame).unwrap_err().problem,
        Problem::TooManyElements(count as u64)
    );
    frame.truncate(frame.len() - 2);
    frame[10..14].copy_from_slice(&((count - 1) as i32).to_be_bytes());
    check_request(&frame).unwrap();
}
