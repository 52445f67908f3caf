//! The producer ids a broker holds: the rest of its current block from the controller, and
//! the InitProducerId requests waiting for the next block (Kafka's `RPCProducerIdManager`).

use std::collections::VecDeque;

use super::RequestRef;
use crate::Millis;

/// How long an AllocateProducerIds request may go unanswered before it is sent again (a lost
/// message, or a controller that went away).
pub const ALLOCATE_PRODUCER_IDS_TIMEOUT_MS: Millis = Millis(1_000);

/// A leaf type of the node: it hands out ids and remembers who waits; the node sends the
/// AllocateProducerIds request when [`ProducerIds::wants_block`] says so.
#[derive(Debug, Default)]
pub struct ProducerIds {
    /// `[next, end)`: ids of the current block not yet handed out.
    next: i64,
    end: i64,
    /// When the AllocateProducerIds request in flight was sent.
    requested_at: Option<Millis>,
    waiting: VecDeque<RequestRef>,
}

impl ProducerIds {
    /// The next id of the current block, if any is left.
    pub fn take(&mut self) -> Option<i64> {
        (self.next < self.end).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    pub fn wait(&mut self, request: RequestRef) {
        self.waiting.push_back(request);
    }

    /// True when requests wait and no block is asked for (or the request timed out); marks
    /// it asked at `now`.
    pub fn wants_block(&mut self, now: Millis) -> bool {
        let wants = !self.waiting.is_empty()
            && self
                .requested_at
                .is_none_or(|at| now >= at.plus(ALLOCATE_PRODUCER_IDS_TIMEOUT_MS));
        if wants {
            self.requested_at = Some(now);
        }
        wants
    }

    /// The request in flight went to a node that is not the controller: ask again at once.
    pub fn retry(&mut self) {
        self.requested_at = None;
    }

    /// When the request in flight times out, if requests wait for it.
    pub fn next_deadline(&self) -> Option<Millis> {
        let at = self.requested_at?;
        (!self.waiting.is_empty()).then(|| at.plus(ALLOCATE_PRODUCER_IDS_TIMEOUT_MS))
    }

    /// A block arrived: the waiting requests get ids from it, in order; returns them.
    pub fn add_block(&mut self, first_id: i64, size: i64) -> Vec<(RequestRef, i64)> {
        self.requested_at = None;
        self.next = first_id;
        self.end = first_id + size;
        let mut served = Vec::new();
        while let Some(request) = self.waiting.front().copied() {
            let Some(id) = self.take() else { break };
            self.waiting.pop_front();
            served.push((request, id));
        }
        served
    }

    /// The request failed (the controller refused, or was unreachable): waiting requests get
    /// an error now, and the next InitProducerId asks again.
    pub fn fail(&mut self) -> Vec<RequestRef> {
        self.requested_at = None;
        self.waiting.drain(..).collect()
    }
}
