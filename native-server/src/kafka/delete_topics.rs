//! DeleteTopics: by name (up to v5) or by name or id (v6), run at the active controller
//! (forwarded there by any other node, KIP-590). With ACLs, each topic needs Delete (else
//! TOPIC_AUTHORIZATION_FAILED), as Kafka's `handleDeleteTopicsRequest`.

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use partita_core::ErrorCode;
use partita_core::controller::ControllerCommand;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{resolve_topic, str_bytes, topic_name};
use super::node::Node;

pub async fn handle(
    request: DeleteTopicsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DeleteTopicsResponse> {
    let named: Vec<(Option<TopicName>, uuid::Uuid)> = if version >= 6 {
        request
            .topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        request
            .topic_names
            .into_iter()
            .map(|n| (Some(n), uuid::Uuid::nil()))
            .collect()
    };
    // Names and ids are resolved in this node's metadata image; the deletions run at the
    // active controller (forwarded there by any other node, KIP-590).
    let lookups = named.clone();
    let resolved: Vec<Option<String>> = node
        .engine
        .call(move |state| {
            lookups
                .iter()
                .map(|(name, id)| {
                    resolve_topic(state.image(), &name.clone().unwrap_or_default(), *id)
                })
                .collect()
        })
        .await?;
    let commands = resolved
        .iter()
        .map(|topic| match topic {
            Some(topic) if !client.authz.topic(AclOperation::Delete, topic) => Err((
                ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                "Authorization failed.".to_string(),
            )),
            Some(topic) => Ok(ControllerCommand::DeleteTopic {
                topic: topic.clone(),
            }),
            None => Err((
                ErrorCode::UNKNOWN_TOPIC_ID,
                "This server does not host this topic ID.".to_string(),
            )),
        })
        .collect();
    let outcomes = super::forward::control(node, false, commands).await?;
    let message = |m: String| (version >= 5).then(|| str_bytes(m));
    let results = named
        .into_iter()
        .zip(resolved)
        .zip(outcomes)
        .map(|(((name, id), resolved), outcome)| {
            let result = DeletableTopicResult::default()
                .with_name(name)
                .with_topic_id(id);
            match outcome {
                Ok(()) => result.with_name(resolved.as_deref().map(topic_name)),
                Err((code, text)) => result
                    .with_error_code(code.code())
                    .with_error_message(message(text)),
            }
        })
        .collect();
    Ok(DeleteTopicsResponse::default().with_responses(results))
}
