//! CreatePartitions: raise a topic's partition count (keys move to other partitions, as in
//! Kafka; existing data stays where it is). Run at the active controller, forwarded there by
//! any other node (KIP-590). With ACLs, each topic needs Alter (else
//! TOPIC_AUTHORIZATION_FAILED), as Kafka's `handleCreatePartitionsRequest`.

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use partita_core::ErrorCode;
use partita_core::controller::ControllerCommand;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: CreatePartitionsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<CreatePartitionsResponse> {
    let validate_only = request.validate_only;
    let names: Vec<_> = request.topics.iter().map(|t| t.name.clone()).collect();
    let commands = request
        .topics
        .into_iter()
        .map(|topic| {
            if !client.authz.topic(AclOperation::Alter, &topic.name) {
                return Err((
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    "Authorization failed.".to_string(),
                ));
            }
            let assignment: Option<Vec<Vec<i32>>> = topic.assignments.map(|a| {
                a.iter()
                    .map(|p| p.broker_ids.iter().map(|id| id.0).collect())
                    .collect()
            });
            match u32::try_from(topic.count) {
                Ok(count) => Ok(ControllerCommand::CreatePartitions {
                    topic: topic.name.to_string(),
                    count,
                    assignment,
                }),
                Err(_) => Err((
                    ErrorCode::INVALID_PARTITIONS,
                    format!("{} partitions", topic.count),
                )),
            }
        })
        .collect();
    let outcomes = super::forward::control(node, validate_only, commands).await?;
    let results = names
        .into_iter()
        .zip(outcomes)
        .map(|(name, outcome)| {
            let result = CreatePartitionsTopicResult::default().with_name(name);
            match outcome {
                Ok(()) => result,
                Err((code, message)) => result
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message))),
            }
        })
        .collect();
    Ok(CreatePartitionsResponse::default().with_results(results))
}
