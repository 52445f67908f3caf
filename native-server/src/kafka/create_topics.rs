//! CreateTopics: each topic goes to the controller; unset counts take the broker defaults.
//! With ACLs, each topic needs Create on the cluster or on the topic (else
//! TOPIC_AUTHORIZATION_FAILED), as Kafka's `handleCreateTopicsRequest`.

use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use partita_core::controller::CreateTopic;

use partita_core::ErrorCode;

use super::ClientInfo;
use super::convert::{str_bytes, uuid};
use super::node::Node;

pub async fn handle(
    request: CreateTopicsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<CreateTopicsResponse> {
    let validate_only = request.validate_only;
    let authz = client.authz.clone();
    node.engine
        .call(move |state| {
            let results = request
                .topics
                .into_iter()
                .map(|topic| {
                    if !authz.create_topic(&topic.name) {
                        return CreatableTopicResult::default()
                            .with_name(topic.name.clone())
                            .with_error_code(ErrorCode::TOPIC_AUTHORIZATION_FAILED.code())
                            .with_error_message(Some(str_bytes("Authorization failed.")));
                    }
                    let assignment: Vec<Vec<i32>> = topic
                        .assignments
                        .iter()
                        .map(|a| a.broker_ids.iter().map(|id| id.0).collect())
                        .collect();
                    let create = CreateTopic {
                        name: topic.name.to_string(),
                        partitions: u32::try_from(topic.num_partitions).ok(),
                        replication_factor: u16::try_from(topic.replication_factor).ok(),
                        assignment: (!assignment.is_empty()).then_some(assignment),
                        configs: topic
                            .configs
                            .iter()
                            .map(|c| {
                                (
                                    c.name.to_string(),
                                    c.value.as_deref().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                    };
                    let result = CreatableTopicResult::default().with_name(topic.name.clone());
                    match state
                        .node
                        .create_topic(crate::engine::now(), &create, validate_only)
                    {
                        Ok(()) => {
                            let created = state.image().topic(&create.name);
                            let partitions = created.map_or(-1, |t| t.partitions.len() as i32);
                            let replication = created
                                .and_then(|t| t.partitions.first())
                                .map_or(-1, |p| p.replicas.len() as i16);
                            let result = if version >= 7 {
                                result
                                    .with_topic_id(created.map(|t| uuid(t.id)).unwrap_or_default())
                            } else {
                                result
                            };
                            if version >= 5 {
                                result
                                    .with_num_partitions(partitions)
                                    .with_replication_factor(replication)
                            } else {
                                result
                            }
                        }
                        Err((code, message)) => result
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message))),
                    }
                })
                .collect();
            CreateTopicsResponse::default().with_topics(results)
        })
        .await
}
