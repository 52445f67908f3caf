//! The transactional APIs as the simulated clients send them ([`Request`] variants), routed
//! to the node's transaction coordinator (`transactions.rs`); the server's `kafka/` handlers
//! call the same methods from the wire. An answer is held until the `__transaction_state`
//! writes its call issued are in the ISR (`txn_state_log.rs`; the server waits the same way),
//! and is NOT_COORDINATOR when one failed, as Kafka answers a failed append of the
//! transaction log. EndTxn is so answered once the transaction is prepared, as Kafka does.

use super::{Node, RequestRef};
use crate::broker::StorageFactory;
use crate::client::{Request, Response};
use crate::group::CommitOffset;
use crate::txn::InitOutcome;
use crate::{ErrorCode, Millis};

/// An answer waiting for the writes numbered `(after, through]`.
#[derive(Debug)]
pub(super) struct HeldAnswer {
    after: u64,
    through: u64,
    request: RequestRef,
    response: Response,
}

/// `response` as answered when the state it depends on could not be written.
fn not_coordinator(response: Response) -> Response {
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
    /// Answers the held transactional answers whose writes are done (from `drain_roles`).
    pub(super) fn release_txn_answers(&mut self) {
        if self.txn_answers.is_empty() {
            return;
        }
        for held in std::mem::take(&mut self.txn_answers) {
            match self.transaction_writes_done(held.after, held.through) {
                None => self.txn_answers.push(held),
                Some(true) => self.respond(held.request, held.response),
                Some(false) => self.respond(held.request, not_coordinator(held.response)),
            }
        }
    }

    /// One of the transactional requests (the caller matched it); anything else is ignored.
    pub(super) fn handle_txn_request(&mut self, now: Millis, request: RequestRef, body: Request) {
        let after = self.transaction_writes_issued();
        let response = match body {
            Request::FindTransactionCoordinator { transactional_id } => Response::FindCoordinator(
                self.find_transaction_coordinator(now, &transactional_id)
                    .map(|c| c.node_id),
            ),
            Request::InitTransactionalProducerId {
                transactional_id,
                transaction_timeout_ms,
                expected,
            } => self.init_transactional(now, &transactional_id, transaction_timeout_ms, expected),
            Request::AddPartitionsToTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                partitions,
            } => Response::AddPartitionsToTxn(self.add_partitions_to_txn(
                now,
                &transactional_id,
                producer_id,
                producer_epoch,
                &partitions,
            )),
            Request::AddOffsetsToTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                group_id,
            } => Response::AddOffsetsToTxn(
                self.add_offsets_to_txn(
                    now,
                    &transactional_id,
                    producer_id,
                    producer_epoch,
                    &group_id,
                )
                .err()
                .unwrap_or(ErrorCode::NONE),
            ),
            Request::EndTxn {
                transactional_id,
                producer_id,
                producer_epoch,
                commit,
            } => Response::EndTxn(
                self.end_txn(now, &transactional_id, producer_id, producer_epoch, commit)
                    .err()
                    .unwrap_or(ErrorCode::NONE),
            ),
            Request::TxnOffsetCommit {
                group_id,
                producer_id,
                producer_epoch,
                generation_id,
                member_id,
                offsets,
            } => {
                let offsets = offsets
                    .into_iter()
                    .map(|(tp, offset)| {
                        let commit = CommitOffset {
                            offset,
                            leader_epoch: None,
                            metadata: None,
                        };
                        (tp, commit)
                    })
                    .collect();
                Response::TxnOffsetCommit(self.txn_offset_commit(
                    now,
                    &group_id,
                    (producer_id, producer_epoch),
                    generation_id,
                    &member_id,
                    None,
                    offsets,
                ))
            }
            _ => return,
        };
        let through = self.transaction_writes_issued();
        self.txn_answers.push(HeldAnswer {
            after,
            through,
            request,
            response,
        });
        self.release_txn_answers();
    }

    /// InitProducerId with a transactional id. When the coordinator needs a fresh producer id
    /// and the node's block is empty, the node asks the controller for a block and answers
    /// COORDINATOR_LOAD_IN_PROGRESS (retriable); a fencing abort under way answers
    /// CONCURRENT_TRANSACTIONS (retriable), as Kafka's coordinator does.
    fn init_transactional(
        &mut self,
        now: Millis,
        transactional_id: &str,
        timeout_ms: i64,
        expected: Option<(i64, i16)>,
    ) -> Response {
        let mut fresh = None;
        let outcome = loop {
            match self.init_transactional_producer_id(
                now,
                transactional_id,
                timeout_ms,
                expected,
                fresh,
            ) {
                Ok(InitOutcome::NeedProducerId) if fresh.is_none() => {
                    match self.producer_ids.take() {
                        Some(id) => fresh = Some(id),
                        None => {
                            self.producer_ids.want_block();
                            break Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
                        }
                    }
                }
                Ok(InitOutcome::Ready {
                    producer_id,
                    producer_epoch,
                }) => break Ok((producer_id, producer_epoch)),
                Ok(InitOutcome::Fencing(_)) => break Err(ErrorCode::CONCURRENT_TRANSACTIONS),
                Ok(InitOutcome::NeedProducerId) => {
                    break Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
                }
                Err(code) => break Err(code),
            }
        };
        match outcome {
            Ok((producer_id, producer_epoch)) => Response::InitProducerId {
                error: ErrorCode::NONE,
                producer_id,
                producer_epoch,
            },
            Err(error) => Response::InitProducerId {
                error,
                producer_id: -1,
                producer_epoch: -1,
            },
        }
    }
}
