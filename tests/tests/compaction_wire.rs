//! Compacted topics on the wire: keyless records are refused per record with INVALID_RECORD and
//! their index in the batch (KIP-467's `record_errors`, Produce v8+), as Kafka's LogValidator
//! does; the next keyed batch is accepted.

use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{CreateTopicsRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::batch::BatchBuilder;
use partita_server::client::KafkaClient;
use partita_tests::server::Server;

fn topic() -> TopicName {
    TopicName(StrBytes::from_static_str("state"))
}

fn create_compacted(client: &mut KafkaClient) {
    let create = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(topic())
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(vec![
                CreatableTopicConfig::default()
                    .with_name(StrBytes::from_static_str("cleanup.policy"))
                    .with_value(Some(StrBytes::from_static_str("compact"))),
            ]),
    ]);
    let created = client.call(&create, 5).unwrap();
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0]);
}

/// A batch of `(key, value)` records.
fn batch(records: &[(Option<&str>, &str)]) -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    for (key, value) in records {
        builder.push(
            1_700_000_000_000,
            key.map(str::as_bytes),
            Some(value.as_bytes()),
            &[],
        );
    }
    builder.build()
}

fn produce(client: &mut KafkaClient, records: Vec<u8>, version: i16) -> PartitionProduceResponse {
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
    let response = client.call(&request, version).unwrap();
    response.responses[0].partition_responses[0].clone()
}

#[test]
fn keyless_records_to_a_compacted_topic_are_refused_by_index() {
    let server = Server::start();
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    create_compacted(&mut client);

    let mixed = batch(&[(Some("a"), "1"), (None, "2"), (Some("b"), "3"), (None, "4")]);
    let refused = produce(&mut client, mixed.clone(), 9);
    assert_eq!(refused.error_code, ErrorCode::INVALID_RECORD.code());
    assert_eq!(refused.base_offset, -1);
    let per_record =
        "Compacted topic cannot accept message without key in topic partition state-0.";
    let errors: Vec<(i32, Option<String>)> = refused
        .record_errors
        .iter()
        .map(|e| {
            let message = e.batch_index_error_message.as_ref().map(|m| m.to_string());
            (e.batch_index, message)
        })
        .collect();
    assert_eq!(
        errors,
        [
            (1, Some(per_record.to_string())),
            (3, Some(per_record.to_string()))
        ]
    );
    assert_eq!(
        refused.error_message.as_deref(),
        Some(
            format!(
                "One or more records have been rejected due to 2 record errors in total, and only \
                 showing the first three errors at most: [RecordError(batchIndex=1, message='{per_record}'), \
                 RecordError(batchIndex=3, message='{per_record}')]"
            )
            .as_str()
        )
    );

    // Before v8 there are no per-record errors on the wire: the code alone says it.
    let old = produce(&mut client, mixed, 7);
    assert_eq!(old.error_code, ErrorCode::INVALID_RECORD.code());
    assert!(old.record_errors.is_empty());

    // Nothing of the refused batches was written: the next keyed batch starts at offset 0.
    let keyed = produce(&mut client, batch(&[(Some("a"), "1"), (Some("b"), "2")]), 9);
    assert_eq!((keyed.error_code, keyed.base_offset), (0, 0));
    // An empty key is a key (not null): accepted.
    let empty_key = produce(&mut client, batch(&[(Some(""), "3")]), 9);
    assert_eq!((empty_key.error_code, empty_key.base_offset), (0, 2));
}
