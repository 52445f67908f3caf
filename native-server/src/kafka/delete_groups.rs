//! DeleteGroups: removes empty groups and their committed offsets. With ACLs, each group
//! needs Delete (else GROUP_AUTHORIZATION_FAILED, and it stays).

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::node::Node;

pub async fn handle(
    request: DeleteGroupsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DeleteGroupsResponse> {
    let allowed: Vec<bool> = request
        .groups_names
        .iter()
        .map(|g| client.authz.group(AclOperation::Delete, g))
        .collect();
    let ids: Vec<String> = request
        .groups_names
        .iter()
        .zip(&allowed)
        .filter(|(_, allowed)| **allowed)
        .map(|(g, _)| g.to_string())
        .collect();
    let mut results = node
        .engine
        .call(move |state| state.node.delete_groups(crate::engine::now(), &ids))
        .await?
        .into_iter();
    let results = request
        .groups_names
        .into_iter()
        .zip(allowed)
        .map(|(group_id, allowed)| {
            let code = if !allowed {
                ErrorCode::GROUP_AUTHORIZATION_FAILED.code()
            } else {
                results
                    .next()
                    .and_then(|r| r.err())
                    .map_or(0, |e| e.code().code())
            };
            DeletableGroupResult::default()
                .with_group_id(group_id)
                .with_error_code(code)
        })
        .collect();
    Ok(DeleteGroupsResponse::default().with_results(results))
}
