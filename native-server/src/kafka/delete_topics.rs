//! DeleteTopics: by name (up to v5) or by name or id (v6).

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use partita_core::ErrorCode;

use super::convert::{resolve_topic, str_bytes, topic_name};
use super::node::Node;

pub async fn handle(
    request: DeleteTopicsRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<DeleteTopicsResponse> {
    node.engine
        .call(move |state| {
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
            let results = named
                .into_iter()
                .map(|(name, id)| {
                    let resolved =
                        resolve_topic(state.image(), &name.clone().unwrap_or_default(), id);
                    let result = DeletableTopicResult::default()
                        .with_name(name)
                        .with_topic_id(id);
                    let message = |m: String| (version >= 5).then(|| str_bytes(m));
                    let Some(resolved) = resolved else {
                        return result.with_error_code(ErrorCode::UNKNOWN_TOPIC_ID.code());
                    };
                    match state.node.delete_topic(crate::engine::now(), &resolved) {
                        Ok(()) => result.with_name(Some(topic_name(&resolved))),
                        Err((code, text)) => result
                            .with_error_code(code.code())
                            .with_error_message(message(text)),
                    }
                })
                .collect();
            DeleteTopicsResponse::default().with_responses(results)
        })
        .await
}
