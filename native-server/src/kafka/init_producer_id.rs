//! InitProducerId: a producer id for an idempotent producer. Transactions are not supported:
//! a transactional id is refused.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use partita_core::ErrorCode;

use super::node::Node;

pub async fn handle(
    request: InitProducerIdRequest,
    node: &Node,
) -> anyhow::Result<InitProducerIdResponse> {
    let response = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if request.transactional_id.is_some() {
        return Ok(
            response.with_error_code(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())
        );
    }
    let allocated = node
        .engine
        .call(|state| state.producer_ids.allocate())
        .await?;
    Ok(match allocated {
        Ok(id) => response
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(e) => {
            tracing::error!("cannot reserve producer ids: {e:#}");
            response.with_error_code(ErrorCode::COORDINATOR_NOT_AVAILABLE.code())
        }
    })
}
