//! InitProducerId with a `transactional.id` as one request in, one answer out, for every
//! shell: the coordinator's answer ([`Node::init_transactional_producer_id`]), a fresh
//! producer id from the node's block when it needs one (waiting for the controller's next
//! block, KIP-730), and the answer held until the state it wrote to `__transaction_state` is
//! in the ISR (`txn_state_log.rs`).

use std::collections::BTreeSet;

use super::{Node, Output, RequestRef};
use crate::broker::StorageFactory;
use crate::client::Response;
use crate::txn::InitOutcome;
use crate::{ErrorCode, Millis};

/// What an InitProducerId with a transactional id asks for (its request's fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnInit {
    pub transactional_id: String,
    /// `transaction.timeout.ms`.
    pub timeout_ms: i64,
    /// The producer id and epoch the client has (v3+, KIP-360); `None` when it sent -1.
    pub expected: Option<(i64, i16)>,
}

impl<F: StorageFactory> Node<F> {
    /// InitProducerId with a transactional id: answered as [`Output::Respond`] with
    /// [`Response::InitProducerId`], at once for an error, else once its state is durable
    /// (NOT_COORDINATOR if that write failed). A fencing abort under way is answered
    /// CONCURRENT_TRANSACTIONS (the client retries), as Kafka's.
    pub fn handle_init_transactional_producer_id(
        &mut self,
        now: Millis,
        request: RequestRef,
        init: TxnInit,
    ) {
        self.continue_txn_init(now, request, init, None);
        self.drain_roles(now);
    }

    /// One step of an InitProducerId with a transactional id, `fresh` a producer id from the
    /// node's block if one was taken for it.
    pub(super) fn continue_txn_init(
        &mut self,
        now: Millis,
        request: RequestRef,
        init: TxnInit,
        fresh: Option<i64>,
    ) {
        let (outcome, writes) = self.collect_txn_writes(|node| {
            node.init_transactional_producer_id(
                now,
                &init.transactional_id,
                init.timeout_ms,
                init.expected,
                fresh,
            )
        });
        let answer = match outcome {
            Ok(InitOutcome::Ready {
                producer_id,
                producer_epoch,
            }) => Ok((producer_id, producer_epoch)),
            Ok(InitOutcome::Fencing(_)) => Err(ErrorCode::CONCURRENT_TRANSACTIONS),
            Ok(InitOutcome::NeedProducerId) if fresh.is_none() => match self.producer_ids.take() {
                Some(id) => return self.continue_txn_init(now, request, init, Some(id)),
                None => {
                    self.txns.inits.insert(request, init);
                    self.producer_ids.wait(request);
                    return;
                }
            },
            // A second fresh id is never needed.
            Ok(InitOutcome::NeedProducerId) => Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS),
            Err(code) => Err(code),
        };
        let response = init_answer(answer);
        self.respond_after_txn_writes(writes, request, response);
    }

    /// Producer ids came (or did not) for requests waiting in [`ProducerIds`]: a waiting
    /// transactional InitProducerId goes on; `None` for a request that is not one.
    pub(super) fn resume_txn_init(
        &mut self,
        now: Millis,
        request: RequestRef,
        fresh: Result<i64, ErrorCode>,
    ) -> Option<()> {
        let init = self.txns.inits.remove(&request)?;
        match fresh {
            Ok(id) => self.continue_txn_init(now, request, init, Some(id)),
            Err(code) => self.respond(request, init_answer(Err(code))),
        }
        Some(())
    }

    /// Answers `request` (an InitProducerId, or another transactional request,
    /// `txn_requests.rs`) once the state writes numbered `writes` are durable
    /// ([`Node::collect_txn_writes`]), or with NOT_COORDINATOR if one failed.
    pub(super) fn respond_after_txn_writes(
        &mut self,
        writes: BTreeSet<u64>,
        request: RequestRef,
        response: Response,
    ) {
        self.txns.held.push((writes, request, response));
        self.release_txn_answers();
    }

    /// Sends the held answers whose writes are done.
    pub(super) fn release_txn_answers(&mut self) {
        let held = std::mem::take(&mut self.txns.held);
        for (writes, request, response) in held {
            match self.txn_writes_done(&writes) {
                Some(true) => self
                    .outputs
                    .push_back(Output::Respond { request, response }),
                Some(false) => {
                    let refused = super::txn_requests::not_coordinator(response);
                    self.respond(request, refused);
                }
                None => self.txns.held.push((writes, request, response)),
            }
        }
    }
}

fn init_answer(answer: Result<(i64, i16), ErrorCode>) -> Response {
    match answer {
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
