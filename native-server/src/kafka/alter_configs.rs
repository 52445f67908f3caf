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
use super::incremental_alter_configs::{Target, alter_each, check_keys, refusal_fields};
use super::node::Node;

pub async fn handle(
    request: AlterConfigsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<AlterConfigsResponse> {
    let resources = request
        .resources
        .into_iter()
        .map(|r| (r.resource_type, r.resource_name.to_string(), r.configs))
        .collect();
    let outcomes = alter_each(
        node,
        client,
        request.validate_only,
        resources,
        |target, name, asked| {
            check_keys(asked.iter().map(|c| (c.name.as_str(), c.value.is_some())))?;
            // Every config named replaces the resource's whole set.
            let configs: BTreeMap<String, String> = asked
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.value.as_deref().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            Ok(match target {
                Target::Topic => ControllerCommand::LegacyAlterTopicConfigs {
                    topic: name,
                    configs,
                },
                Target::Broker => ControllerCommand::LegacyAlterBrokerConfigs {
                    resource: name,
                    configs,
                },
            })
        },
    )
    .await?;
    let responses = outcomes
        .into_iter()
        .map(|(kind, name, outcome)| {
            let (code, message) = refusal_fields(outcome);
            AlterConfigsResourceResponse::default()
                .with_resource_type(kind)
                .with_resource_name(str_bytes(name))
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    Ok(AlterConfigsResponse::default().with_responses(responses))
}
