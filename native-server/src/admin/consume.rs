//! `partita consume`: fetches a topic's partitions from their start (or end) and prints each
//! message, decoding every codec (gzip, snappy, lz4, zstd) as clients do.

use anyhow::Context;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, ListOffsetsRequest};
use kafka_protocol::records::RecordBatchDecoder;

use super::check;
use super::produce::partition_count;
use crate::cli::ConsumeArgs;
use crate::client::KafkaClient;
use crate::kafka::topic_name;

const LIST_OFFSETS_VERSION: i16 = 7;
const FETCH_VERSION: i16 = 12;
const FETCH_WAIT_MS: i32 = 500;
const FETCH_MAX_BYTES: i32 = 4 * 1024 * 1024;
const EARLIEST: i64 = -2;
const LATEST: i64 = -1;

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let mut client = KafkaClient::connect(&args.bootstrap_server)?;
    let partitions: Vec<i32> = match args.partition {
        Some(p) => vec![p],
        None => (0..partition_count(&mut client, &args.topic)? as i32).collect(),
    };
    let start = if args.from_beginning {
        EARLIEST
    } else {
        LATEST
    };
    let mut positions: Vec<(i32, i64)> = partitions
        .iter()
        .map(|&p| Ok((p, list_offset(&mut client, &args.topic, p, start)?)))
        .collect::<anyhow::Result<_>>()?;
    let limit = args.max_messages.unwrap_or(u64::MAX);
    let (mut printed, mut idle_since) = (0u64, std::time::Instant::now());
    while printed < limit && idle_since.elapsed().as_millis() < u128::from(args.timeout_ms) {
        let request = FetchRequest::default()
            .with_max_wait_ms(FETCH_WAIT_MS)
            .with_min_bytes(1)
            .with_max_bytes(FETCH_MAX_BYTES)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic_name(&args.topic))
                    .with_partitions(
                        positions
                            .iter()
                            .map(|&(p, offset)| {
                                FetchPartition::default()
                                    .with_partition(p)
                                    .with_fetch_offset(offset)
                                    .with_partition_max_bytes(FETCH_MAX_BYTES)
                            })
                            .collect(),
                    ),
            ]);
        let response = client.call(&request, FETCH_VERSION)?;
        for topic in response.responses {
            for data in topic.partitions {
                check(
                    data.error_code,
                    &format!("fetching {}-{}", args.topic, data.partition_index),
                    None,
                )?;
                let mut records = data.records.unwrap_or_default();
                let position = positions
                    .iter_mut()
                    .find(|(p, _)| *p == data.partition_index)
                    .context("an unasked partition")?;
                for set in RecordBatchDecoder::decode_all(&mut records)
                    .context("decoding record batches")?
                {
                    // The first batch may start before the position asked for.
                    let from = position.1;
                    for record in set.records.into_iter().filter(|r| r.offset >= from) {
                        if printed == limit {
                            return Ok(());
                        }
                        let value =
                            String::from_utf8_lossy(record.value.as_deref().unwrap_or_default())
                                .into_owned();
                        if args.print_key {
                            let key =
                                String::from_utf8_lossy(record.key.as_deref().unwrap_or_default())
                                    .into_owned();
                            println!("{key}\t{value}");
                        } else {
                            println!("{value}");
                        }
                        position.1 = record.offset + 1;
                        printed += 1;
                        idle_since = std::time::Instant::now();
                    }
                }
            }
        }
    }
    Ok(())
}

fn list_offset(
    client: &mut KafkaClient,
    topic: &str,
    partition: i32,
    timestamp: i64,
) -> anyhow::Result<i64> {
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(topic_name(topic))
                .with_partitions(vec![
                    ListOffsetsPartition::default()
                        .with_partition_index(partition)
                        .with_timestamp(timestamp),
                ]),
        ]);
    let response = client.call(&request, LIST_OFFSETS_VERSION)?;
    let found = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .context("no offset answered")?;
    check(
        found.error_code,
        &format!("offsets of {topic}-{partition}"),
        None,
    )?;
    Ok(found.offset)
}
