//! `partita groups --reset-offsets`: moves a group's committed offsets as
//! `kafka-consumer-groups.sh --reset-offsets` does. The group must have no members (a running
//! member would commit over the reset). Without `--execute` it is a dry run that prints the
//! plan; with it, the new offsets are committed as a client outside the group commits them
//! (generation -1, no member id).
//!
//! The group's requests go to its coordinator (FindCoordinator), each partition's ListOffsets
//! to its leader (`cluster`). An unknown topic is refused, never created (Metadata with
//! allow_auto_topic_creation=false), as Kafka's tool fails for it.

use anyhow::{Context, bail};
use kafka_protocol::messages::{DescribeGroupsRequest, GroupId};

use super::cluster::Cluster;
use super::groups::{DESCRIBE_GROUPS_VERSION, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use super::offsets::{self, Committer};
use super::{check, table};
use crate::cli::GroupsArgs;
use crate::client::KafkaClient;
use crate::kafka::str_bytes;
const COLUMNS: [&str; 4] = ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"];
/// Group states in which no member can commit over a reset.
const INACTIVE_STATES: [&str; 2] = ["Empty", "Dead"];

/// Where the offsets go.
enum Target {
    Earliest,
    Latest,
    Offset(i64),
    ShiftBy(i64),
}

pub fn run(cluster: &mut Cluster, args: &GroupsArgs) -> anyhow::Result<String> {
    let group = args.group.as_deref().context("--group is required")?;
    let topic_arg = args.topic.as_deref().context("--topic is required")?;
    let target = match (
        args.to_earliest,
        args.to_latest,
        args.to_offset,
        args.shift_by,
    ) {
        (true, ..) => Target::Earliest,
        (_, true, ..) => Target::Latest,
        (_, _, Some(offset), _) => Target::Offset(offset),
        (_, _, _, Some(n)) => Target::ShiftBy(n),
        _ => bail!(
            "--reset-offsets needs one of --to-earliest, --to-latest, --to-offset, --shift-by"
        ),
    };
    let (topic, partitions) = parse_topic(cluster, topic_arg)?;
    cluster.with_coordinator(group, |coordinator| ensure_inactive(coordinator, group))?;

    let keys: Vec<(String, i32)> = partitions.iter().map(|&p| (topic.clone(), p)).collect();
    let earliest = cluster.list_offsets(&keys, EARLIEST_TIMESTAMP)?;
    let latest = cluster.list_offsets(&keys, LATEST_TIMESTAMP)?;
    let committed = cluster.with_coordinator(group, |coordinator| {
        offsets::fetch_committed(coordinator, group, &topic, &partitions)
    })?;
    let mut plan = Vec::new();
    for key in &keys {
        let (Some(&start), Some(&end)) = (earliest.get(key), latest.get(key)) else {
            bail!("no offsets for {}-{}", key.0, key.1);
        };
        let wanted = match target {
            Target::Earliest => start,
            Target::Latest => end,
            Target::Offset(offset) => offset,
            // Without a committed offset a consumer would start at the end (auto.offset.reset
            // latest), so that is what is shifted.
            Target::ShiftBy(n) => committed.get(&key.1).copied().unwrap_or(end) + n,
        };
        plan.push((key.1, wanted.clamp(start, end)));
    }
    if args.execute {
        cluster.with_coordinator(group, |coordinator| {
            commit(coordinator, group, &topic, &plan)
        })?;
    }
    let rows: Vec<Vec<String>> = plan
        .iter()
        .map(|(partition, offset)| {
            vec![
                group.to_string(),
                topic.clone(),
                partition.to_string(),
                offset.to_string(),
            ]
        })
        .collect();
    let mut out = String::new();
    if !args.execute {
        out.push_str("Dry run: nothing committed (add --execute to commit these offsets).\n\n");
    }
    out.push_str(&table::render(&COLUMNS, &rows));
    Ok(out)
}

/// `TOPIC` (every partition) or `TOPIC:P,Q` (those partitions), as kafka-consumer-groups.sh
/// takes it. An unknown topic is an error.
fn parse_topic(cluster: &mut Cluster, arg: &str) -> anyhow::Result<(String, Vec<i32>)> {
    let (topic, listed) = match arg.split_once(':') {
        Some((topic, list)) => (topic, Some(list)),
        None => (arg, None),
    };
    let count =
        i32::try_from(cluster.topic(topic)?.leaders.len()).context("too many partitions")?;
    let partitions = match listed {
        None => (0..count).collect(),
        Some(list) => {
            list.split(',')
                .map(|p| {
                    let p: i32 = p.trim().parse().with_context(|| {
                        format!("{p:?} in --topic {arg} is not a partition number")
                    })?;
                    if !(0..count).contains(&p) {
                        bail!("{topic} has no partition {p} (it has {count})");
                    }
                    Ok(p)
                })
                .collect::<anyhow::Result<_>>()?
        }
    };
    Ok((topic.to_string(), partitions))
}

fn group_id(group: &str) -> GroupId {
    GroupId(str_bytes(group))
}

/// Refuses a group with members, as kafka-consumer-groups.sh does.
fn ensure_inactive(client: &mut KafkaClient, group: &str) -> anyhow::Result<()> {
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id(group)]);
    let described = client.call(&request, DESCRIBE_GROUPS_VERSION)?;
    let described = described
        .groups
        .first()
        .context("DescribeGroups answered no group")?;
    check(
        described.error_code,
        &format!("describing group {group}"),
        None,
    )?;
    let state = described.group_state.as_str();
    if !INACTIVE_STATES.contains(&state) {
        bail!(
            "offsets can only be reset if group {group} is inactive, but it is {state}: stop its consumers first"
        );
    }
    Ok(())
}

fn commit(
    client: &mut KafkaClient,
    group: &str,
    topic: &str,
    plan: &[(i32, i64)],
) -> anyhow::Result<()> {
    let outsider = Committer {
        group,
        generation_id: -1,
        member_id: "",
    };
    for (partition, code) in offsets::commit(client, &outsider, topic, plan)? {
        check(code, &format!("committing {topic}-{partition}"), None)?;
    }
    Ok(())
}
