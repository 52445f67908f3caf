//! DescribeConfigs: a topic's configs (its own and the broker defaults it inherits), or the
//! broker's.

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use partita_core::ErrorCode;
use partita_core::config::{ConfigEntry, describe_broker};

use super::convert::str_bytes;
use super::node::Node;

pub const TOPIC_RESOURCE: i8 = 2;
pub const BROKER_RESOURCE: i8 = 4;

pub async fn handle(
    request: DescribeConfigsRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<DescribeConfigsResponse> {
    let node_id = node.node_id;
    node.engine
        .call(move |state| {
            let results = request
                .resources
                .into_iter()
                .map(|resource| {
                    let name = resource.resource_name.to_string();
                    let entries: Result<Vec<ConfigEntry>, (ErrorCode, String)> = match resource
                        .resource_type
                    {
                        TOPIC_RESOURCE => state.controller().describe_topic_configs(&name).ok_or((
                            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                            format!("topic {name} does not exist"),
                        )),
                        BROKER_RESOURCE if name == node_id.to_string() || name.is_empty() => {
                            Ok(describe_broker(state.broker_config()))
                        }
                        BROKER_RESOURCE => Err((
                            ErrorCode::INVALID_REQUEST,
                            format!("this is broker {node_id}, not {name}"),
                        )),
                        other => Err((
                            ErrorCode::INVALID_REQUEST,
                            format!("resource type {other} is not supported"),
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
                                .map(|e| {
                                    let config = DescribeConfigsResourceResult::default()
                                        .with_name(str_bytes(e.name))
                                        .with_value(Some(str_bytes(e.value)))
                                        .with_read_only(e.read_only)
                                        .with_config_source(e.source.code());
                                    if version >= 3 {
                                        config.with_config_type(e.config_type.code())
                                    } else {
                                        config
                                    }
                                })
                                .collect(),
                        ),
                    }
                })
                .collect();
            DescribeConfigsResponse::default().with_results(results)
        })
        .await
}
