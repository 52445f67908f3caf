//! DescribeGroups: state, protocol and members (with their metadata and assignment); a group
//! this node does not serve now is answered NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS
//! while it loads the group's offsets partition ([`partita_core::node::Node::group_error`]).
//! With ACLs, each group needs Describe (else GROUP_AUTHORIZATION_FAILED); the KIP-430 bit
//! field is the caller's operations on the group.

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};

use partita_core::ErrorCode;
use partita_core::acl::{AclOperation, ResourceType};

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: DescribeGroupsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeGroupsResponse> {
    // KIP-430 (v3+): the caller's operations (every one without an authorizer).
    let include_operations = version >= 3 && request.include_authorized_operations;
    let ids: Vec<String> = request.groups.iter().map(|g| g.to_string()).collect();
    let authz = client.authz.clone();
    let described = node
        .engine
        .call(move |state| {
            ids.iter()
                .map(|id| {
                    if !authz.group(AclOperation::Describe, id) {
                        return Err((id.clone(), ErrorCode::GROUP_AUTHORIZATION_FAILED));
                    }
                    match state.node.group_error(id) {
                        Some(code) => Err((id.clone(), code)),
                        None => Ok(state.coordinator().describe_group(id)),
                    }
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let groups = described
        .into_iter()
        .map(|described| {
            let g = match described {
                Ok(g) => g,
                Err((id, code)) => {
                    return DescribedGroup::default()
                        .with_group_id(GroupId(str_bytes(id)))
                        .with_error_code(code.code())
                        .with_authorized_operations(i32::MIN);
                }
            };
            let members = g
                .members
                .into_iter()
                .map(|m| {
                    let member = DescribedGroupMember::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_client_id(str_bytes(m.client_id))
                        .with_client_host(str_bytes(m.client_host))
                        .with_member_metadata(m.metadata.into())
                        .with_member_assignment(m.assignment.into());
                    if version >= 4 {
                        member.with_group_instance_id(m.group_instance_id.map(str_bytes))
                    } else {
                        member
                    }
                })
                .collect();
            let operations = include_operations
                .then(|| client.authz.operations(ResourceType::Group, &g.group_id));
            DescribedGroup::default()
                .with_group_id(GroupId(str_bytes(g.group_id)))
                .with_group_state(str_bytes(g.state.name()))
                .with_protocol_type(str_bytes(g.protocol_type))
                .with_protocol_data(str_bytes(g.protocol_name))
                .with_members(members)
                .with_authorized_operations(operations.unwrap_or(i32::MIN))
        })
        .collect();
    Ok(DescribeGroupsResponse::default().with_groups(groups))
}
