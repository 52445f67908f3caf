//! Metadata: the live brokers, the controller, and the topics asked for (all when none are
//! named), creating unknown ones when `auto.create.topics.enable` and the client allow it.
//!
//! With ACLs (Kafka's `KafkaApis.handleTopicMetadataRequest`): a listing of all topics leaves
//! out those the caller may not Describe; a named topic it may not Describe is answered
//! TOPIC_AUTHORIZATION_FAILED, and so is an unknown one it would auto-create without Create
//! on the cluster or on the topic. The KIP-430 bit fields are the caller's operations.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse};
use partita_core::ErrorCode;
use partita_core::acl::{AclOperation, CLUSTER_NAME, ResourceType};
use partita_core::node::{BrokerEndpoint, TopicAnswer};

use super::ClientInfo;
use super::convert::{resolve_topic, str_bytes, topic_name, uuid};
use super::node::Node;

/// A topic the request names: asked of the node, refused by the ACLs, or an unknown id.
enum Wanted {
    Asked,
    Refused(String),
    Unknown(ErrorCode),
}

pub async fn handle(
    request: MetadataRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<MetadataResponse> {
    // Before v4 there is no flag, and clients expect Kafka's default (create).
    let client_allows_creation = version < 4 || request.allow_auto_topic_creation;
    let cluster_id = node.cluster_id.clone();
    // KIP-430 (v8+): the caller's operations (every one without an authorizer); the
    // cluster's only up to v10, where the flag exists.
    let include_topic_operations = version >= 8 && request.include_topic_authorized_operations;
    let cluster_operations = ((8..=10).contains(&version)
        && request.include_cluster_authorized_operations)
        .then(|| client.authz.operations(ResourceType::Cluster, CLUSTER_NAME));
    let authz = client.authz.clone();
    let answer = node
        .engine
        .call(move |state| {
            let creates =
                client_allows_creation && state.node.broker_config().auto_create_topics_enable;
            let mut names = Vec::new();
            let wanted: Option<Vec<Wanted>> = request.topics.map(|topics| {
                topics
                    .iter()
                    .map(|t| {
                        let name = t.name.as_ref().map(|n| n.to_string());
                        let by_id = resolve_topic(state.image(), &Default::default(), t.topic_id);
                        let Some(name) = name.or(by_id) else {
                            return Wanted::Unknown(ErrorCode::UNKNOWN_TOPIC_ID);
                        };
                        let exists = state.image().topic(&name).is_some();
                        if !authz.topic(AclOperation::Describe, &name)
                            || (!exists && creates && !authz.create_topic(&name))
                        {
                            return Wanted::Refused(name);
                        }
                        names.push(name);
                        Wanted::Asked
                    })
                    .collect()
            });
            let mut answer = state.node.metadata(
                crate::engine::now(),
                wanted.as_ref().map(|_| names.as_slice()),
                client_allows_creation,
            );
            if wanted.is_none() {
                answer
                    .topics
                    .retain(|t| authz.topic(AclOperation::Describe, &t.name));
            }
            (wanted, answer)
        })
        .await?;
    let (wanted, answer) = answer;
    // Topics asked by an id nobody knows, or refused, keep their place in the answer.
    let mut found = answer.topics.into_iter();
    let mut topics: Vec<MetadataResponseTopic> = match wanted {
        None => found.map(|t| describe_topic(t, version)).collect(),
        Some(wanted) => wanted
            .into_iter()
            .filter_map(|w| match w {
                Wanted::Unknown(code) => {
                    Some(MetadataResponseTopic::default().with_error_code(code.code()))
                }
                Wanted::Refused(name) => Some(
                    MetadataResponseTopic::default()
                        .with_error_code(ErrorCode::TOPIC_AUTHORIZATION_FAILED.code())
                        .with_name(Some(topic_name(&name))),
                ),
                Wanted::Asked => found.next().map(|t| describe_topic(t, version)),
            })
            .collect(),
    };
    if include_topic_operations {
        for topic in topics.iter_mut().filter(|t| t.error_code == 0) {
            let name = topic
                .name
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default();
            topic.topic_authorized_operations = client.authz.operations(ResourceType::Topic, &name);
        }
    }
    let mut response = MetadataResponse::default()
        .with_brokers(live_brokers(&answer.brokers))
        .with_cluster_id((version >= 2).then(|| str_bytes(cluster_id)))
        .with_controller_id(BrokerId(if version >= 1 {
            answer.controller_id
        } else {
            -1
        }))
        .with_topics(topics);
    if let Some(operations) = cluster_operations {
        response.cluster_authorized_operations = operations;
    }
    Ok(response)
}

fn live_brokers(brokers: &[BrokerEndpoint]) -> Vec<MetadataResponseBroker> {
    brokers
        .iter()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.node_id))
                .with_host(str_bytes(b.host.clone()))
                .with_port(i32::from(b.port))
        })
        .collect()
}

fn describe_topic(topic: TopicAnswer, version: i16) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let ids = |ids: &[i32]| ids.iter().map(|&id| BrokerId(id)).collect::<Vec<_>>();
            MetadataResponsePartition::default()
                .with_error_code(p.error.code())
                .with_partition_index(index as i32)
                .with_leader_id(BrokerId(p.leader))
                .with_leader_epoch(if version >= 7 { p.leader_epoch } else { -1 })
                .with_replica_nodes(ids(&p.replicas))
                .with_isr_nodes(ids(&p.isr))
                .with_offline_replicas(if version >= 5 {
                    ids(&p.offline_replicas)
                } else {
                    Vec::new()
                })
        })
        .collect();
    MetadataResponseTopic::default()
        .with_error_code(topic.error.code())
        .with_name(Some(topic_name(&topic.name)))
        .with_topic_id(match (version >= 10, topic.id) {
            (true, Some(id)) => uuid(id),
            _ => uuid::Uuid::nil(),
        })
        .with_is_internal(version >= 1 && partita_core::controller::is_internal_topic(&topic.name))
        .with_partitions(partitions)
}
