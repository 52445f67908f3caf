//! Transactions on the wire (KIP-98): AddOffsetsToTxn and EndTxn, answered by the core node's
//! transaction coordinator (`partita_core::node`'s `transactions.rs`), and the error mapping
//! every transactional API shares. AddPartitionsToTxn, TxnOffsetCommit and InitProducerId
//! have files of their own.

use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, EndTxnRequest, EndTxnResponse, ProducerId,
};
use partita_core::ErrorCode;

use super::node::Node;

/// Runs `call` on the node, then waits until the `__transaction_state` writes it issued are
/// in the ISR: its result, or `None` when one of them failed (answered NOT_COORDINATOR, as
/// Kafka answers a failed append of the transaction log; the client finds the coordinator
/// again and retries).
pub async fn durably<T: Send + 'static>(
    node: &Node,
    call: impl FnOnce(&mut crate::engine::State) -> T + Send + 'static,
) -> anyhow::Result<Option<T>> {
    node.engine
        .call_later(move |state, reply| {
            let after = state.node.transaction_writes_issued();
            let result = call(state);
            state.after_transaction_writes(after, move |durable| {
                let _ = reply.send(durable.then_some(result));
            });
        })
        .await
}

/// PRODUCER_FENCED as a client of `version` understands it: versions before `since` (the one
/// that introduced it, KIP-588) get INVALID_PRODUCER_EPOCH instead, as Kafka answers them.
pub fn fenced_for(code: ErrorCode, version: i16, since: i16) -> ErrorCode {
    if code == ErrorCode::PRODUCER_FENCED && version < since {
        ErrorCode::INVALID_PRODUCER_EPOCH
    } else {
        code
    }
}

pub async fn handle_add_offsets(
    request: AddOffsetsToTxnRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<AddOffsetsToTxnResponse> {
    let result = durably(node, move |state| {
        state.node.add_offsets_to_txn(
            crate::engine::now(),
            &request.transactional_id,
            request.producer_id.0,
            request.producer_epoch,
            &request.group_id,
        )
    })
    .await?
    .unwrap_or(Err(ErrorCode::NOT_COORDINATOR));
    let code = result.err().unwrap_or(ErrorCode::NONE);
    Ok(AddOffsetsToTxnResponse::default().with_error_code(fenced_for(code, version, 2).code()))
}

pub async fn handle_end_txn(
    request: EndTxnRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<EndTxnResponse> {
    let result = durably(node, move |state| {
        state.node.end_txn(
            crate::engine::now(),
            &request.transactional_id,
            request.producer_id.0,
            request.producer_epoch,
            request.committed,
        )
    })
    .await?
    .unwrap_or(Err(ErrorCode::NOT_COORDINATOR));
    let code = result.err().unwrap_or(ErrorCode::NONE);
    Ok(EndTxnResponse::default()
        .with_error_code(fenced_for(code, version, 2).code())
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1))
}
