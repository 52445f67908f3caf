//! DeleteGroups: removes empty groups and their committed offsets.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use super::node::Node;

pub async fn handle(
    request: DeleteGroupsRequest,
    node: &Node,
) -> anyhow::Result<DeleteGroupsResponse> {
    let ids: Vec<String> = request.groups_names.iter().map(|g| g.to_string()).collect();
    let results = node
        .engine
        .call(move |state| state.node.delete_groups(crate::engine::now(), &ids))
        .await?;
    let results = request
        .groups_names
        .into_iter()
        .zip(results)
        .map(|(group_id, result)| {
            DeletableGroupResult::default()
                .with_group_id(group_id)
                .with_error_code(result.err().map_or(0, |e| e.code().code()))
        })
        .collect();
    Ok(DeleteGroupsResponse::default().with_results(results))
}
