//! `partita consume`: fetches a topic's partitions from their start (or end) and prints each
//! message, decoding every codec (gzip, snappy, lz4, zstd) as clients do. With `--group`, it
//! is a member of a consumer group (`group_member`): it reads the partitions assigned to it
//! from the group's committed offsets, and commits what it printed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use partita_core::batch::{BatchHeader, HEADER_BYTES, Record, decode_records_section};

use super::check;
use super::cluster::{Cluster, RETRIES_MAX, backoff, retriable, retriable_code};
use super::group_member::{GroupMember, Membership};
use crate::cli::ConsumeArgs;
use crate::decompress::{DECOMPRESSED_BATCH_MAX_BYTES, decompress};
use crate::kafka::topic_name;

const FETCH_VERSION: i16 = 12;
const FETCH_WAIT_MS: i32 = 500;
const FETCH_MAX_BYTES: i32 = 4 * 1024 * 1024;
const EARLIEST: i64 = -2;
const LATEST: i64 = -1;

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let mut cluster = Cluster::connect(&args.bootstrap_server, &args.login, true)?;
    let partition_count =
        i32::try_from(cluster.topic(&args.topic)?.leaders.len()).context("too many partitions")?;
    if let Some(p) = args.partition
        && !(0..partition_count).contains(&p)
    {
        bail!(
            "{} has no partition {p} (it has {partition_count})",
            args.topic
        );
    }
    let group = args.group.as_deref();
    let mut member = match group {
        Some(group) => Some(GroupMember::join(
            cluster.coordinator(group)?,
            group,
            &args.topic,
            partition_count,
        )?),
        None => None,
    };
    let mut positions = match &member {
        Some(member) => group_positions(&mut cluster, member, &args)?,
        None => {
            let partitions = match args.partition {
                Some(p) => vec![p],
                None => (0..partition_count).collect(),
            };
            start_positions(&mut cluster, &args, &partitions)?
        }
    };
    let limit = args.max_messages.unwrap_or(u64::MAX);
    let (mut printed, mut idle_since, mut failed_rounds) = (0u64, Instant::now(), 0u32);
    while printed < limit && idle_since.elapsed().as_millis() < u128::from(args.timeout_ms) {
        if let (Some(member), Some(group)) = (&mut member, group)
            && let Membership::Rebalancing = member.heartbeat_if_due(cluster.coordinator(group)?)?
        {
            member.commit(cluster.coordinator(group)?, &positions)?;
            member.rejoin(cluster.coordinator(group)?, partition_count)?;
            positions = group_positions(&mut cluster, member, &args)?;
        }
        if positions.is_empty() {
            // A member with no partition (more members than partitions) waits its turn.
            std::thread::sleep(Duration::from_millis(FETCH_WAIT_MS as u64));
        } else {
            let round = fetch_and_print(&mut cluster, &args, &mut positions, &mut printed, limit)?;
            if round.printed {
                idle_since = Instant::now();
            }
            if let Some(e) = round.failure {
                failed_rounds += 1;
                if failed_rounds > RETRIES_MAX {
                    return Err(e.context(format!(
                        "nothing could be fetched in {RETRIES_MAX} rounds in a row"
                    )));
                }
                std::thread::sleep(backoff(failed_rounds));
            } else {
                failed_rounds = 0;
            }
        }
        if let (Some(member), Some(group)) = (&mut member, group) {
            member.commit_if_due(cluster.coordinator(group)?, &positions)?;
        }
    }
    if let (Some(member), Some(group)) = (&mut member, group) {
        member.commit(cluster.coordinator(group)?, &positions)?;
        member.leave(cluster.coordinator(group)?)?;
    }
    Ok(())
}

/// Where each partition starts without a group: its log start or its end, asked of its leader.
fn start_positions(
    cluster: &mut Cluster,
    args: &ConsumeArgs,
    partitions: &[i32],
) -> anyhow::Result<Vec<(i32, i64)>> {
    let reset = if args.from_beginning {
        EARLIEST
    } else {
        LATEST
    };
    let keys: Vec<(String, i32)> = partitions
        .iter()
        .map(|&p| (args.topic.clone(), p))
        .collect();
    let offsets = cluster.list_offsets(&keys, reset)?;
    keys.into_iter()
        .map(|key| {
            let offset = offsets
                .get(&key)
                .with_context(|| format!("no offsets for {}-{}", key.0, key.1))?;
            Ok((key.1, *offset))
        })
        .collect()
}

