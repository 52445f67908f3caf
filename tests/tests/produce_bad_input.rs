//! Bad produce input gets Kafka's error codes, nothing already written is lost, and the broker
//! goes on serving.

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{CreateTopicsRequest, FetchRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::batch::BatchBuilder;
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

const PRODUCE_VERSION: i16 = 9;
const FETCH_VERSION: i16 = 12;

fn topic() -> TopicName {
    TopicName(StrBytes::from_static_str("orders"))
}

fn batch(value: &str) -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    builder.push(
        1_700_000_000_000,
        Some(b"user:42"),
        Some(value.as_bytes()),
        &[],
    );
    builder.build()
}

/// Produces `records` to orders-0 with acks=1 and returns (error code, base offset).
fn produce(client: &mut KafkaClient, records: Vec<u8>) -> (i16, i64) {
    let request = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic())
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records.into())),
                ]),
        ]);
    let response = client.call(&request, PRODUCE_VERSION).unwrap();
    let partition = &response.responses[0].partition_responses[0];
    (partition.error_code, partition.base_offset)
}

fn high_watermark(client: &mut KafkaClient) -> i64 {
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(topic())
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_fetch_offset(0)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ]);
    client.call(&request, FETCH_VERSION).unwrap().responses[0].partitions[0].high_watermark
}

#[test]
fn a_corrupt_batch_is_refused_and_the_log_is_untouched() {
    let server = Server::start();
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    let create = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(topic())
            .with_num_partitions(1)
            .with_replication_factor(1),
    ]);
    assert_eq!(client.call(&create, 5).unwrap().topics[0].error_code, 0);

    assert_eq!(produce(&mut client, batch("first")), (0, 0));

    let mut corrupt = batch("second");
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff; // inside the CRC-covered part
    assert_eq!(
        produce(&mut client, corrupt).0,
        ErrorCode::CORRUPT_MESSAGE.code()
    );

    let mut truncated = batch("third");
    truncated.truncate(truncated.len() - 3);
    assert_ne!(
        produce(&mut client, truncated).0,
        0,
        "a torn batch is refused"
    );

    assert_eq!(
        produce(&mut client, b"not a batch at all".to_vec()).0,
        ErrorCode::CORRUPT_MESSAGE.code()
    );

    // The same connection still works, and only the good batches are in the log.
    assert_eq!(produce(&mut client, batch("fourth")), (0, 1));
    assert_eq!(high_watermark(&mut client), 2);
}

#[test]
fn producing_to_an_unknown_partition_is_refused() {
    let server = Server::start();
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    assert_eq!(
        produce(&mut client, batch("x")).0,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.code()
    );
}
