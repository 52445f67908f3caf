//! JoinGroup: a member (re)joins; the answer waits until the group's rebalance completes.

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use partita_core::Millis;
use partita_core::group::{self, Protocol};

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: JoinGroupRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<JoinGroupResponse> {
    let millis = |ms: i32| Millis(u64::try_from(ms).unwrap_or(0));
    let session_timeout = millis(request.session_timeout_ms);
    let join = group::JoinGroupRequest {
        group_id: request.group_id.to_string(),
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|id| id.to_string()),
        client_id: client.client_id.clone(),
        client_host: client.host.clone(),
        session_timeout,
        // v0 has no rebalance timeout: the session timeout serves.
        rebalance_timeout: if version >= 1 {
            millis(request.rebalance_timeout_ms)
        } else {
            session_timeout
        },
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .into_iter()
            .map(|p| Protocol {
                name: p.name.to_string(),
                metadata: p.metadata.to_vec(),
            })
            .collect(),
        require_known_member_id: version >= 4,
    };
    let Response::JoinGroup(result) = node.engine.request(Request::JoinGroup(join)).await? else {
        anyhow::bail!("the node answered JoinGroup with another response");
    };
    let response = JoinGroupResponse::default();
    Ok(match result {
        Ok(joined) => {
            let members = joined
                .members
                .into_iter()
                .map(|m| {
                    let member = JoinGroupResponseMember::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_metadata(m.metadata.into());
                    if version >= 5 {
                        member.with_group_instance_id(m.group_instance_id.map(str_bytes))
                    } else {
                        member
                    }
                })
                .collect();
            let response = response
                .with_generation_id(joined.generation_id)
                .with_protocol_name(Some(str_bytes(joined.protocol_name)))
                .with_leader(str_bytes(joined.leader))
                .with_member_id(str_bytes(joined.member_id))
                .with_members(members);
            if version >= 7 {
                response.with_protocol_type(Some(str_bytes(joined.protocol_type)))
            } else {
                response
            }
        }
        Err(error) => response
            .with_error_code(error.code().code())
            .with_generation_id(-1)
            .with_protocol_name(if version >= 7 {
                None
            } else {
                Some(str_bytes(""))
            })
            .with_member_id(str_bytes(error.member_id())),
    })
}
