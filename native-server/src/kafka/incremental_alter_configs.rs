//! IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on a topic's
//! configs, on this broker's dynamic configs (resource name = its id), or on the cluster-wide
//! dynamic default (resource name `""`); with `validate_only`, checked and not kept. The
//! checks before the controller are Kafka's `ConfigAdminManager.preprocess`; the rest is the
//! core controller's (`incremental_alter_*_configs`).

use std::collections::{HashMap, HashSet};

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use partita_core::ErrorCode;
use partita_core::controller::{AlterConfigOp, BrokerId};

use super::convert::str_bytes;
use super::describe_configs::{BROKER_RESOURCE, TOPIC_RESOURCE, check_broker};
use super::node::Node;
use crate::engine::Refusal;

pub async fn handle(
    request: IncrementalAlterConfigsRequest,
    node: &Node,
) -> anyhow::Result<IncrementalAlterConfigsResponse> {
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
                    let outcome = if repeated.contains(&(kind, name.clone())) {
                        Err(each_once())
                    } else {
                        ops(&resource.configs).and_then(|ops| {
                            let target = Target::of(kind, &name, node_id)?;
                            state.control(validate_only, |c| {
                                match &target {
                                    Target::Topic => c.incremental_alter_topic_configs(&name, &ops),
                                    Target::Broker => {
                                        c.incremental_alter_broker_configs(&name, &ops)
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
            IncrementalAlterConfigsResponse::default().with_responses(responses)
        })
        .await
}

/// The request's operations, refused as Kafka does: a key named twice, a value missing for
/// anything but DELETE, an unknown operation.
fn ops(
    configs: &[kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig],
) -> Result<Vec<(String, AlterConfigOp)>, Refusal> {
    check_keys(configs.iter().map(|c| {
        (
            c.name.as_str(),
            c.config_operation == 1 || c.value.is_some(),
        )
    }))?;
    configs
        .iter()
        .map(|c| {
            let op = AlterConfigOp::from_code(c.config_operation, c.value.as_deref()).ok_or_else(
                || {
                    (
                        ErrorCode::INVALID_REQUEST,
                        format!("Unknown operations type {}", c.config_operation),
                    )
                },
            )?;
            Ok((c.name.to_string(), op))
        })
        .collect()
}

/// What a resource names.
pub(super) enum Target {
    Topic,
    /// This broker (its id) or the cluster default (`""`).
    Broker,
}

impl Target {
    pub(super) fn of(kind: i8, name: &str, node_id: BrokerId) -> Result<Target, Refusal> {
        match kind {
            TOPIC_RESOURCE => Ok(Target::Topic),
            BROKER_RESOURCE => check_broker(name, node_id, true).map(|()| Target::Broker),
            other => Err((
                ErrorCode::INVALID_REQUEST,
                format!("Unknown resource type {other}"),
            )),
        }
    }
}

/// Resources (type and name) named more than once in a request: Kafka refuses each of them.
pub(super) fn repeated_resources<'a>(
    resources: impl Iterator<Item = (i8, &'a str)>,
) -> HashSet<(i8, String)> {
    let mut seen = HashMap::new();
    for (kind, name) in resources {
        *seen.entry((kind, name.to_string())).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(key, _)| key)
        .collect()
}

pub(super) fn each_once() -> Refusal {
    (
        ErrorCode::INVALID_REQUEST,
        "Each resource must appear at most once.".to_string(),
    )
}

/// Kafka's checks of a resource's keys: each at most once, and a value wherever one is needed
/// (`(name, has a value or needs none)`).
pub(super) fn check_keys<'a>(
    keys: impl Iterator<Item = (&'a str, bool)> + Clone,
) -> Result<(), Refusal> {
    let mut names = HashSet::new();
    if !keys.clone().all(|(name, _)| names.insert(name)) {
        return Err((
            ErrorCode::INVALID_REQUEST,
            "Error due to duplicate config keys".to_string(),
        ));
    }
    let missing: Vec<&str> = keys.filter(|(_, ok)| !ok).map(|(name, _)| name).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err((
            ErrorCode::INVALID_REQUEST,
            format!("Null value not supported for : {}", missing.join(", ")),
        ))
    }
}
