//! ListOffsets' special timestamps on the wire, as Kafka 4.x answers them without tiered
//! storage (`ReplicaManager.isListOffsetsTimestampUnsupported`, `UnifiedLog.fetchOffsetByTimestamp`):
//! -4 (earliest local) is the log start, -5 (latest tiered) is offset -1 with epoch -1, and a
//! timestamp the request's version predates (or one that names nothing, such as -6, which
//! needs v11) is UNSUPPORTED_VERSION for that partition only.

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{CreateTopicsRequest, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

fn topic() -> TopicName {
    TopicName(StrBytes::from_static_str("specs"))
}

/// (error, offset, timestamp, leader epoch) for each timestamp, asked in one request.
fn list(client: &mut KafkaClient, version: i16, timestamps: &[i64]) -> Vec<(i16, i64, i64, i32)> {
    let partitions = timestamps
        .iter()
        .map(|&t| {
            ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(t)
        })
        .collect();
    let request = ListOffsetsRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(topic())
                .with_partitions(partitions),
        ]);
    let response = client.call(&request, version).unwrap();
    response.topics[0]
        .partitions
        .iter()
        .map(|p| (p.error_code, p.offset, p.timestamp, p.leader_epoch))
        .collect()
}

#[test]
fn special_timestamps_by_version() {
    let server = Server::start();
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    let create = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(topic())
            .with_num_partitions(1)
            .with_replication_factor(1),
    ]);
    assert_eq!(client.call(&create, 5).unwrap().topics[0].error_code, 0);
    let unsupported = ErrorCode::UNSUPPORTED_VERSION.code();
    assert_eq!(
        list(&mut client, 9, &[-2, -4, -5, -6, -7]),
        vec![
            (0, 0, -1, 0),
            (0, 0, -1, 0),
            (0, -1, -1, -1),
            (unsupported, -1, -1, -1),
            (unsupported, -1, -1, -1),
        ]
    );
    assert_eq!(
        list(&mut client, 8, &[-4, -5]),
        vec![(0, 0, -1, 0), (unsupported, -1, -1, -1)]
    );
    assert_eq!(
        list(&mut client, 6, &[-3, -1]),
        vec![(unsupported, -1, -1, -1), (0, 0, -1, 0)]
    );
}
