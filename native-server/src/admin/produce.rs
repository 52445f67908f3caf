//! `partita produce`: lines of standard input become messages, batched per partition, keyed
//! ones placed by librdkafka's default partitioner (the core's), keyless ones round-robin.

use std::collections::BTreeMap;
use std::io::BufRead;

use anyhow::{Context, bail};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{MetadataRequest, ProduceRequest};
use partita_core::batch::BatchBuilder;
use partita_core::partitioner::KeyHash;

use super::check;
use crate::cli::ProduceArgs;
use crate::client::KafkaClient;
use crate::kafka::topic_name;

const METADATA_VERSION: i16 = 12;
const PRODUCE_VERSION: i16 = 9;
/// Lines per partition sent in one request.
const BATCH_RECORDS_MAX: usize = 500;
const REQUEST_TIMEOUT_MS: i32 = 30_000;

pub fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let acks: i16 = match args.acks.as_str() {
        "all" | "-1" => -1,
        "1" => 1,
        "0" => 0,
        other => bail!("--acks {other}: expected 0, 1 or all"),
    };
    let mut client = super::connect(&args.bootstrap_server, &args.login)?;
    let partitions = partition_count(&mut client, &args.topic)?;
    let mut pending: BTreeMap<i32, BatchBuilder> = BTreeMap::new();
    let (mut next_keyless, mut sent) = (0u32, 0u64);
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading standard input")?;
        let (key, value) = match &args.key_separator {
            Some(separator) => match line.split_once(separator.as_str()) {
                Some((key, value)) => (Some(key.to_string()), value.to_string()),
                None => bail!("line {:?} has no key separator {separator:?}", line),
            },
            None => (None, line),
        };
        let partition = match &key {
            Some(key) => KeyHash::ConsistentRandom
                .hash_partition(Some(key.as_bytes()), partitions)
                .expect("keyed"),
            None => {
                next_keyless = (next_keyless + 1) % partitions;
                next_keyless
            }
        } as i32;
        let builder = pending.entry(partition).or_default();
        builder.push(
            now_ms(),
            key.as_deref().map(str::as_bytes),
            Some(value.as_bytes()),
            &[],
        );
        sent += 1;
        if builder.record_count() >= BATCH_RECORDS_MAX {
            let full = pending.remove(&partition).expect("just used");
            send(&mut client, &args.topic, acks, vec![(partition, full)])?;
        }
    }
    send(
        &mut client,
        &args.topic,
        acks,
        pending.into_iter().collect(),
    )?;
    eprintln!("produced {sent} messages to {}", args.topic);
    Ok(())
}

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// The topic's partition count (creating it with the broker's defaults if it allows that).
pub fn partition_count(client: &mut KafkaClient, topic: &str) -> anyhow::Result<u32> {
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name(topic))),
        ]))
        .with_allow_auto_topic_creation(true);
    let response = client.call(&request, METADATA_VERSION)?;
    let found = response
        .topics
        .first()
        .context("no metadata for the topic")?;
    check(found.error_code, &format!("topic {topic}"), None)?;
    u32::try_from(found.partitions.len())
        .ok()
        .filter(|&n| n > 0)
        .context("the topic has no partitions")
}

fn send(
    client: &mut KafkaClient,
    topic: &str,
    acks: i16,
    batches: Vec<(i32, BatchBuilder)>,
) -> anyhow::Result<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let partition_data = batches
        .into_iter()
        .map(|(index, builder)| {
            PartitionProduceData::default()
                .with_index(index)
                .with_records(Some(builder.build().into()))
        })
        .collect();
    let request = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(REQUEST_TIMEOUT_MS)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic_name(topic))
                .with_partition_data(partition_data),
        ]);
    if acks == 0 {
        return client.send_only(&request, PRODUCE_VERSION);
    }
    let response = client.call(&request, PRODUCE_VERSION)?;
    for topic_response in response.responses {
        for p in topic_response.partition_responses {
            check(
                p.error_code,
                &format!("producing to {topic}-{}", p.index),
                p.error_message.as_deref(),
            )?;
        }
    }
    Ok(())
}
