//! CreateTopics: each topic runs at the active controller (forwarded there by any other node,
//! KIP-590); unset counts take the controller's defaults.
//!
//! Kafka's controller answers a created topic's id, partition count and replication factor
//! (v5+, v7+ for the id) and the forwarding broker passes that answer on. Here the forward's
//! answer says only "created", so those fields are read from this node's metadata image once
//! it has applied the topic: at once on the controller (its image moves at the commit the
//! answer waited for), within a heartbeat elsewhere. If the image does not have it within
//! [`IMAGE_WAIT`], the counts the request asked for are answered (-1 where it left them to the
//! defaults) and the id is nil, as for `validate_only`.

use std::time::Duration;

use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use partita_core::controller::{ControllerCommand, CreateTopic};

use super::convert::{str_bytes, uuid};
use super::node::Node;

/// How long a created topic's details are waited for in this node's image.
const IMAGE_WAIT: Duration = Duration::from_secs(2);

/// What the answer says of a created topic: its id, partitions, replication factor.
type Created = (uuid::Uuid, i32, i16);

pub async fn handle(
    request: CreateTopicsRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<CreateTopicsResponse> {
    let validate_only = request.validate_only;
    let creates: Vec<CreateTopic> = request.topics.iter().map(create_topic).collect();
    let commands = creates
        .iter()
        .map(|topic| {
            Ok(ControllerCommand::CreateTopic {
                topic: topic.clone(),
            })
        })
        .collect();
    let outcomes = super::forward::control(node, validate_only, commands).await?;
    let created: Vec<String> = creates
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_ok() && !validate_only)
        .map(|(c, _)| c.name.clone())
        .collect();
    let mut details = created_details(node, &created).await?;
    let results = request
        .topics
        .into_iter()
        .zip(creates)
        .zip(outcomes)
        .map(|((topic, create), outcome)| {
            let result = CreatableTopicResult::default().with_name(topic.name.clone());
            match outcome {
                Ok(()) => {
                    let (id, partitions, replication) = details
                        .remove(&create.name)
                        .unwrap_or_else(|| asked(&create));
                    let result = if version >= 7 {
                        result.with_topic_id(id)
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
    Ok(CreateTopicsResponse::default().with_topics(results))
}

/// The request's topic as the controller's command takes it.
fn create_topic(
    topic: &kafka_protocol::messages::create_topics_request::CreatableTopic,
) -> CreateTopic {
    let assignment: Vec<Vec<i32>> = topic
        .assignments
        .iter()
        .map(|a| a.broker_ids.iter().map(|id| id.0).collect())
        .collect();
    CreateTopic {
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
    }
}

/// The counts the request asked for, when the image cannot say (-1: left to the defaults).
fn asked(create: &CreateTopic) -> Created {
    let partitions = create
        .assignment
        .as_ref()
        .map(|a| a.len() as i32)
        .or(create.partitions.map(|p| p as i32))
        .unwrap_or(-1);
    let replication = create
        .assignment
        .as_ref()
        .and_then(|a| a.first().map(|r| r.len() as i16))
        .or(create.replication_factor.map(|r| r as i16))
        .unwrap_or(-1);
    (uuid::Uuid::nil(), partitions, replication)
}

/// The created topics' details from this node's image, waiting up to [`IMAGE_WAIT`] for it
/// to apply them; topics it has not applied by then are left out.
async fn created_details(
    node: &Node,
    names: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, Created>> {
    let deadline = tokio::time::Instant::now() + IMAGE_WAIT;
    loop {
        let wanted = names.to_vec();
        let found = node
            .engine
            .call(move |state| {
                let image = state.image();
                wanted
                    .iter()
                    .filter_map(|name| {
                        let topic = image.topic(name)?;
                        let replication = topic
                            .partitions
                            .first()
                            .map_or(-1, |p| p.replicas.len() as i16);
                        Some((
                            name.clone(),
                            (uuid(topic.id), topic.partitions.len() as i32, replication),
                        ))
                    })
                    .collect::<std::collections::BTreeMap<_, _>>()
            })
            .await?;
        if found.len() == names.len() || tokio::time::Instant::now() >= deadline {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
