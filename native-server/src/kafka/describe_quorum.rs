//! DescribeQuorum (KIP-595, KIP-836): the controller quorum of `__cluster_metadata` partition 0
//! as its leader sees it: leader id, epoch (the Raft term), high watermark, and each voter's log
//! end offset. Another node answers NOT_LEADER_OR_FOLLOWER at the partition, as Kafka's
//! `KafkaRaftClient` does; the admin tool goes to the active controller (`partita quorum`).
//!
//! Offsets are Raft entry indexes (an entry is one controller command's batch of records): the
//! high watermark is the commit index, a voter's log end offset the index it is known to have
//! replicated. The leader reports -1 for the fetch timestamps it does not keep (Kafka's
//! "unknown"), and the current time as its own last caught-up time. Observers (brokers that
//! are not voters) are not listed: they learn the metadata from heartbeats, not by fetching
//! the Raft log. v2's `Nodes` (the voters' controller endpoints) is left empty.

use kafka_protocol::messages::describe_quorum_response::{PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};
use partita_core::ErrorCode;

use super::node::Node;

/// The metadata log's topic and partition.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

pub async fn handle(
    request: DescribeQuorumRequest,
    node: &Node,
) -> anyhow::Result<DescribeQuorumResponse> {
    let status = node.engine.call(|state| state.quorum_status()).await?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let known =
                        topic.topic_name.0.as_str() == METADATA_TOPIC && p.partition_index == 0;
                    let data = PartitionData::default().with_partition_index(p.partition_index);
                    match &status {
                        _ if !known => data
                            .with_error_code(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.code())
                            .with_leader_id(BrokerId(-1)),
                        Some(s) if s.leader == Some(s.node_id) && s.role == "leader" => {
                            let voters = s
                                .voters
                                .iter()
                                .map(|v| {
                                    let is_leader = v.node_id == s.node_id;
                                    ReplicaState::default()
                                        .with_replica_id(BrokerId(v.node_id))
                                        .with_log_end_offset(v.matched.map_or(-1, offset))
                                        .with_last_fetch_timestamp(-1)
                                        .with_last_caught_up_timestamp(if is_leader {
                                            now_ms
                                        } else {
                                            -1
                                        })
                                })
                                .collect();
                            data.with_leader_id(BrokerId(s.node_id))
                                .with_leader_epoch(i32::try_from(s.term).unwrap_or(i32::MAX))
                                .with_high_watermark(offset(s.commit_index))
                                .with_current_voters(voters)
                        }
                        Some(s) => data
                            .with_error_code(ErrorCode::NOT_LEADER_OR_FOLLOWER.code())
                            .with_leader_id(BrokerId(s.leader.unwrap_or(-1)))
                            .with_leader_epoch(i32::try_from(s.term).unwrap_or(i32::MAX)),
                        None => data
                            .with_error_code(ErrorCode::NOT_LEADER_OR_FOLLOWER.code())
                            .with_leader_id(BrokerId(-1)),
                    }
                })
                .collect();
            TopicData::default()
                .with_topic_name(topic.topic_name.clone())
                .with_partitions(partitions)
        })
        .collect();
    Ok(DescribeQuorumResponse::default().with_topics(topics))
}

fn offset(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}
