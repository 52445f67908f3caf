//! InitProducerId: a producer id for an idempotent producer, from this broker's block of ids
//! (KIP-730: blocks come from the controller's metadata log); with a `transactional.id`, the
//! transaction coordinator's answer (a new id at epoch 0, or the known id with its epoch
//! bumped, fencing the previous instance; see the core node's `transactions.rs`).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use partita_core::ErrorCode;
use partita_core::txn::InitOutcome;

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

async fn transactional(
    request: &InitProducerIdRequest,
    transactional_id: String,
    node: &Node,
) -> anyhow::Result<Result<(i64, i16), ErrorCode>> {
    let timeout_ms = i64::from(request.transaction_timeout_ms);
    // v3+ (KIP-360): a producer that has an id and epoch sends them to be bumped.
    let expected =
        (request.producer_id.0 >= 0).then_some((request.producer_id.0, request.producer_epoch));
    let mut fresh = None;
    // Twice at most: the second time with a fresh id if the coordinator needed one.
    for _ in 0..2 {
        let id = transactional_id.clone();
        let outcome = super::txn::durably(node, move |state| {
            state.node.init_transactional_producer_id(
                crate::engine::now(),
                &id,
                timeout_ms,
                expected,
                fresh,
            )
        })
        .await?
        .unwrap_or(Err(ErrorCode::NOT_COORDINATOR));
        match outcome {
            Ok(InitOutcome::Ready {
                producer_id,
                producer_epoch,
            }) => return Ok(Ok((producer_id, producer_epoch))),
            // The abort that fences the previous instance is under way: retry.
            Ok(InitOutcome::Fencing(_)) => return Ok(Err(ErrorCode::CONCURRENT_TRANSACTIONS)),
            Ok(InitOutcome::NeedProducerId) => {
                let (error, producer_id, _) = fresh_producer_id(node).await?;
                if error != ErrorCode::NONE {
                    return Ok(Err(error));
                }
                fresh = Some(producer_id);
            }
            Err(code) => return Ok(Err(code)),
        }
    }
    Ok(Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS))
}
