//! IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on a topic's
//! configs, on a broker's dynamic configs (resource name = its id: any broker's at the
//! active controller, only its own elsewhere; see [`Target::of`]), or on the cluster-wide
//! dynamic default (resource name `""`); with `validate_only`, checked and not kept. A node
//! that is not the active controller forwards each resource to it (`forward.rs`, KIP-590). The
//! checks before the controller are Kafka's `ConfigAdminManager.preprocess`; the rest is the
//! core controller's (`incremental_alter_*_configs`). ACLs: [`authorize_alter`].

use std::collections::{HashMap, HashSet};

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use partita_core::ErrorCode;
use partita_core::controller::{AlterConfigOp, BrokerId, ControllerCommand};

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::authz::Authz;
use super::convert::str_bytes;
use super::describe_configs::{BROKER_RESOURCE, TOPIC_RESOURCE, check_broker};
use super::node::Node;
use crate::engine::Refusal;

pub async fn handle(
    request: IncrementalAlterConfigsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<IncrementalAlterConfigsResponse> {
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
        |target, name, configs| {
            let ops = ops(&configs)?;
            Ok(match target {
                Target::Topic => {
                    ControllerCommand::IncrementalAlterTopicConfigs { topic: name, ops }
                }
                Target::Broker => ControllerCommand::IncrementalAlterBrokerConfigs {
                    resource: name,
                    ops,
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
    Ok(IncrementalAlterConfigsResponse::default().with_responses(responses))
}

/// The path both AlterConfigs APIs share. For each resource (type, name, and what the request
/// asks of it, in request order): refused if named twice, authorized ([`authorize_alter`]),
/// its target checked where the request landed ([`Target::of`]), turned into a controller
/// command by `command`, then run at the active controller (forwarded there, KIP-590). Returns
/// each resource's outcome, in request order.
pub(super) async fn alter_each<T: Send + 'static>(
    node: &Node,
    client: &ClientInfo,
    validate_only: bool,
    resources: Vec<(i8, String, T)>,
    command: fn(Target, String, T) -> Result<ControllerCommand, Refusal>,
) -> anyhow::Result<Vec<(i8, String, Result<(), Refusal>)>> {
    let node_id = node.node_id;
    let authz = client.authz.clone();
    let repeated = repeated_resources(
        resources
            .iter()
            .map(|(kind, name, _)| (*kind, name.as_str())),
    );
    let names: Vec<(i8, String)> = resources
        .iter()
        .map(|(kind, name, _)| (*kind, name.clone()))
        .collect();
    // The receiving broker's checks (which broker ids it takes depends on whether it is the
    // active controller), then each resource runs at the active controller.
    let commands = node
        .engine
        .call(move |state| {
            let active_controller = state.controller().is_some();
            resources
                .into_iter()
                .map(|(kind, name, asked)| {
                    if repeated.contains(&(kind, name.clone())) {
                        return Err(each_once());
                    }
                    authorize_alter(&authz, kind, &name)?;
                    let target = Target::of(kind, &name, node_id, active_controller)?;
                    command(target, name, asked)
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let outcomes = super::forward::control(node, validate_only, commands).await?;
    Ok(names
        .into_iter()
        .zip(outcomes)
        .map(|((kind, name), outcome)| (kind, name, outcome))
        .collect())
}

/// A resource's outcome as the response's `error_code` and `error_message` (none on success).
pub(super) fn refusal_fields(
    outcome: Result<(), Refusal>,
) -> (i16, Option<kafka_protocol::protocol::StrBytes>) {
    match outcome {
        Ok(()) => (ErrorCode::NONE.code(), None),
        Err((code, message)) => (code.code(), Some(str_bytes(message))),
    }
}

/// With ACLs, AlterConfigs on the topic (TOPIC_AUTHORIZATION_FAILED) or on the cluster for a
/// broker resource (CLUSTER_AUTHORIZATION_FAILED), as Kafka's `AuthHelper` for configs.
pub(super) fn authorize_alter(authz: &Authz, kind: i8, name: &str) -> Result<(), Refusal> {
    let denied = match kind {
        TOPIC_RESOURCE if !authz.topic(AclOperation::AlterConfigs, name) => {
            ErrorCode::TOPIC_AUTHORIZATION_FAILED
        }
        BROKER_RESOURCE if !authz.cluster(AclOperation::AlterConfigs) => {
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED
        }
        _ => return Ok(()),
    };
    Err((denied, "Authorization failed.".to_string()))
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
    /// A broker (its id) or the cluster default (`""`).
    Broker,
}

impl Target {
    /// The resource's target, checked as Kafka checks it where the request lands: the active
    /// controller takes any broker (Kafka's `ControllerConfigurationValidator`, which answers
    /// requests forwarded for any broker and those sent to the controller itself), another
    /// node only its own id or the default (Kafka's `ConfigAdminManager.preprocess`, run by
    /// the broker that receives the request, which then forwards it to the controller,
    /// KIP-590).
    pub(super) fn of(
        kind: i8,
        name: &str,
        node_id: BrokerId,
        active_controller: bool,
    ) -> Result<Target, Refusal> {
        match kind {
            TOPIC_RESOURCE => Ok(Target::Topic),
            BROKER_RESOURCE if active_controller => {
                check_broker_at_controller(name).map(|()| Target::Broker)
            }
            BROKER_RESOURCE => check_broker(name, node_id, true).map(|()| Target::Broker),
            other => Err((
                ErrorCode::INVALID_REQUEST,
                format!("Unknown resource type {other}"),
            )),
        }
    }
}

/// A broker resource's name as Kafka's controller checks it: empty (the cluster default) or
/// a non-negative base-10 broker id.
fn check_broker_at_controller(name: &str) -> Result<(), Refusal> {
    if name.is_empty() {
        return Ok(());
    }
    match name.parse::<i32>() {
        Ok(id) if id >= 0 => Ok(()),
        Ok(_) => Err((
            ErrorCode::INVALID_REQUEST,
            "Invalid negative broker ID.".to_string(),
        )),
        Err(_) => Err((
            ErrorCode::INVALID_REQUEST,
            "Unable to parse broker name as a base 10 number.".to_string(),
        )),
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

#[cfg(test)]
mod tests {
    use super::{BROKER_RESOURCE, Target, check_broker_at_controller};

    #[test]
    fn the_controller_takes_any_broker_and_a_broker_only_itself() {
        assert!(Target::of(BROKER_RESOURCE, "3", 1, true).is_ok());
        assert!(Target::of(BROKER_RESOURCE, "", 1, true).is_ok());
        let refused = |name, controller| Target::of(BROKER_RESOURCE, name, 1, controller).err();
        assert_eq!(
            refused("3", false).map(|(_, m)| m).as_deref(),
            Some("Unexpected broker id, expected 1, but received 3")
        );
        assert!(refused("1", false).is_none() && refused("", false).is_none());
        assert_eq!(
            check_broker_at_controller("-1").unwrap_err().1,
            "Invalid negative broker ID."
        );
        assert_eq!(
            check_broker_at_controller("two").unwrap_err().1,
            "Unable to parse broker name as a base 10 number."
        );
    }
}
