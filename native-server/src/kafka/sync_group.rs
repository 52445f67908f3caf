//! SyncGroup: the leader hands in the assignment; every member gets its share when it is there.

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use partita_core::group;

use super::convert::str_bytes;
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: SyncGroupRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<SyncGroupResponse> {
    let sync = group::SyncGroupRequest {
        group_id: request.group_id.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|id| id.to_string()),
        protocol_type: request.protocol_type.map(|p| p.to_string()),
        protocol_name: request.protocol_name.map(|p| p.to_string()),
        assignments: request
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment.to_vec()))
            .collect(),
    };
    let Response::SyncGroup(result) = node.engine.request(Request::SyncGroup(sync)).await? else {
        anyhow::bail!("the node answered SyncGroup with another response");
    };
    Ok(match result {
        Ok(synced) => {
            let response = SyncGroupResponse::default().with_assignment(synced.assignment.into());
            if version >= 5 {
                response
                    .with_protocol_type(Some(str_bytes(synced.protocol_type)))
                    .with_protocol_name(Some(str_bytes(synced.protocol_name)))
            } else {
                response
            }
        }
        Err(error) => SyncGroupResponse::default().with_error_code(error.code().code()),
    })
}
