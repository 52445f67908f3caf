//! Finding the group coordinator, as librdkafka's coordinator query and the Java client's
//! `ensureCoordinatorReady` do: FindCoordinator to a bootstrap broker names the leader of the
//! group's `__consumer_offsets` partition; requests for the coordinator wait until it is known,
//! and it is looked up again when an answer says NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or
//! COORDINATOR_LOAD_IN_PROGRESS, or a request to it is lost (its broker died).

use super::{Consumer, InFlight};
use crate::client::{Destination, Request, Response};
use crate::controller::BrokerId;
use crate::{ErrorCode, Millis};

impl Consumer {
    /// Sends a request to the group coordinator, or keeps it until FindCoordinator names one.
    /// A heartbeat is not kept: the next one goes when due.
    pub(super) fn send_to_coordinator(&mut self, request: Request, context: InFlight, now: Millis) {
        match self.coordinator {
            Some(id) => self.send(Destination::Broker(id), request, context, now),
            None => {
                if !matches!(context, InFlight::Heartbeat) {
                    self.awaiting_coordinator.push_back((request, context));
                }
                self.find_coordinator(now);
            }
        }
    }

    /// Sends FindCoordinator to a bootstrap broker, unless one is in flight or backing off.
    pub(super) fn find_coordinator(&mut self, now: Millis) {
        let asking = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::FindCoordinator));
        if asking || now < self.find_coordinator_at || self.coordinator.is_some() {
            return;
        }
        let broker = self.bootstrap[self.bootstrap_index % self.bootstrap.len()];
        let group_id = self.config.group_id.clone();
        self.send(
            Destination::Broker(broker),
            Request::FindCoordinator { group_id },
            InFlight::FindCoordinator,
            now,
        );
    }

    pub(super) fn on_find_coordinator(&mut self, result: Result<BrokerId, ErrorCode>, now: Millis) {
        match result {
            Ok(id) => {
                self.coordinator = Some(id);
                for (request, context) in std::mem::take(&mut self.awaiting_coordinator) {
                    self.send(Destination::Broker(id), request, context, now);
                }
            }
            Err(_) => self.find_coordinator_lost(now),
        }
    }

    /// FindCoordinator got no answer or no coordinator: ask again (another bootstrap broker
    /// after a lost request) after `retry.backoff.ms`.
    pub(super) fn find_coordinator_lost(&mut self, now: Millis) {
        self.bootstrap_index = (self.bootstrap_index + 1) % self.bootstrap.len();
        self.find_coordinator_at = now.plus(self.config.retry_backoff_ms);
    }

    /// The coordinator is gone or moved: the next request for it looks it up again.
    pub(super) fn coordinator_lost(&mut self) {
        self.coordinator = None;
    }

    /// When a FindCoordinator is due (requests wait for a coordinator, none is asked for).
    pub(super) fn find_coordinator_deadline(&self) -> Option<Millis> {
        let asking = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::FindCoordinator));
        (self.coordinator.is_none() && !asking && !self.awaiting_coordinator.is_empty())
            .then_some(self.find_coordinator_at)
    }
}

/// Whether `response` says its broker is not (or not yet) the group's coordinator.
pub(super) fn names_another_coordinator(response: &Response) -> bool {
    let moved = |code: ErrorCode| {
        matches!(
            code,
            ErrorCode::NOT_COORDINATOR
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        )
    };
    match response {
        Response::JoinGroup(Err(e)) => moved(e.code()),
        Response::SyncGroup(Err(e)) => moved(e.code()),
        Response::Heartbeat(Err(e)) => moved(e.code()),
        Response::LeaveGroup(results) => results
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| moved(e.code()))),
        Response::OffsetCommit(results) => results
            .iter()
            .any(|(_, r)| r.as_ref().is_err_and(|e| moved(e.code()))),
        Response::OffsetFetch(Err(e)) => moved(e.code()),
        _ => false,
    }
}
