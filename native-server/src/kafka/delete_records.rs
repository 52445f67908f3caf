//! DeleteRecords: moves each partition's log start forward (offset -1: to the high watermark).
//! With ACLs, each topic needs Delete (else TOPIC_AUTHORIZATION_FAILED), as Kafka's.

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use partita_core::assignor::TopicPartition;

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::node::Node;

pub async fn handle(
    request: DeleteRecordsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DeleteRecordsResponse> {
    let authz = client.authz.clone();
    node.engine
        .call(move |state| {
            let topics = request
                .topics
                .into_iter()
                .map(|topic| {
                    let allowed = authz.topic(AclOperation::Delete, &topic.name);
                    let partitions = topic
                        .partitions
                        .iter()
                        .map(|p| {
                            let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
                            let result = DeleteRecordsPartitionResult::default()
                                .with_partition_index(p.partition_index);
                            let deleted = if allowed {
                                state
                                    .node
                                    .delete_records(crate::engine::now(), &tp, p.offset)
                            } else {
                                Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
                            };
                            match deleted {
                                Ok(low_watermark) => result.with_low_watermark(low_watermark),
                                Err(code) => {
                                    result.with_low_watermark(-1).with_error_code(code.code())
                                }
                            }
                        })
                        .collect();
                    DeleteRecordsTopicResult::default()
                        .with_name(topic.name)
                        .with_partitions(partitions)
                })
                .collect();
            DeleteRecordsResponse::default().with_topics(topics)
        })
        .await
}
