//! InitProducerId: a producer id for an idempotent producer, from this broker's block of ids
//! (KIP-730: blocks come from the controller's metadata log). Transactions are not supported:
//! a transactional id is refused.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use partita_core::ErrorCode;

use super::node::Node;
use partita_core::client::{Request, Response};

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
    let Response::InitProducerId {
        error,
        producer_id,
        producer_epoch,
    } = node.engine.request(Request::InitProducerId).await?
    else {
        anyhow::bail!("the node answered InitProducerId with another response");
    };
    Ok(response
        .with_error_code(error.code())
        .with_producer_id(ProducerId(producer_id))
        .with_producer_epoch(producer_epoch))
}
