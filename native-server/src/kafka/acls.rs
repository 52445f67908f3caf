//! DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), KIP-140, as Kafka's `AclApis`:
//! each needs the authorizer on (SECURITY_DISABLED otherwise), DescribeAcls Describe on the
//! cluster, the other two Alter on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise). A
//! filter or an ACL with a code Kafka does not define, or one that cannot be stored, is
//! answered INVALID_REQUEST with Kafka's message. Creations and deletions run at the active
//! controller (forwarded there by any other node, KIP-590) and are in the metadata log.
//!
//! DeleteAcls lists, per filter, the ACLs it selected in this node's image when the request
//! came; the controller deletes what the filter selects in its own image, which a node that
//! is not the active controller may see a moment later.

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::acl::{
    AclBinding, AclBindingFilter, AclOperation, PatternType, PermissionType, ResourceType,
};
use partita_core::controller::ControllerCommand;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

const NO_AUTHORIZER: &str = "No Authorizer is configured on the broker";

/// Why CreateAcls and DeleteAcls are refused whole, if they are: no authorizer, or no Alter
/// on the cluster.
fn alter_refusal(client: &ClientInfo) -> Option<(ErrorCode, &'static str)> {
    if !client.authz.authorizer.enabled() {
        Some((ErrorCode::SECURITY_DISABLED, NO_AUTHORIZER))
    } else if !client.authz.cluster(AclOperation::Alter) {
        Some((
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        ))
    } else {
        None
    }
}

/// A filter as the wire gives it: before v1 the pattern type is LITERAL.
#[allow(clippy::too_many_arguments)]
fn filter(
    version: i16,
    resource_type: i8,
    name: Option<&StrBytes>,
    pattern_type: i8,
    principal: Option<&StrBytes>,
    host: Option<&StrBytes>,
    operation: i8,
    permission: i8,
) -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::from_code(resource_type),
        resource_name: name.map(|n| n.to_string()),
        pattern_type: if version == 0 {
            PatternType::Literal
        } else {
            PatternType::from_code(pattern_type)
        },
        principal: principal.map(|p| p.to_string()),
        host: host.map(|h| h.to_string()),
        operation: AclOperation::from_code(operation),
        permission: PermissionType::from_code(permission),
    }
}

/// The ACLs of this node's image that `filters` select, one list per filter.
async fn selected(
    node: &Node,
    filters: Vec<AclBindingFilter>,
) -> anyhow::Result<Vec<Vec<AclBinding>>> {
    node.engine
        .call(move |state| {
            filters
                .iter()
                .map(|f| {
                    state
                        .image()
                        .acls()
                        .values()
                        .filter(|acl| f.matches(acl))
                        .cloned()
                        .collect()
                })
                .collect()
        })
        .await
}

pub async fn describe(
    request: DescribeAclsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeAclsResponse> {
    let refuse = |code: ErrorCode, message: &str| {
        Ok(DescribeAclsResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message))))
    };
    if !client.authz.authorizer.enabled() {
        return refuse(ErrorCode::SECURITY_DISABLED, NO_AUTHORIZER);
    }
    if !client.authz.cluster(AclOperation::Describe) {
        return refuse(
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        );
    }
    let filter = filter(
        version,
        request.resource_type_filter,
        request.resource_name_filter.as_ref(),
        request.pattern_type_filter,
        request.principal_filter.as_ref(),
        request.host_filter.as_ref(),
        request.operation,
        request.permission_type,
    );
    if let Some(reason) = filter.invalid() {
        return refuse(ErrorCode::INVALID_REQUEST, reason);
    }
    let acls = selected(node, vec![filter])
        .await?
        .pop()
        .unwrap_or_default();
    // One entry per resource pattern, in Kafka's order of (type, name, pattern type).
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    let mut sorted = acls;
    sorted.sort();
    for acl in sorted {
        let same = resources.last().is_some_and(|r| {
            r.resource_type == acl.resource_type as i8
                && r.resource_name.as_str() == acl.resource_name
                && r.pattern_type == acl.pattern_type as i8
        });
        if !same {
            resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(acl.resource_type as i8)
                    .with_resource_name(str_bytes(acl.resource_name.clone()))
                    .with_pattern_type(acl.pattern_type as i8),
            );
        }
        let entry = AclDescription::default()
            .with_principal(str_bytes(acl.principal))
            .with_host(str_bytes(acl.host))
            .with_operation(acl.operation as i8)
            .with_permission_type(acl.permission as i8);
        resources.last_mut().expect("pushed").acls.push(entry);
    }
    Ok(DescribeAclsResponse::default().with_resources(resources))
}

