//! What a node hands back to the simulation after handling an event: messages to send and
//! trace events to record, in order.

use super::message::Message;
use super::node::NodeId;
use super::trace::TraceEvent;

#[derive(Debug, Default)]
pub struct Outbox {
    pub messages: Vec<(NodeId, NodeId, Message)>,
    pub trace: Vec<TraceEvent>,
}

impl Outbox {
    pub fn send(&mut self, from: NodeId, to: NodeId, message: Message) {
        self.messages.push((from, to, message));
    }

    pub fn trace(&mut self, event: TraceEvent) {
        self.trace.push(event);
    }
}
