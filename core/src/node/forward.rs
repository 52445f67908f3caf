//! Admin requests for the active controller, from any node (KIP-590, Kafka's
//! `ForwardingManager`): a client may send CreateTopics, DeleteTopics, CreatePartitions,
//! AlterConfigs or IncrementalAlterConfigs to any broker (librdkafka and Java's admin client
//! send a broker resource's config change to that broker itself). The active controller runs
//! the command here; any other node forwards it as [`PeerMessage::ForwardedCommand`] and
//! answers the client with the controller's [`PeerMessage::ForwardedCommandResponse`].
//!
//! Never a hang: a forward unanswered after [`FORWARD_TIMEOUT_MS`] is answered
//! REQUEST_TIMED_OUT, and one whose controller is no longer the active controller this node
//! knows (a leader change mid-way) is answered NOT_CONTROLLER at the next
//! [`Node::handle_timeout`]; both are retriable, and the client sends again. The controller
//! answers only once the command's records are committed, so an `Ok` is durable.

use std::collections::BTreeMap;

use super::metadata_quorum::Deferred;
use super::{Node, PeerMessage, Refusal, RequestRef};
use crate::broker::StorageFactory;
use crate::client::Response;
use crate::controller::{BrokerId, ControllerCommand};
use crate::{ErrorCode, Millis};

/// How long a node waits for the controller's answer to a forwarded command, in
/// milliseconds (Kafka's forwarding channel times out after `request.timeout.ms`, 30 s by
/// default; a shorter bound gives the client's own retry time to run).
pub const FORWARD_TIMEOUT_MS: Millis = Millis(10_000);

/// The commands this node waits on, by the request id the answer echoes.
#[derive(Default)]
pub(super) struct Forwards {
    next_id: u64,
    pending: BTreeMap<u64, Forward>,
}

struct Forward {
    request: RequestRef,
    /// The node the command went to.
    to: BrokerId,
    deadline: Millis,
}

impl Forwards {
    pub fn next_deadline(&self) -> Option<Millis> {
        self.pending.values().map(|f| f.deadline).min()
    }
}

impl<F: StorageFactory> Node<F> {
    /// A client's admin command for the active controller: run here if this node is it,
    /// else forwarded to the active controller it knows (NOT_CONTROLLER at once if it knows
    /// none, during an election). The answer comes out as [`Response::Control`] once the
    /// command's records are committed, or refused.
    pub(super) fn handle_control_request(
        &mut self,
        now: Millis,
        request: RequestRef,
        command: ControllerCommand,
        validate_only: bool,
    ) {
        let me = self.config.node_id;
        let to = if self.is_active_controller() {
            Some(me)
        } else {
            self.active_controller().filter(|&c| c != me)
        };
        let Some(to) = to else {
            let message = format!("node {me} knows no active controller");
            self.respond(
                request,
                Response::Control(Err((ErrorCode::NOT_CONTROLLER, message))),
            );
            return;
        };
        self.forwards.next_id += 1;
        let request_id = self.forwards.next_id;
        self.forwards.pending.insert(
            request_id,
            Forward {
                request,
                to,
                deadline: now.plus(FORWARD_TIMEOUT_MS),
            },
        );
        self.send(
            to,
            PeerMessage::ForwardedCommand {
                request_id,
                validate_only,
                command,
            },
        );
    }

    /// A forwarded command reached this node: run it if this is the active controller, and
    /// answer once its records are committed; NOT_CONTROLLER otherwise.
    pub(super) fn on_forwarded_command(
        &mut self,
        now: Millis,
        from: BrokerId,
        request_id: u64,
        validate_only: bool,
        command: ControllerCommand,
    ) {
        let result = self.control(now, validate_only, |c| command.run(c));
        let answer = PeerMessage::ForwardedCommandResponse { request_id, result };
        self.send_after_commit(from, Deferred::Message(answer));
    }

    /// The controller's answer to a forward of this node's: the client gets it, unless the
    /// forward was already answered (timed out, or given up on a leader change).
    pub(super) fn on_forwarded_command_response(
        &mut self,
        from: BrokerId,
        request_id: u64,
        result: Result<(), Refusal>,
    ) {
        let Some(forward) = self.forwards.pending.get(&request_id) else {
            return;
        };
        if forward.to != from {
            return;
        }
        let forward = self.forwards.pending.remove(&request_id).expect("present");
        self.respond(forward.request, Response::Control(result));
    }

    /// Answers the forwards that waited too long (REQUEST_TIMED_OUT) and those whose
    /// controller is no longer the active one this node knows (NOT_CONTROLLER).
    pub(super) fn expire_forwards(&mut self, now: Millis) {
        let me = self.config.node_id;
        let active = if self.is_active_controller() {
            Some(me)
        } else {
            self.active_controller().filter(|&c| c != me)
        };
        let given_up: Vec<(u64, Refusal)> = self
            .forwards
            .pending
            .iter()
            .filter_map(|(&id, f)| {
                if now >= f.deadline {
                    let message = format!(
                        "node {} did not answer the forwarded request within {FORWARD_TIMEOUT_MS}",
                        f.to
                    );
                    Some((id, (ErrorCode::REQUEST_TIMED_OUT, message)))
                } else if active.is_some_and(|a| a != f.to) {
                    let message = format!(
                        "the active controller changed from node {} while the request was forwarded",
                        f.to
                    );
                    Some((id, (ErrorCode::NOT_CONTROLLER, message)))
                } else {
                    None
                }
            })
            .collect();
        for (id, refusal) in given_up {
            let forward = self.forwards.pending.remove(&id).expect("present");
            self.respond(forward.request, Response::Control(Err(refusal)));
        }
    }
}
