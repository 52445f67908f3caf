//! The transactional APIs as the simulated clients send them ([`Request`] variants), routed
//! to the node's transaction coordinator (`transactions.rs`); the server's `kafka/` handlers
//! call the same methods from the wire. An answer is held until the `__transaction_state`
//! writes its call issued are in the ISR (`txn_state_log.rs`; the server waits the same way),
//! and is NOT_COORDINATOR when one failed, as Kafka answers a failed append of the
//! transaction log. EndTxn is so answered once the transaction is prepared, as Kafka does.

use super::txn_init::TxnInit;
use super::txn_offsets::TxnOffsetCommit;
use super::{Node, RequestRef};
use crate::broker::StorageFactory;
use crate::client::{Request, Response};
use crate::{ErrorCode, Millis};

/// `response` as answered when the state it depends on could not be written.
pub(super) fn not_coordinator(response: Response) -> Response {
    let code = ErrorCode::NOT_COORDINATOR;
    match response {
        Response::InitProducerId { .. } => Response::InitProducerId {
            error: code,
            producer_id: -1,
            producer_epoch: -1,
        },
        Response::AddPartitionsToTxn(results) => {
            Response::AddPartitionsToTxn(results.into_iter().map(|(tp, _)| (tp, code)).collect())
        }
        Response::TxnOffsetCommit(results) => {
            Response::TxnOffsetCommit(results.into_iter().map(|(tp, _)| (tp, code)).collect())
        }
        Response::AddOffsetsToTxn(_) => Response::AddOffsetsToTxn(code),
        Response::EndTxn(_) => Response::EndTxn(code),
        other => other,
    }
}

impl<F: StorageFactory> Node<F> {
    /// One of the transactional requests (the caller matched it); anything else is ignored.
    /// The answer is held until the state writes it depends on are in the ISR.
    pub(super) fn handle_txn_request(&mut self, now: Millis, request: RequestRef, body: Request) {
        let body = match body {
            Request::FindTransactionCoordinator { transactional_id } => {
                let found = self
                    .find_transaction_coordinator(now, &transactional_id)
                    .map(|c| c.node_id);
                self.respond(request, Response::FindCoordinator(found));
                return;
            }
            Request::InitTransactionalProducerId {
                transactional_id,
                transaction_timeout_ms,
                expected,
            } => {
                let init = TxnInit {
                    transactional_id,
                    timeout_ms: transaction_timeout_ms,
                    expected,
                };
                // Held until its state is durable, waiting for a block of producer ids first
                // if it needs one (`txn_init.rs`).
                self.continue_txn_init(now, request, init, None);
                return;
            }
            Request::TxnOffsetCommit {
                group_id,
                producer_id,
                producer_epoch,
                generation_id,
                member_id,
                group_instance_id,
                offsets,
            } => {
                let commit = TxnOffsetCommit {
                    group_id,
                    producer: (producer_id, producer_epoch),
                    generation_id,
                    member_id,
                    group_instance_id,
                    offsets,
                };
                self.txn_offset_commit(now, request, commit);
                return;
            }
            body => body,
        };
        let (response, writes) = self.collect_txn_writes(|node| match body {
            Request::AddPartitionsToTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                partitions,
            } => Some(Response::AddPartitionsToTxn(node.add_partitions_to_txn(
                now,
                &transactional_id,
                producer_id,
                producer_epoch,
                &partitions,
            ))),
            Request::AddOffsetsToTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                group_id,
            } => Some(Response::AddOffsetsToTxn(
                node.add_offsets_to_txn(
                    now,
                    &transactional_id,
                    producer_id,
                    producer_epoch,
                    &group_id,
                )
                .err()
                .unwrap_or(ErrorCode::NONE),
            )),
            Request::EndTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                commit,
            } => Some(Response::EndTxn(
                node.end_txn(now, &transactional_id, producer_id, producer_epoch, commit)
                    .err()
                    .unwrap_or(ErrorCode::NONE),
            )),
            _ => None,
        });
        if let Some(response) = response {
            self.respond_after_txn_writes(writes, request, response);
        }
    }
}
