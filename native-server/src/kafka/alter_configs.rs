//! AlterConfigs (API key 33, v0-2), the legacy API that librdkafka's `alter_configs` and older
//! tools use: the configs sent replace all of a resource's configs, so every topic override
//! (or dynamic broker config) not named is removed, as in Kafka. Same resources and checks as
//! IncrementalAlterConfigs, forwarded to the active controller the same way (KIP-590), and the
//! same ACLs (AlterConfigs on the topic or the cluster).

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use partita_core::controller::ControllerCommand;

use super::ClientInfo;
use super::convert::str_bytes;
use super::incremental_alter_configs::{
    Target, authorize_alter, check_keys, each_once, repeated_resources,
};
use super::node::Node;

pub async fn handle(
    request: AlterConfigsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<AlterConfigsResponse> {
    let node_id = node.node_id;
    let authz = client.authz.clone();
    let validate_only = request.validate_only;
    let repeated = repeated_resources(
        request
            .resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    let resources: Vec<(i8, String)> = request
        .resources
        .iter()
        .map(|r| (r.resource_type, r.resource_name.to_string()))
        .collect();
    let commands = node
        .engine
        .call(move |state| {
            let active_controller = state.controller().is_some();
            request
                .resources
                .iter()
                .map(|resource| {
                    let kind = resource.resource_type;
                    let name = resource.resource_name.to_string();
                    if repeated.contains(&(kind, name.clone())) {
                        return Err(each_once());
                    }
                    authorize_alter(&authz, kind, &name)?;
                    check_keys(
                        resource
                            .configs
                            .iter()
                            .map(|c| (c.name.as_str(), c.value.is_some())),
                    )?;
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
                    Ok(match Target::of(kind, &name, node_id, active_controller)? {
                        Target::Topic => ControllerCommand::LegacyAlterTopicConfigs {
                            topic: name,
                            configs,
                        },
                        Target::Broker => ControllerCommand::LegacyAlterBrokerConfigs {
                            resource: name,
                            configs,
                        },
                    })
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let outcomes = super::forward::control(node, validate_only, commands).await?;
    let responses = resources
        .into_iter()
        .zip(outcomes)
        .map(|((kind, name), outcome)| {
            let response = AlterConfigsResourceResponse::default()
                .with_resource_type(kind)
                .with_resource_name(str_bytes(name));
            match outcome {
                Ok(()) => response,
                Err((code, message)) => response
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message))),
            }
        })
        .collect();
    Ok(AlterConfigsResponse::default().with_responses(responses))
}
