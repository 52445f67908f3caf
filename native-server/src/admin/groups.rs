//! `partita groups`: list consumer groups, describe their offsets and lag, reset their
//! offsets (`reset_offsets`) and delete them, printing what `kafka-consumer-groups.sh` prints.

use std::collections::BTreeMap;

use anyhow::Context;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, GroupId, ListGroupsRequest,
    OffsetFetchRequest,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::assignor::consumer_protocol::Assignment;

use super::cluster::Cluster;
use super::{check, reset_offsets, table};
use crate::cli::GroupsArgs;
use crate::client::KafkaClient;

const FIND_COORDINATOR_VERSION: i16 = 3;
const LIST_GROUPS_VERSION: i16 = 4;
pub(super) const DESCRIBE_GROUPS_VERSION: i16 = 5;
const DELETE_GROUPS_VERSION: i16 = 2;
const OFFSET_FETCH_VERSION: i16 = 7;
/// ListOffsets' timestamp meaning "the log end offset" (for read_uncommitted consumers, the
/// high watermark: what a consumer can reach, which is what lag is measured against).
pub(super) const LATEST_TIMESTAMP: i64 = -1;
/// ListOffsets' timestamp meaning "the log start offset".
pub(super) const EARLIEST_TIMESTAMP: i64 = -2;
const COLUMNS: [&str; 9] = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
];

pub fn run(args: GroupsArgs) -> anyhow::Result<()> {
    // The admin tool never creates a topic it names (kafka-consumer-groups.sh does not).
    let mut cluster = Cluster::connect(&args.bootstrap_server, &args.login, false)?;
    let output = if args.list {
        list(&mut cluster)?
    } else if args.reset_offsets {
        reset_offsets::run(&mut cluster, &args)?
    } else if args.delete_offsets {
        let group = args.group.as_deref().context("--group is required")?;
        let topic = args.topic.as_deref().context("--topic is required")?;
        super::delete_offsets::run(cluster.coordinator(group)?, group, topic)?
    } else if args.delete {
        let group = args
            .group
            .as_deref()
            .context("--group is required with --delete")?;
        cluster.with_coordinator(group, |coordinator| delete(coordinator, group))?
    } else {
        let group = args
            .group
            .as_deref()
            .context("--group is required with --describe")?;
        describe(&mut cluster, group)?
    };
    print!("{output}");
    Ok(())
}

/// `--list`: ListGroups is answered by each broker for the groups it coordinates, so it is
/// sent to every broker of the Metadata and the answers merged, as kafka-consumer-groups.sh
/// (the AdminClient's `listConsumerGroups`) does. A broker that cannot be asked fails the
/// command, naming it (Kafka's tool reports the failed broker too).
pub fn list(cluster: &mut Cluster) -> anyhow::Result<String> {
    let mut ids = std::collections::BTreeSet::new();
    for (id, address) in cluster.brokers() {
        let response = cluster
            .broker(id)
            .and_then(|broker| broker.call(&ListGroupsRequest::default(), LIST_GROUPS_VERSION))
            .with_context(|| format!("listing the groups of broker {id} ({address})"))?;
        check(
            response.error_code,
            &format!("listing the groups of broker {id}"),
            None,
        )?;
        ids.extend(response.groups.iter().map(|g| g.group_id.0.to_string()));
    }
    Ok(ids.into_iter().map(|id| id + "\n").collect())
}

/// Deletes an empty group and its committed offsets (DeleteGroups, at its coordinator),
/// printing what kafka-consumer-groups.sh prints.
fn delete(client: &mut KafkaClient, group: &str) -> anyhow::Result<String> {
    let request = DeleteGroupsRequest::default()
        .with_groups_names(vec![GroupId(StrBytes::from_string(group.to_string()))]);
    let response = client.call(&request, DELETE_GROUPS_VERSION)?;
    let result = response
        .results
        .first()
        .context("DeleteGroups answered no group")?;
    check(result.error_code, &format!("deleting group {group}"), None)?;
    Ok(format!(
        "Deletion of requested consumer groups ('{group}') was successful.\n"
    ))
}

/// Who consumes a partition: (consumer id, host, client id).
type Owner = (String, String, String);

