//! LeaveGroup: one member (v0-2) or several (v3+) leave; the others rebalance.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};
use partita_core::group::MemberIdentity;

use super::convert::str_bytes;
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: LeaveGroupRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<LeaveGroupResponse> {
    let members: Vec<MemberIdentity> = if version >= 3 {
        request
            .members
            .iter()
            .map(|m| MemberIdentity {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|id| id.to_string()),
            })
            .collect()
    } else {
        vec![MemberIdentity {
            member_id: request.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    let leave = Request::LeaveGroup {
        group_id: request.group_id.to_string(),
        members: members.clone(),
    };
    let Response::LeaveGroup(results) = node.engine.request(leave).await? else {
        anyhow::bail!("the node answered LeaveGroup with another response");
    };
    if version < 3 {
        let code = results
            .into_iter()
            .next()
            .and_then(Result::err)
            .map_or(0, |e| e.code().code());
        return Ok(LeaveGroupResponse::default().with_error_code(code));
    }
    let responses = members
        .into_iter()
        .zip(results)
        .map(|(m, result)| {
            MemberResponse::default()
                .with_member_id(str_bytes(m.member_id))
                .with_group_instance_id(m.group_instance_id.map(str_bytes))
                .with_error_code(result.err().map_or(0, |e| e.code().code()))
        })
        .collect();
    Ok(LeaveGroupResponse::default().with_members(responses))
}
