//! InitProducerId: a producer id for an idempotent producer, from this broker's block of ids
//! (KIP-730: blocks come from the controller's metadata log); with a `transactional.id`, the
//! transaction coordinator's answer (a new id at epoch 0, or the known id with its epoch
//! bumped, fencing the previous instance; see the core node's `transactions.rs`).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use partita_core::ErrorCode;
use partita_core::node::TxnInit;

use super::node::Node;
use super::txn::fenced_for;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: InitProducerIdRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<InitProducerIdResponse> {
    let response = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if let Some(transactional_id) = request.transactional_id.clone() {
        let answer = transactional(&request, transactional_id.to_string(), node).await?;
        return Ok(match answer {
            Ok((producer_id, producer_epoch)) => response
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(producer_epoch),
            Err(code) => response.with_error_code(fenced_for(code, version, 4).code()),
        });
    }
    let (error, producer_id, producer_epoch) = fresh_producer_id(node).await?;
    Ok(response
        .with_error_code(error.code())
        .with_producer_id(ProducerId(producer_id))
        .with_producer_epoch(producer_epoch))
}

/// A producer id from the node's block (waiting for one from the controller if needed).
async fn fresh_producer_id(node: &Node) -> anyhow::Result<(ErrorCode, i64, i16)> {
    let Response::InitProducerId {
        error,
        producer_id,
        producer_epoch,
    } = node.engine.request(Request::InitProducerId).await?
    else {
        anyhow::bail!("the node answered InitProducerId with another response");
    };
    Ok((error, producer_id, producer_epoch))
}

/// The transaction coordinator's answer (the core node takes a fresh producer id from its
/// block when it needs one, and answers once the new state is durable).
async fn transactional(
    request: &InitProducerIdRequest,
    transactional_id: String,
    node: &Node,
) -> anyhow::Result<Result<(i64, i16), ErrorCode>> {
    let init = TxnInit {
        transactional_id,
        timeout_ms: i64::from(request.transaction_timeout_ms),
        // v3+ (KIP-360): a producer that has an id and epoch sends them to be bumped.
        expected: (request.producer_id.0 >= 0)
            .then_some((request.producer_id.0, request.producer_epoch)),
    };
    let response = node
        .engine
        .call_later(move |state, reply| state.init_transactional(init, reply))
        .await?;
    let Response::InitProducerId {
        error,
        producer_id,
        producer_epoch,
    } = response
    else {
        anyhow::bail!("the node answered InitProducerId with another response");
    };
    Ok(if error == ErrorCode::NONE {
        Ok((producer_id, producer_epoch))
    } else {
        Err(error)
    })
}
