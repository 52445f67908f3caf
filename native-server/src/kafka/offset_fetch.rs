//! OffsetFetch: a group's committed offsets, for named partitions or all of them (v2+); one
//! group up to v7, several from v8. The node answers ([`partita_core::node::Node::fetch_offsets`]):
//! NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for a group it does not serve now, and
//! UNSTABLE_OFFSET_COMMIT for a partition with a pending commit under `require_stable` (v7+).
//! With ACLs (Kafka's `handleOffsetFetchRequest`): Describe on the group (else
//! GROUP_AUTHORIZATION_FAILED) and Describe on each topic: a named partition of a topic the
//! caller may not Describe is TOPIC_AUTHORIZATION_FAILED, and left out of "all partitions".

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse, TopicName};
use partita_core::ErrorCode;
use partita_core::assignor::TopicPartition;
use partita_core::group::CommittedOffset;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, str_bytes, topic_name};
use super::node::Node;

/// One group's answer: a group-level error, or per partition the offset (`None`: no commit)
/// or the partition's error.
type Fetched = Result<Vec<(TopicPartition, Result<Option<CommittedOffset>, ErrorCode>)>, ErrorCode>;

pub async fn handle(
    request: OffsetFetchRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<OffsetFetchResponse> {
    let authz = client.authz.clone();
    let asked: Vec<(String, Option<Vec<TopicPartition>>)> = if version >= 8 {
        request
            .groups
            .iter()
            .map(|g| {
                (
                    g.group_id.to_string(),
                    g.topics
                        .as_ref()
                        .map(|ts| partitions(ts.iter().map(|t| (&t.name, &t.partition_indexes)))),
                )
            })
            .collect()
    } else {
        let topics = request
            .topics
            .as_ref()
            .map(|ts| partitions(ts.iter().map(|t| (&t.name, &t.partition_indexes))));
        vec![(request.group_id.to_string(), topics)]
    };
    let require_stable = version >= 7 && request.require_stable;
    let fetched: Vec<(String, Fetched)> = node
        .engine
        .call(move |state| {
            asked
                .into_iter()
                .map(|(group, wanted)| {
                    if !authz.group(AclOperation::Describe, &group) {
                        return (group, Err(ErrorCode::GROUP_AUTHORIZATION_FAILED));
                    }
                    let named = wanted.is_some();
                    let result = state
                        .node
                        .fetch_offsets(&group, wanted.as_deref(), require_stable)
                        .map(|offsets| {
                            offsets
                                .into_iter()
                                .filter_map(|(tp, o)| {
                                    if authz.topic(AclOperation::Describe, &tp.topic) {
                                        Some((tp, o.map_err(|e| e.code())))
                                    } else {
                                        named.then_some((
                                            tp,
                                            Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
                                        ))
                                    }
                                })
                                .collect()
                        })
                        .map_err(|e| e.code());
                    (group, result)
                })
                .collect()
        })
        .await?;
    if version >= 8 {
        let groups = fetched
            .into_iter()
            .map(|(group, result)| encode_group(group, result, version))
            .collect();
        return Ok(OffsetFetchResponse::default().with_groups(groups));
    }
    let (_, result) = fetched.into_iter().next().expect("one group asked");
    let response = OffsetFetchResponse::default();
    Ok(match result {
        Err(code) => response.with_error_code(if version >= 2 { code.code() } else { 0 }),
        Ok(offsets) => {
            let partitions = offsets.into_iter().map(|(tp, committed)| {
                let (offset, epoch, metadata, error) = fields(committed, version);
                let partition = OffsetFetchResponsePartition::default()
                    .with_partition_index(tp.partition)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(epoch)
                    .with_metadata(Some(metadata))
                    .with_error_code(error);
                (tp.topic, partition)
            });
            response.with_topics(by_topic(partitions, |name, partitions| {
                OffsetFetchResponseTopic::default()
                    .with_name(topic_name(name))
                    .with_partitions(partitions)
            }))
        }
    })
}

fn partitions<'a>(
    topics: impl Iterator<Item = (&'a TopicName, &'a Vec<i32>)>,
) -> Vec<TopicPartition> {
    topics
        .flat_map(|(name, indexes)| {
            indexes
                .iter()
                .map(move |&p| TopicPartition::new(name.to_string(), p))
        })
        .collect()
}

/// (offset, leader epoch, metadata, error code) as the version can carry them; offset -1 for
/// no commit or an error.
fn fields(
    committed: Result<Option<CommittedOffset>, ErrorCode>,
    version: i16,
) -> (i64, i32, kafka_protocol::protocol::StrBytes, i16) {
    match committed {
        Ok(Some(c)) => {
            let epoch = if version >= 5 {
                c.leader_epoch.unwrap_or(-1)
            } else {
                -1
            };
            (c.offset, epoch, str_bytes(c.metadata), 0)
        }
        Ok(None) => (-1, -1, str_bytes(""), 0),
        Err(code) => (-1, -1, str_bytes(""), code.code()),
    }
}

fn encode_group(group: String, result: Fetched, version: i16) -> OffsetFetchResponseGroup {
    let response = OffsetFetchResponseGroup::default().with_group_id(GroupId(str_bytes(group)));
    match result {
        Err(code) => response.with_error_code(code.code()),
        Ok(offsets) => {
            let partitions = offsets.into_iter().map(|(tp, committed)| {
                let (offset, epoch, metadata, error) = fields(committed, version);
                let partition = OffsetFetchResponsePartitions::default()
                    .with_partition_index(tp.partition)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(epoch)
                    .with_metadata(Some(metadata))
                    .with_error_code(error);
                (tp.topic, partition)
            });
            response.with_topics(by_topic(partitions, |name, partitions| {
                OffsetFetchResponseTopics::default()
                    .with_name(topic_name(name))
                    .with_partitions(partitions)
            }))
        }
    }
}
