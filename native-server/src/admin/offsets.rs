//! A group's committed offsets of one topic, fetched and committed over the wire: shared by
//! `partita consume --group` (a member committing in its generation) and `partita groups
//! --reset-offsets` (an outsider committing for an empty group).

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{GroupId, OffsetCommitRequest, OffsetFetchRequest};

use super::check;
use crate::client::KafkaClient;
use crate::kafka::{str_bytes, topic_name};

const OFFSET_FETCH_VERSION: i16 = 7;
const OFFSET_COMMIT_VERSION: i16 = 7;

/// Who commits: a member in its generation, or (generation -1, no member id) a client
/// outside the group, which the coordinator accepts only while the group has no members.
pub struct Committer<'a> {
    pub group: &'a str,
    pub generation_id: i32,
    pub member_id: &'a str,
}

/// The group's committed offset of each of `partitions` that has one.
pub fn fetch_committed(
    client: &mut KafkaClient,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(str_bytes(group)))
        .with_topics(Some(vec![
            OffsetFetchRequestTopic::default()
                .with_name(topic_name(topic))
                .with_partition_indexes(partitions.to_vec()),
        ]));
    let response = client.call(&request, OFFSET_FETCH_VERSION)?;
    check(response.error_code, "fetching committed offsets", None)?;
    let mut committed = BTreeMap::new();
    for p in response.topics.iter().flat_map(|t| t.partitions.iter()) {
        check(p.error_code, "fetching a committed offset", None)?;
        if p.committed_offset >= 0 {
            committed.insert(p.partition_index, p.committed_offset);
        }
    }
    Ok(committed)
}

/// Commits `offsets` (partition, next offset to read) of `topic`; returns each partition's
/// error code, for the caller to judge.
pub fn commit(
    client: &mut KafkaClient,
    by: &Committer<'_>,
    topic: &str,
    offsets: &[(i32, i64)],
) -> anyhow::Result<Vec<(i32, i16)>> {
    let partitions = offsets
        .iter()
        .map(|&(partition, offset)| {
            OffsetCommitRequestPartition::default()
                .with_partition_index(partition)
                .with_committed_offset(offset)
        })
        .collect();
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(str_bytes(by.group)))
        .with_generation_id_or_member_epoch(by.generation_id)
        .with_member_id(str_bytes(by.member_id))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic_name(topic))
                .with_partitions(partitions),
        ]);
    let response = client.call(&request, OFFSET_COMMIT_VERSION)?;
    Ok(response
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .map(|p| (p.partition_index, p.error_code))
        .collect())
}