pub async fn create(
    request: CreateAclsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<CreateAclsResponse> {
    let refusal = alter_refusal(client);
    let commands = request
        .creations
        .iter()
        .map(|c| {
            if let Some((code, message)) = refusal {
                return Err((code, message.to_string()));
            }
            let acl = AclBinding {
                resource_type: ResourceType::from_code(c.resource_type),
                resource_name: c.resource_name.to_string(),
                pattern_type: if version == 0 {
                    PatternType::Literal
                } else {
                    PatternType::from_code(c.resource_pattern_type)
                },
                principal: c.principal.to_string(),
                host: c.host.to_string(),
                operation: AclOperation::from_code(c.operation),
                permission: PermissionType::from_code(c.permission_type),
            };
            match acl.invalid() {
                Some(reason) => Err((ErrorCode::INVALID_REQUEST, reason)),
                None => Ok(ControllerCommand::CreateAcl { acl }),
            }
        })
        .collect();
    let outcomes = super::forward::control(node, false, commands).await?;
    let results = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(()) => AclCreationResult::default(),
            Err((code, message)) => AclCreationResult::default()
                .with_error_code(code.code())
                .with_error_message(Some(str_bytes(message))),
        })
        .collect();
    Ok(CreateAclsResponse::default().with_results(results))
}

fn delete_filter(version: i16, f: &DeleteAclsFilter) -> AclBindingFilter {
    filter(
        version,
        f.resource_type_filter,
        f.resource_name_filter.as_ref(),
        f.pattern_type_filter,
        f.principal_filter.as_ref(),
        f.host_filter.as_ref(),
        f.operation,
        f.permission_type,
    )
}

pub async fn delete(
    request: DeleteAclsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DeleteAclsResponse> {
    let refusal = alter_refusal(client);
    let filters: Vec<AclBindingFilter> = request
        .filters
        .iter()
        .map(|f| delete_filter(version, f))
        .collect();
    let matched = selected(node, filters.clone()).await?;
    let commands = filters
        .into_iter()
        .map(|filter| {
            if let Some((code, message)) = refusal {
                return Err((code, message.to_string()));
            }
            match filter.invalid() {
                Some(reason) => Err((ErrorCode::INVALID_REQUEST, reason.to_string())),
                None => Ok(ControllerCommand::DeleteAcls { filter }),
            }
        })
        .collect();
    let outcomes = super::forward::control(node, false, commands).await?;
    let results = outcomes
        .into_iter()
        .zip(matched)
        .map(|(outcome, acls)| match outcome {
            Err((code, message)) => DeleteAclsFilterResult::default()
                .with_error_code(code.code())
                .with_error_message(Some(str_bytes(message))),
            Ok(()) => DeleteAclsFilterResult::default().with_matching_acls(
                acls.into_iter()
                    .map(|acl| {
                        DeleteAclsMatchingAcl::default()
                            .with_resource_type(acl.resource_type as i8)
                            .with_resource_name(str_bytes(acl.resource_name))
                            .with_pattern_type(acl.pattern_type as i8)
                            .with_principal(str_bytes(acl.principal))
                            .with_host(str_bytes(acl.host))
                            .with_operation(acl.operation as i8)
                            .with_permission_type(acl.permission as i8)
                    })
                    .collect(),
            ),
        })
        .collect();
    Ok(DeleteAclsResponse::default().with_filter_results(results))
}
