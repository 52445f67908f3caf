//! IncrementalAlterConfigs: set or delete topic configs (SET = 0, DELETE = 1). The list
//! operations APPEND and SUBTRACT apply to list-valued configs, which Partita's topics do not
//! have, so they are refused.

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use partita_core::ErrorCode;

use super::convert::str_bytes;
use super::describe_configs::TOPIC_RESOURCE;
use super::node::Node;
use crate::engine::Refusal;

const SET: i8 = 0;
const DELETE: i8 = 1;

pub async fn handle(
    request: IncrementalAlterConfigsRequest,
    node: &Node,
) -> anyhow::Result<IncrementalAlterConfigsResponse> {
    let validate_only = request.validate_only;
    node.engine
        .call(move |state| {
            let responses = request
                .resources
                .into_iter()
                .map(|resource| {
                    let name = resource.resource_name.to_string();
                    let changes: Result<Vec<(String, Option<String>)>, Refusal> = resource
                        .configs
                        .iter()
                        .map(|c| match c.config_operation {
                            SET => Ok((
                                c.name.to_string(),
                                Some(c.value.as_deref().unwrap_or_default().to_string()),
                            )),
                            DELETE => Ok((c.name.to_string(), None)),
                            op => Err((
                                ErrorCode::INVALID_CONFIG,
                                format!("operation {op} on {} is not supported", c.name.as_str()),
                            )),
                        })
                        .collect();
                    let outcome = match (resource.resource_type, changes) {
                        (TOPIC_RESOURCE, Ok(changes)) => state.control(validate_only, |c| {
                            c.alter_topic_configs(&name, &changes)
                                .map_err(|e| (e.code(), e.to_string()))
                        }),
                        (TOPIC_RESOURCE, Err(refusal)) => Err(refusal),
                        (other, _) => Err((
                            ErrorCode::INVALID_REQUEST,
                            format!("resource type {other} cannot be altered"),
                        )),
                    };
                    let response = AlterConfigsResourceResponse::default()
                        .with_resource_type(resource.resource_type)
                        .with_resource_name(resource.resource_name);
                    match outcome {
                        Ok(()) => response,
                        Err((code, message)) => response
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message))),
                    }
                })
                .collect();
            IncrementalAlterConfigsResponse::default().with_responses(responses)
        })
        .await
}
