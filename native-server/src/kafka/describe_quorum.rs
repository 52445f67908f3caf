//! DescribeQuorum (KIP-595, KIP-836): the controller quorum of `__cluster_metadata` partition 0
//! as its leader sees it, built by the node ([`partita_core::node::Node::describe_quorum`],
//! which says what each field holds) at the wall clock's time; here only encoded. Another
//! node answers NOT_LEADER_OR_FOLLOWER at the partition, as Kafka's `KafkaRaftClient` does;
//! the admin tool goes to the active controller (`partita quorum`). v2's `Nodes` (the
//! voters' controller endpoints) is left empty.

use kafka_protocol::messages::describe_quorum_response::{PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};
use partita_core::node::QuorumPartition;

use super::node::Node;

pub use partita_core::node::METADATA_TOPIC;

pub async fn handle(
    request: DescribeQuorumRequest,
    node: &Node,
) -> anyhow::Result<DescribeQuorumResponse> {
    let asked: Vec<(String, i32)> = request
        .topics
        .iter()
        .flat_map(|t| {
            let name = t.topic_name.0.to_string();
            t.partitions
                .iter()
                .map(move |p| (name.clone(), p.partition_index))
        })
        .collect();
    let described: Vec<QuorumPartition> = node
        .engine
        .call(move |state| {
            let now = crate::engine::now();
            asked
                .iter()
                .map(|(topic, partition)| state.node.describe_quorum(topic, *partition, now))
                .collect()
        })
        .await?;
    let mut described = described.into_iter();
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let d = described.next().expect("one answer per partition asked");
                    encode(
                        PartitionData::default().with_partition_index(p.partition_index),
                        d,
                    )
                })
                .collect();
            TopicData::default()
                .with_topic_name(topic.topic_name.clone())
                .with_partitions(partitions)
        })
        .collect();
    Ok(DescribeQuorumResponse::default().with_topics(topics))
}

fn encode(data: PartitionData, d: QuorumPartition) -> PartitionData {
    let voters = d
        .voters
        .into_iter()
        .map(|v| {
            ReplicaState::default()
                .with_replica_id(BrokerId(v.replica_id))
                .with_log_end_offset(v.log_end_offset)
                .with_last_fetch_timestamp(v.last_fetch_timestamp)
                .with_last_caught_up_timestamp(v.last_caught_up_timestamp)
        })
        .collect();
    data.with_error_code(d.error.code())
        .with_leader_id(BrokerId(d.leader_id))
        .with_leader_epoch(d.leader_epoch)
        .with_high_watermark(d.high_watermark)
        .with_current_voters(voters)
}
