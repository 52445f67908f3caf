//! Transactions on the wire (KIP-98): AddOffsetsToTxn and EndTxn, handed to the core node as
//! its transactional requests and answered when the node gives the answer (once the
//! `__transaction_state` writes it depends on are in the ISR: the core holds it), and the
//! error mapping every transactional API shares. AddPartitionsToTxn, TxnOffsetCommit and
//! InitProducerId have files of their own.

use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, EndTxnRequest, EndTxnResponse, ProducerId,
};
use partita_core::ErrorCode;
use partita_core::client::{Request, Response};

use super::node::Node;

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
    let answer = node
        .engine
        .request(Request::AddOffsetsToTxn {
            transactional_id: request.transactional_id.to_string(),
            producer_id: request.producer_id.0,
            producer_epoch: request.producer_epoch,
            group_id: request.group_id.to_string(),
        })
        .await?;
    let Response::AddOffsetsToTxn(code) = answer else {
        anyhow::bail!("AddOffsetsToTxn answered {}", answer.name());
    };
    Ok(AddOffsetsToTxnResponse::default().with_error_code(fenced_for(code, version, 2).code()))
}

pub async fn handle_end_txn(
    request: EndTxnRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<EndTxnResponse> {
    let answer = node
        .engine
        .request(Request::EndTxn {
            transactional_id: request.transactional_id.to_string(),
            producer_id: request.producer_id.0,
            producer_epoch: request.producer_epoch,
            commit: request.committed,
        })
        .await?;
    let Response::EndTxn(code) = answer else {
        anyhow::bail!("EndTxn answered {}", answer.name());
    };
    Ok(EndTxnResponse::default()
        .with_error_code(fenced_for(code, version, 2).code())
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1))
}