/// Each assigned partition's start: the group's committed offset (from its coordinator),
/// else where `--from-beginning` says (as `auto.offset.reset` would: earliest or latest).
fn group_positions(
    cluster: &mut Cluster,
    member: &GroupMember,
    args: &ConsumeArgs,
) -> anyhow::Result<Vec<(i32, i64)>> {
    let group = args.group.as_deref().unwrap_or_default();
    let committed = member.committed(cluster.coordinator(group)?)?;
    let fresh: Vec<i32> = member
        .assigned
        .iter()
        .copied()
        .filter(|p| !committed.contains_key(p))
        .collect();
    let mut positions = start_positions(cluster, args, &fresh)?;
    positions.extend(committed);
    positions.sort_unstable();
    eprintln!(
        "partita: joined group {group} with {}",
        if positions.is_empty() {
            "no partition".to_string()
        } else {
            member.describe()
        }
    );
    Ok(positions)
}

/// What one fetch round did.
struct Round {
    /// Whether anything was printed.
    printed: bool,
    /// The last retriable failure, when nothing at all could be fetched this round.
    failure: Option<anyhow::Error>,
}

/// One fetch round: one Fetch per leader of the positions; prints what came (up to `limit`
/// in all) and moves the positions past it. A leader that moved or cannot be reached makes
/// the next round ask Metadata again.
fn fetch_and_print(
    cluster: &mut Cluster,
    args: &ConsumeArgs,
    positions: &mut [(i32, i64)],
    printed: &mut u64,
    limit: u64,
) -> anyhow::Result<Round> {
    let mut by_leader: BTreeMap<i32, Vec<(i32, i64)>> = BTreeMap::new();
    for &(p, offset) in positions.iter() {
        by_leader
            .entry(cluster.leader(&args.topic, p)?)
            .or_default()
            .push((p, offset));
    }
    let before = *printed;
    let (mut answered, mut failure) = (false, None);
    for (leader, asked) in by_leader {
        if *printed == limit {
            break;
        }
        let request = fetch_request(&args.topic, &asked);
        let response = match cluster
            .broker(leader)
            .and_then(|client| client.call(&request, FETCH_VERSION))
        {
            Ok(response) => response,
            Err(e) if retriable(&e) => {
                cluster.disconnect(leader);
                cluster.forget(&args.topic);
                failure = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        for topic in response.responses {
            for data in topic.partitions {
                let what = format!("fetching {}-{}", args.topic, data.partition_index);
                if retriable_code(data.error_code) {
                    cluster.forget(&args.topic);
                    failure = Some(check(data.error_code, &what, None).expect_err("non-zero"));
                    continue;
                }
                check(data.error_code, &what, None)?;
                answered = true;
                let records = data.records.unwrap_or_default();
                let position = positions
                    .iter_mut()
                    .find(|(p, _)| *p == data.partition_index)
                    .context("an unasked partition")?;
                print_records(args, &records, position, printed, limit)?;
            }
        }
    }
    Ok(Round {
        printed: *printed > before,
        failure: if answered { None } else { failure },
    })
}

/// A Fetch of `topic`'s partitions at their positions.
fn fetch_request(topic: &str, positions: &[(i32, i64)]) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(FETCH_WAIT_MS)
        .with_min_bytes(1)
        .with_max_bytes(FETCH_MAX_BYTES)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(topic_name(topic))
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
        ])
}

/// Prints the records of one partition's fetched bytes from `position` on (up to `limit` in
/// all), moving `position` past each.
fn print_records(
    args: &ConsumeArgs,
    records: &[u8],
    position: &mut (i32, i64),
    printed: &mut u64,
    limit: u64,
) -> anyhow::Result<()> {
    for batch in decode_batches(records)? {
        // The first batch may start before the position asked for.
        let from = position.1;
        for record in batch.into_iter().filter(|r| r.offset >= from) {
            if *printed == limit {
                return Ok(());
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
    Ok(())
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
