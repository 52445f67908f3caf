//! AlterConfigs (API key 33, v0-2), the legacy API that librdkafka's `alter_configs` and older
//! tools use: the configs sent replace all of a resource's configs, so every topic override
//! (or dynamic broker config) not named is removed, as in Kafka. Same resources and checks as
//! IncrementalAlterConfigs.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use super::convert::str_bytes;
use super::incremental_alter_configs::{Target, check_keys, each_once, repeated_resources};
use super::node::Node;

pub async fn handle(
    request: AlterConfigsRequest,
    node: &Node,
) -> anyhow::Result<AlterConfigsResponse> {
    let node_id = node.node_id;
    let validate_only = request.validate_only;
    let repeated = repeated_resources(
        request
            .resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    node.engine
        .call(move |state| {
            let responses = request
                .resources
                .into_iter()
                .map(|resource| {
                    let kind = resource.resource_type;
                    let name = resource.resource_name.to_string();
                    let keys = resource
                        .configs
                        .iter()
                        .map(|c| (c.name.as_str(), c.value.is_some()));
                    let outcome = if repeated.contains(&(kind, name.clone())) {
                        Err(each_once())
                    } else {
                        check_keys(keys).and_then(|()| {
                            let target =
                                Target::of(kind, &name, node_id, state.controller().is_some())?;
                            let configs: BTreeMap<String, String> = resource
                                .configs
                                .iter()
                                .map(|c| {
                                    (
                                        c.name.to_string(),
                                        c.value.as_deref().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect();
                            state.control(validate_only, |c| {
                                match target {
                                    Target::Topic => c.legacy_alter_topic_configs(&name, &configs),
                                    Target::Broker => {
                                        c.legacy_alter_broker_configs(&name, &configs)
                                    }
                                }
                                .map_err(|e| (e.code(), e.to_string()))
                            })
                        })
                    };
                    let response = AlterConfigsResourceResponse::default()
                        .with_resource_type(kind)
                        .with_resource_name(resource.resource_name);
                    match outcome {
                        Ok(()) => response,
                        Err((code, message)) => response
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message))),
                    }
                })
                .collect();
            AlterConfigsResponse::default().with_responses(responses)
        })
        .await
}
