//! FindCoordinator: one node coordinates every group: this one when it is alone, else the
//! cluster's active controller (until `__consumer_offsets` is a replicated, partitioned topic,
//! issue 14, so that every client of a group reaches the same coordinator). Transactions are
//! not supported, so transaction coordinators are not found.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;

use super::convert::str_bytes;
use super::node::Node;

const GROUP_KEY_TYPE: i8 = 0;

pub async fn handle(
    request: FindCoordinatorRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<FindCoordinatorResponse> {
    let own = (
        node.node_id,
        node.advertised.ip().to_string(),
        node.advertised.port(),
    );
    let (coordinator, host, port) = node
        .engine
        .call(move |state| {
            let controller = state.node.config().controller_id;
            match state.image().broker(controller) {
                Some(b) if controller != own.0 => (controller, b.host.clone(), b.port),
                _ => own,
            }
        })
        .await?;
    let host = str_bytes(host);
    let port = i32::from(port);
    let error = if request.key_type == GROUP_KEY_TYPE {
        ErrorCode::NONE
    } else {
        ErrorCode::COORDINATOR_NOT_AVAILABLE
    };
    let message = (error != ErrorCode::NONE).then(|| str_bytes("transactions are not supported"));
    if version >= 4 {
        let coordinators = request
            .coordinator_keys
            .into_iter()
            .map(|key: StrBytes| {
                let found = Coordinator::default()
                    .with_key(key)
                    .with_error_code(error.code());
                if error == ErrorCode::NONE {
                    found
                        .with_node_id(BrokerId(coordinator))
                        .with_host(host.clone())
                        .with_port(port)
                } else {
                    found
                        .with_node_id(BrokerId(-1))
                        .with_port(-1)
                        .with_error_message(message.clone())
                }
            })
            .collect();
        return Ok(FindCoordinatorResponse::default().with_coordinators(coordinators));
    }
    let response = FindCoordinatorResponse::default().with_error_code(error.code());
    let response = if version >= 1 {
        response.with_error_message(message)
    } else {
        response
    };
    Ok(if error == ErrorCode::NONE {
        response
            .with_node_id(BrokerId(coordinator))
            .with_host(host)
            .with_port(port)
    } else {
        response.with_node_id(BrokerId(-1)).with_port(-1)
    })
}
