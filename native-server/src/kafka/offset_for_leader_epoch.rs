//! OffsetForLeaderEpoch (KIP-101): where a leader epoch ends, so that a client (or a follower)
//! that saw an older leader can find where its copy diverges and cut there. With ACLs
//! (Kafka's `handleOffsetForLeaderEpochRequest`): a client needs Describe on each topic, a
//! request naming a replica ClusterAction on the cluster; a partition refused is
//! TOPIC_AUTHORIZATION_FAILED.

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use partita_core::assignor::TopicPartition;
use partita_core::broker;

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;

pub async fn handle(
    request: OffsetForLeaderEpochRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<OffsetForLeaderEpochResponse> {
    let authz = &client.authz;
    let allowed = |topic: &str| {
        if request.replica_id.0 >= 0 {
            authz.cluster(AclOperation::ClusterAction)
        } else {
            authz.topic(AclOperation::Describe, topic)
        }
    };
    let refused: Vec<(String, EpochEndOffset)> = request
        .topics
        .iter()
        .filter(|topic| !allowed(&topic.topic))
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| {
                let partition = EpochEndOffset::default()
                    .with_partition(p.partition)
                    .with_error_code(ErrorCode::TOPIC_AUTHORIZATION_FAILED.code())
                    .with_leader_epoch(-1)
                    .with_end_offset(-1);
                (topic.topic.to_string(), partition)
            })
        })
        .collect();
    let core_request = broker::OffsetForLeaderEpochRequest {
        replica_id: request.replica_id.0,
        partitions: request
            .topics
            .iter()
            .filter(|topic| allowed(&topic.topic))
            .flat_map(|topic| {
                topic
                    .partitions
                    .iter()
                    .map(|p| broker::OffsetForLeaderEpochPartition {
                        tp: TopicPartition::new(topic.topic.to_string(), p.partition),
                        current_leader_epoch: (p.current_leader_epoch >= 0)
                            .then_some(p.current_leader_epoch),
                        leader_epoch: p.leader_epoch,
                    })
            })
            .collect(),
    };
    let answers = node
        .engine
        .call(move |state| state.broker().offset_for_leader_epoch(&core_request))
        .await?;
    let partitions = answers.into_iter().map(|a| {
        let partition = EpochEndOffset::default()
            .with_partition(a.tp.partition)
            .with_error_code(a.error.code())
            .with_leader_epoch(a.leader_epoch)
            .with_end_offset(a.end_offset);
        (a.tp.topic, partition)
    });
    let partitions = partitions.chain(refused);
    let topics = by_topic(partitions, |name, partitions| {
        OffsetForLeaderTopicResult::default()
            .with_topic(topic_name(name))
            .with_partitions(partitions)
    });
    Ok(OffsetForLeaderEpochResponse::default().with_topics(topics))
}
