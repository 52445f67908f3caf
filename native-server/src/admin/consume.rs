//! `partita consume`: fetches a topic's partitions from their start (or end) and prints each
//! message, decoding every codec (gzip, snappy, lz4, zstd) as clients do. With `--group`, it
//! is a member of a consumer group (`group_member`): it reads the partitions assigned to it
//! from the group's committed offsets, and commits what it printed.

use anyhow::Context;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, ListOffsetsRequest};
use partita_core::batch::{BatchHeader, HEADER_BYTES, Record, decode_records_section};

use std::time::{Duration, Instant};

use super::check;
use super::group_member::{GroupMember, Membership};
use super::produce::partition_count;
use crate::cli::ConsumeArgs;
use crate::client::KafkaClient;
use crate::decompress::{DECOMPRESSED_BATCH_MAX_BYTES, decompress};
use crate::kafka::topic_name;

const LIST_OFFSETS_VERSION: i16 = 7;
const FETCH_VERSION: i16 = 12;
const FETCH_WAIT_MS: i32 = 500;
const FETCH_MAX_BYTES: i32 = 4 * 1024 * 1024;
const EARLIEST: i64 = -2;
const LATEST: i64 = -1;

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let mut client = super::connect(&args.bootstrap_server, &args.login)?;
    let partition_count = partition_count(&mut client, &args.topic)? as i32;
    // The group's requests go to its coordinator (FindCoordinator), the rest to the broker.
    let mut coordinator = match &args.group {
        Some(group) => super::groups::connect_to_coordinator(
            &mut client,
            &args.bootstrap_server,
            &args.login,
            group,
        )?,
        None => None,
    };
    let mut member = match &args.group {
        Some(group) => Some(GroupMember::join(
            coordinator.as_mut().unwrap_or(&mut client),
            group,
            &args.topic,
            partition_count,
        )?),
        None => None,
    };
    let mut positions = match &member {
        Some(member) => group_positions(&mut client, coordinator.as_mut(), member, &args)?,
        None => {
            let partitions = match args.partition {
                Some(p) => vec![p],
                None => (0..partition_count).collect(),
            };
            start_positions(&mut client, &args, &partitions)?
        }
    };
    let limit = args.max_messages.unwrap_or(u64::MAX);
    let (mut printed, mut idle_since) = (0u64, Instant::now());
    while printed < limit && idle_since.elapsed().as_millis() < u128::from(args.timeout_ms) {
        if let Some(member) = &mut member
            && let Membership::Rebalancing =
                member.heartbeat_if_due(coordinator.as_mut().unwrap_or(&mut client))?
        {
            member.commit(coordinator.as_mut().unwrap_or(&mut client), &positions)?;
            member.rejoin(coordinator.as_mut().unwrap_or(&mut client), partition_count)?;
            positions = group_positions(&mut client, coordinator.as_mut(), member, &args)?;
        }
        if positions.is_empty() {
            // A member with no partition (more members than partitions) waits its turn.
            std::thread::sleep(Duration::from_millis(FETCH_WAIT_MS as u64));
        } else if fetch_and_print(&mut client, &args, &mut positions, &mut printed, limit)? {
            idle_since = Instant::now();
        }
        if let Some(member) = &mut member {
            member.commit_if_due(coordinator.as_mut().unwrap_or(&mut client), &positions)?;
        }
    }
    if let Some(member) = &mut member {
        let group_client = coordinator.as_mut().unwrap_or(&mut client);
        member.commit(group_client, &positions)?;
        member.leave(group_client)?;
    }
    Ok(())
}

/// Where each partition starts without a group: its log start or its end.
fn start_positions(
    client: &mut KafkaClient,
    args: &ConsumeArgs,
    partitions: &[i32],
) -> anyhow::Result<Vec<(i32, i64)>> {
    let reset = if args.from_beginning {
        EARLIEST
    } else {
        LATEST
    };
    partitions
        .iter()
        .map(|&p| Ok((p, list_offset(client, &args.topic, p, reset)?)))
        .collect()
}

/// Where each partition assigned to the member starts: the group's committed offset, else as
/// `auto.offset.reset` would (`--from-beginning`: earliest, otherwise latest).
/// Each assigned partition's start: the group's committed offset (from the coordinator, when
/// it is another broker than `client`'s), else where `--from-beginning` says.
fn group_positions(
    client: &mut KafkaClient,
    coordinator: Option<&mut KafkaClient>,
    member: &GroupMember,
    args: &ConsumeArgs,
) -> anyhow::Result<Vec<(i32, i64)>> {
    let committed = member.committed(coordinator.unwrap_or(client))?;
    let fresh: Vec<i32> = member
        .assigned
        .iter()
        .copied()
        .filter(|p| !committed.contains_key(p))
        .collect();
    let mut positions = start_positions(client, args, &fresh)?;
    positions.extend(committed);
    positions.sort_unstable();
    eprintln!(
        "partita: joined group {} with {}",
        args.group.as_deref().unwrap_or_default(),
        if positions.is_empty() {
            "no partition".to_string()
        } else {
            member.describe()
        }
    );
    Ok(positions)
}

/// One fetch of every position; prints what came (up to `limit` in all) and moves the
/// positions past it. True if anything was printed.
fn fetch_and_print(
    client: &mut KafkaClient,
    args: &ConsumeArgs,
    positions: &mut [(i32, i64)],
    printed: &mut u64,
    limit: u64,
) -> anyhow::Result<bool> {
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
    let before = *printed;
    for topic in response.responses {
        for data in topic.partitions {
            check(
                data.error_code,
                &format!("fetching {}-{}", args.topic, data.partition_index),
                None,
            )?;
            let records = data.records.unwrap_or_default();
            let position = positions
                .iter_mut()
                .find(|(p, _)| *p == data.partition_index)
                .context("an unasked partition")?;
            for batch in decode_batches(&records)? {
                // The first batch may start before the position asked for.
                let from = position.1;
                for record in batch.into_iter().filter(|r| r.offset >= from) {
                    if *printed == limit {
                        return Ok(*printed > before);
                    }
                    let text = |bytes: Option<&[u8]>| {
                        String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
                    };
                    let value = text(record.value.as_deref());
                    if args.print_key {
                        println!("{}\t{value}", text(record.key.as_deref()));
                    } else {
                        println!("{value}");
                    }
                    position.1 = record.offset + 1;
                    *printed += 1;
                }
            }
        }
    }
    Ok(*printed > before)
}

/// The records of each whole batch in a fetched records set (a cut batch at the end is left
/// for the next fetch, as Kafka's consumers do). Compressed batches are inflated with a bound
/// and every count is checked against the bytes behind it: a hostile broker gets an error,
/// not an abort.
fn decode_batches(records: &[u8]) -> anyhow::Result<Vec<Vec<Record>>> {
    let mut batches = Vec::new();
    let mut rest = records;
    while rest.len() >= HEADER_BYTES {
        let header = BatchHeader::parse(rest).context("a record batch header")?;
        let Some(batch) = rest.get(..header.size_bytes()) else {
            break;
        };
        let section = decompress(
            header.compression()?,
            &batch[HEADER_BYTES..],
            DECOMPRESSED_BATCH_MAX_BYTES,
        )
        .with_context(|| format!("the batch at offset {}", header.base_offset))?;
        batches.push(decode_records_section(&header, &section)?);
        rest = &rest[batch.len()..];
    }
    Ok(batches)
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
