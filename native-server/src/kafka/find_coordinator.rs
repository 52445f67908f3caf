//! FindCoordinator: a group's coordinator is the leader of its partition of
//! `__consumer_offsets` (`abs(hash(group.id)) % offsets.topic.num.partitions`), found by the
//! core node (`Node::find_coordinator`), which has the topic created on first use and
//! answers COORDINATOR_NOT_AVAILABLE until it exists and while the partition has no leader.
//! A transactional id's coordinator (key type 1) is the leader of its partition of
//! `__transaction_state` (`Node::find_transaction_coordinator`), found the same way. With
//! ACLs, Describe on the group (GROUP_AUTHORIZATION_FAILED) or the transactional id
//! (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as Kafka's `handleFindCoordinatorRequest`.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;
use partita_core::node::CoordinatorEndpoint;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

const GROUP_KEY_TYPE: i8 = 0;
/// FindCoordinator's key type for a transactional id (KIP-98).
const TRANSACTION_KEY_TYPE: i8 = 1;

pub async fn handle(
    request: FindCoordinatorRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<FindCoordinatorResponse> {
    let keys: Vec<String> = if version >= 4 {
        request
            .coordinator_keys
            .iter()
            .map(|k: &StrBytes| k.to_string())
            .collect()
    } else {
        vec![request.key.to_string()]
    };
    let authz = client.authz.clone();
    let found: Vec<Result<CoordinatorEndpoint, ErrorCode>> = if request.key_type == GROUP_KEY_TYPE {
        let groups = keys.clone();
        node.engine
            .call(move |state| {
                let now = crate::engine::now();
                groups
                    .iter()
                    .map(|group| {
                        if !authz.group(AclOperation::Describe, group) {
                            return Err(ErrorCode::GROUP_AUTHORIZATION_FAILED);
                        }
                        state.node.find_coordinator(now, group)
                    })
                    .collect()
            })
            .await?
    } else if request.key_type == TRANSACTION_KEY_TYPE {
        let ids = keys.clone();
        node.engine
            .call(move |state| {
                let now = crate::engine::now();
                ids.iter()
                    .map(|id| {
                        if !authz.transactional_id(AclOperation::Describe, id) {
                            return Err(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
                        }
                        state.node.find_transaction_coordinator(now, id)
                    })
                    .collect()
            })
            .await?
    } else {
        keys.iter()
            .map(|_| Err(ErrorCode::INVALID_REQUEST))
            .collect()
    };
    let message = |code: ErrorCode| {
        str_bytes(match request.key_type {
            _ if matches!(
                code,
                ErrorCode::GROUP_AUTHORIZATION_FAILED
                    | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            ) =>
            {
                format!("{}: not authorized to describe the key", code.name())
            }
            GROUP_KEY_TYPE => format!(
                "{}: the group's coordinator is not available yet",
                code.name()
            ),
            TRANSACTION_KEY_TYPE => format!(
                "{}: the transaction coordinator is not available yet",
                code.name()
            ),
            other => format!("unknown coordinator key type {other}"),
        })
    };
    if version >= 4 {
        let coordinators = keys
            .into_iter()
            .zip(found)
            .map(|(key, found)| {
                let entry = Coordinator::default().with_key(str_bytes(key));
                match found {
                    Ok(c) => entry
                        .with_node_id(BrokerId(c.node_id))
                        .with_host(str_bytes(c.host))
                        .with_port(i32::from(c.port)),
                    Err(code) => entry
                        .with_error_code(code.code())
                        .with_node_id(BrokerId(-1))
                        .with_port(-1)
                        .with_error_message(Some(message(code))),
                }
            })
            .collect();
        return Ok(FindCoordinatorResponse::default().with_coordinators(coordinators));
    }
    let found = found
        .into_iter()
        .next()
        .unwrap_or(Err(ErrorCode::COORDINATOR_NOT_AVAILABLE));
    let response = FindCoordinatorResponse::default();
    Ok(match found {
        Ok(c) => response
            .with_node_id(BrokerId(c.node_id))
            .with_host(str_bytes(c.host))
            .with_port(i32::from(c.port)),
        Err(code) => {
            let response = response
                .with_error_code(code.code())
                .with_node_id(BrokerId(-1))
                .with_port(-1);
            if version >= 1 {
                response.with_error_message(Some(message(code)))
            } else {
                response
            }
        }
    })
}
