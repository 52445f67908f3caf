//! A member of a classic group, as the coordinator tracks it.

use super::messages::{JoinGroupRequest, Protocol, RequestId};
use crate::Millis;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Member {
    pub(super) member_id: String,
    pub(super) group_instance_id: Option<String>,
    pub(super) client_id: String,
    pub(super) client_host: String,
    pub(super) session_timeout: Millis,
    pub(super) rebalance_timeout: Millis,
    pub(super) protocol_type: String,
    pub(super) protocols: Vec<Protocol>,
    /// What the leader assigned it in the current generation.
    pub(super) assignment: Vec<u8>,
    /// The JoinGroup it waits on an answer to (it "awaits join").
    pub(super) pending_join: Option<RequestId>,
    /// The SyncGroup it waits on an answer to (it "awaits sync").
    pub(super) pending_sync: Option<RequestId>,
    /// Whether it sent SyncGroup in the current generation, or is not expected to (a static
    /// member that was absent from the rebalance).
    pub(super) synced: bool,
    /// When its session ends without another heartbeat.
    pub(super) session_deadline: Millis,
}

impl Member {
    pub(super) fn new(member_id: String, request: &JoinGroupRequest, now: Millis) -> Member {
        Member {
            member_id,
            group_instance_id: request.group_instance_id.clone(),
            client_id: request.client_id.clone(),
            client_host: request.client_host.clone(),
            session_timeout: request.session_timeout,
            rebalance_timeout: request.rebalance_timeout,
            protocol_type: request.protocol_type.clone(),
            protocols: request.protocols.clone(),
            assignment: Vec::new(),
            pending_join: None,
            pending_sync: None,
            synced: false,
            session_deadline: now.plus(request.session_timeout),
        }
    }

    /// Takes the settings of a new JoinGroup from this member.
    pub(super) fn update(&mut self, request: &JoinGroupRequest) {
        self.client_id = request.client_id.clone();
        self.client_host = request.client_host.clone();
        self.session_timeout = request.session_timeout;
        self.rebalance_timeout = request.rebalance_timeout;
        self.protocols = request.protocols.clone();
    }

    /// A sign of life: the session starts again.
    pub(super) fn heartbeat(&mut self, now: Millis) {
        self.session_deadline = now.plus(self.session_timeout);
    }

    /// A member waiting on an answer is not expected to heartbeat.
    pub(super) fn is_awaiting(&self) -> bool {
        self.pending_join.is_some() || self.pending_sync.is_some()
    }

    /// Its metadata for `protocol` (empty if it does not offer it).
    pub(super) fn metadata(&self, protocol: &str) -> &[u8] {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map_or(&[], |p| &p.metadata)
    }

    pub(super) fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name == protocol)
    }
}
