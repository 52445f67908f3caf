//! What travels over the simulated network: client requests and responses (the core's own
//! request and response types), and the nodes' messages to each other
//! ([`crate::node::PeerMessage`]).

use crate::client::{Request, Response};
use crate::node::PeerMessage;

#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    ClientRequest {
        correlation_id: u64,
        request: Request,
    },
    ClientResponse {
        correlation_id: u64,
        response: Response,
    },
    Peer(PeerMessage),
}

impl Message {
    /// A short, stable description for the trace.
    pub fn summary(&self) -> String {
        match self {
            Message::ClientRequest {
                correlation_id,
                request,
            } => format!("{}#{correlation_id}", request.name()),
            Message::ClientResponse {
                correlation_id,
                response,
            } => format!("{}#{correlation_id}", response.name()),
            Message::Peer(message) => message.summary(),
        }
    }
}
