//! Heartbeat: keeps a member's session alive, and tells it when the group rebalances.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};
use partita_core::group;

use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(request: HeartbeatRequest, node: &Node) -> anyhow::Result<HeartbeatResponse> {
    let heartbeat = group::HeartbeatRequest {
        group_id: request.group_id.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|id| id.to_string()),
    };
    let Response::Heartbeat(result) = node.engine.request(Request::Heartbeat(heartbeat)).await?
    else {
        anyhow::bail!("the node answered Heartbeat with another response");
    };
    let code = result.err().map_or(0, |e| e.code().code());
    Ok(HeartbeatResponse::default().with_error_code(code))
}