/// `--describe`: the group's members and committed offsets from its coordinator, each
/// partition's log end offset from that partition's leader (as the AdminClient's
/// `listOffsets` does), and the lag between them.
pub fn describe(cluster: &mut Cluster, group: &str) -> anyhow::Result<String> {
    let group_id = GroupId(StrBytes::from_string(group.to_string()));
    let described = cluster.with_coordinator(group, |coordinator| {
        let described = coordinator
            .call(
                &DescribeGroupsRequest::default().with_groups(vec![group_id.clone()]),
                DESCRIBE_GROUPS_VERSION,
            )?
            .groups
            .into_iter()
            .next()
            .context("DescribeGroups answered no group")?;
        check(
            described.error_code,
            &format!("describing group {group}"),
            described.error_message.as_deref(),
        )?;
        Ok(described)
    })?;
    // A group the coordinator does not know is answered as Dead (Kafka's
    // ConsumerGroupCommand then says it does not exist).
    if described.group_state.as_str() == "Dead" {
        anyhow::bail!("Consumer group '{group}' does not exist.");
    }

    let mut rows: BTreeMap<(String, i32), (Option<i64>, Option<Owner>)> = BTreeMap::new();
    for member in &described.members {
        let owner = (
            member.member_id.to_string(),
            member.client_host.to_string(),
            member.client_id.to_string(),
        );
        let assignment = Assignment::decode(&member.member_assignment).map_err(|e| {
            anyhow::anyhow!(
                "member {}: unreadable assignment: {e}",
                member.member_id.as_str()
            )
        })?;
        for tp in assignment.partitions() {
            rows.entry((tp.topic, tp.partition)).or_default().1 = Some(owner.clone());
        }
    }

    let offsets = cluster.with_coordinator(group, |coordinator| {
        let offsets = coordinator.call(
            &OffsetFetchRequest::default()
                .with_group_id(group_id.clone())
                .with_topics(None),
            OFFSET_FETCH_VERSION,
        )?;
        check(
            offsets.error_code,
            &format!("fetching offsets of {group}"),
            None,
        )?;
        Ok(offsets)
    })?;
    for topic in offsets.topics {
        for p in topic.partitions {
            check(
                p.error_code,
                &format!("offset of {}-{}", topic.name.as_str(), p.partition_index),
                None,
            )?;
            if p.committed_offset >= 0 {
                rows.entry((topic.name.to_string(), p.partition_index))
                    .or_default()
                    .0 = Some(p.committed_offset);
            }
        }
    }

    let ends = log_end_offsets(cluster, rows.keys())?;
    let mut out = String::from("\n");
    if described.members.is_empty() {
        out.push_str(&format!(
            "Consumer group '{group}' has no active members.\n\n"
        ));
    }
    let dash = || "-".to_string();
    let table_rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|((topic, partition), (committed, owner))| {
            let end = ends.get(&(topic.clone(), partition)).copied();
            let lag = committed.zip(end).map(|(c, e)| (e - c).max(0));
            let (consumer, host, client_id) = owner.unwrap_or_else(|| (dash(), dash(), dash()));
            vec![
                group.to_string(),
                topic,
                partition.to_string(),
                committed.map_or_else(dash, |c| c.to_string()),
                end.map_or_else(dash, |e| e.to_string()),
                lag.map_or_else(dash, |l| l.to_string()),
                consumer,
                host,
                client_id,
            ]
        })
        .collect();
    out.push_str(&table::render(&COLUMNS, &table_rows));
    Ok(out)
}

/// How long FindCoordinator is retried while the answer is COORDINATOR_NOT_AVAILABLE (the
/// offsets topic being created, or its partition between leaders).
const COORDINATOR_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// FindCoordinator's key type for a consumer group.
pub(super) const GROUP_KEY_TYPE: i8 = 0;

/// FindCoordinator for `key` of `key_type` (0: a group, 1: a transactional id), asked again
/// for [`COORDINATOR_WAIT`] while the answer is COORDINATOR_NOT_AVAILABLE: the coordinator's
/// node id and `host:port`.
pub(super) fn find_coordinator(
    client: &mut KafkaClient,
    key: &str,
    key_type: i8,
) -> anyhow::Result<(i32, String)> {
    let request = FindCoordinatorRequest::default()
        .with_key(StrBytes::from_string(key.to_string()))
        .with_key_type(key_type);
    let deadline = std::time::Instant::now() + COORDINATOR_WAIT;
    let found = loop {
        let found = client.call(&request, FIND_COORDINATOR_VERSION)?;
        let not_yet = found.error_code == partita_core::ErrorCode::COORDINATOR_NOT_AVAILABLE.code();
        if !not_yet || std::time::Instant::now() >= deadline {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    check(
        found.error_code,
        &format!("finding the coordinator of {key}"),
        found.error_message.as_deref(),
    )?;
    Ok((
        found.node_id.0,
        format!("{}:{}", found.host.as_str(), found.port),
    ))
}

/// The log end offset (high watermark) of each partition, asked of its leader, one topic at a
/// time: a topic that is gone or has a partition without a leader is left out (its rows show
/// `-`), with a warning on standard error.
fn log_end_offsets<'a>(
    cluster: &mut Cluster,
    partitions: impl Iterator<Item = &'a (String, i32)>,
) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
    let mut by_topic: BTreeMap<&str, Vec<(String, i32)>> = BTreeMap::new();
    for key in partitions {
        by_topic.entry(&key.0).or_default().push(key.clone());
    }
    let mut ends = BTreeMap::new();
    for (topic, keys) in by_topic {
        match cluster.list_offsets(&keys, LATEST_TIMESTAMP) {
            Ok(found) => ends.extend(found),
            Err(e) => eprintln!("partita: no log end offsets of {topic}: {e:#}"),
        }
    }
    Ok(ends)
}
