//! What every request handler can see: this node's identity, its metrics, and the engine that
//! holds the core's state.

use std::net::SocketAddr;
use std::sync::Arc;

use super::authz::Acls;
use super::limits::{Limits, RequestMemory};
use super::sasl::{PlainUsers, SaslMechanisms};
use crate::engine::EngineHandle;
use crate::http::metrics::Metrics;
use crate::tls::mapping::SslPrincipalMapper;

pub struct Node {
    pub node_id: i32,
    /// The address clients are told to connect to (the listener's).
    pub advertised: SocketAddr,
    pub cluster_id: String,
    pub metrics: Metrics,
    pub engine: EngineHandle,
    /// Users of SASL/PLAIN (empty: PLAIN is not offered).
    pub sasl_users: PlainUsers,
    /// The SASL mechanisms offered (`sasl.enabled.mechanisms`); empty: no authentication.
    pub sasl_mechanisms: SaslMechanisms,
    /// Socket-level bounds (`--config socket.request.max.bytes=...` and the like).
    pub limits: Limits,
    /// The `queued.max.request.bytes` pool.
    pub request_memory: RequestMemory,
    /// The authorizer's config and the ACLs in force.
    pub acls: Acls,
    /// `ssl.principal.mapping.rules`: the principal of a TLS client certificate.
    pub ssl_principal_mapper: Arc<SslPrincipalMapper>,
}

impl Node {
    pub fn new(
        node_id: i32,
        advertised: SocketAddr,
        engine: EngineHandle,
        sasl_users: PlainUsers,
    ) -> Node {
        Node {
            node_id,
            advertised,
            cluster_id: "partita-cluster".to_string(),
            metrics: Metrics::new(),
            engine,
            sasl_mechanisms: if sasl_users.is_empty() {
                SaslMechanisms::default()
            } else {
                SaslMechanisms::plain()
            },
            sasl_users,
            limits: Limits::default(),
            request_memory: RequestMemory::new(Limits::default().queued_max_request_bytes),
            acls: Acls::new(Default::default(), Default::default()),
            ssl_principal_mapper: Arc::default(),
        }
    }

    /// This node naming TLS clients by `mapper` (`ssl.principal.mapping.rules`).
    pub fn with_ssl_principal_mapper(mut self, mapper: Arc<SslPrincipalMapper>) -> Node {
        self.ssl_principal_mapper = mapper;
        self
    }

    /// This node offering `mechanisms` (Kafka's `sasl.enabled.mechanisms`).
    pub fn with_sasl_mechanisms(mut self, mechanisms: SaslMechanisms) -> Node {
        self.sasl_mechanisms = mechanisms;
        self
    }

    /// This node with the authorizer's config and the ACLs the engine publishes.
    pub fn with_acls(mut self, acls: Acls) -> Node {
        self.acls = acls;
        self
    }

    /// This node with `limits` in force.
    pub fn with_limits(mut self, limits: Limits) -> Node {
        self.request_memory = RequestMemory::new(limits.queued_max_request_bytes);
        self.limits = limits;
        self
    }
}
