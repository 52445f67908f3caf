//! DescribeConfigs: a topic's configs (its own and the broker defaults it inherits), this
//! broker's, or the cluster-wide dynamic default's (broker `""`), with their sources, and on
//! request their synonyms in order of precedence (v1+) and Kafka's documentation (v3+), as
//! Kafka's `ConfigHelper` answers. With ACLs, DescribeConfigs on the topic (else
//! TOPIC_AUTHORIZATION_FAILED) or on the cluster for a broker resource (else
//! CLUSTER_AUTHORIZATION_FAILED), as Kafka's `AuthHelper` for configs.

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use partita_core::ErrorCode;
use partita_core::config::ConfigEntry;
use partita_core::controller::BrokerId;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;
use crate::engine::Refusal;

pub const TOPIC_RESOURCE: i8 = 2;
pub const BROKER_RESOURCE: i8 = 4;

pub async fn handle(
    request: DescribeConfigsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeConfigsResponse> {
    let authz = client.authz.clone();
    let node_id = node.node_id;
    let synonyms = request.include_synonyms;
    let documentation = request.include_documentation && version >= 3;
    node.engine
        .call(move |state| {
            let results = request
                .resources
                .into_iter()
                .map(|resource| {
                    let name = resource.resource_name.to_string();
                    let denied = match resource.resource_type {
                        TOPIC_RESOURCE => (!authz.topic(AclOperation::DescribeConfigs, &name))
                            .then_some(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
                        BROKER_RESOURCE => (!authz.cluster(AclOperation::DescribeConfigs))
                            .then_some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED),
                        _ => None,
                    };
                    let entries = match resource.resource_type {
                        _ if denied.is_some() => Err((
                            denied.expect("checked"),
                            "Authorization failed.".to_string(),
                        )),
                        // Every node answers from its own metadata, as Kafka's brokers do
                        // from their metadata cache: not a controller request.
                        TOPIC_RESOURCE => state.node.describe_topic_configs(&name).ok_or((
                            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                            format!("topic {name} does not exist"),
                        )),
                        BROKER_RESOURCE => check_broker(&name, node_id, false)
                            .map(|()| state.node.describe_broker_configs(&name)),
                        other => Err((
                            ErrorCode::INVALID_REQUEST,
                            format!("Unsupported resource type: {other}"),
                        )),
                    };
                    // No list, or an empty one, asks for every config.
                    let keys: Option<Vec<String>> = resource
                        .configuration_keys
                        .filter(|keys| !keys.is_empty())
                        .map(|keys| keys.iter().map(|k| k.to_string()).collect());
                    let result = DescribeConfigsResult::default()
                        .with_resource_type(resource.resource_type)
                        .with_resource_name(resource.resource_name);
                    match entries {
                        Err((code, message)) => result
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message))),
                        Ok(entries) => result.with_configs(
                            entries
                                .into_iter()
                                .filter(|e| {
                                    keys.as_ref()
                                        .is_none_or(|keys| keys.iter().any(|k| k == e.name))
                                })
                                .map(|e| to_wire(e, version, synonyms, documentation))
                                .collect(),
                        ),
                    }
                })
                .collect();
            DescribeConfigsResponse::default().with_results(results)
        })
        .await
}

/// A broker resource names this broker or (empty) the cluster default, with Kafka's messages:
/// DescribeConfigs' (`ConfigHelper`) or, with `altering`, the alter APIs'
/// (`ConfigAdminManager`).
pub fn check_broker(name: &str, node_id: BrokerId, altering: bool) -> Result<(), Refusal> {
    if name.is_empty() {
        return Ok(());
    }
    let message = match name.parse::<BrokerId>() {
        Ok(id) if id == node_id => return Ok(()),
        Ok(_) if altering => {
            format!("Unexpected broker id, expected {node_id}, but received {name}")
        }
        Ok(_) => {
            format!("Unexpected broker id, expected {node_id} or empty string, but received {name}")
        }
        Err(_) if altering => format!("Node id must be an integer, but it is: {name}"),
        Err(_) => format!("Broker id must be an integer, but it is: {name}"),
    };
    Err((ErrorCode::INVALID_REQUEST, message))
}

/// One entry, with only the fields `version` has.
fn to_wire(
    entry: ConfigEntry,
    version: i16,
    include_synonyms: bool,
    include_documentation: bool,
) -> DescribeConfigsResourceResult {
    let synonyms = if include_synonyms {
        entry
            .synonyms
            .into_iter()
            .map(|s| {
                DescribeConfigsSynonym::default()
                    .with_name(str_bytes(s.name))
                    .with_value(s.value.map(str_bytes))
                    .with_source(s.source.code())
            })
            .collect()
    } else {
        Vec::new()
    };
    let config = DescribeConfigsResourceResult::default()
        .with_name(str_bytes(entry.name))
        .with_value(entry.value.map(str_bytes))
        .with_read_only(entry.read_only)
        .with_is_sensitive(entry.is_sensitive)
        .with_config_source(entry.source.code())
        .with_synonyms(synonyms);
    if version >= 3 {
        config
            .with_config_type(entry.config_type.code())
            .with_documentation(include_documentation.then(|| str_bytes(entry.documentation)))
    } else {
        config
    }
}
