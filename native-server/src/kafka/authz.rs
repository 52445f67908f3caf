//! Authorization of client requests (KIP-801's `StandardAuthorizer`, decided by the core's
//! `acl::Authorizer`): who the connection is ([`Caller`]: the session's principal and the
//! client's IP address), the ACLs the engine last published ([`SharedAcls`]), and the checks
//! each handler makes before it acts, answering Kafka's codes (TOPIC_, GROUP_, CLUSTER_ and
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
//!
//! The engine thread owns the metadata image; after every round of work it publishes the
//! image's ACLs here when they changed (`engine::State::publish_acls`), before it sends the
//! answers of that round, so a CreateAcls that was answered is in force for the next request.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use partita_core::acl::{
    AclIndex, AclOperation, Authorizer, AuthorizerConfig, CLUSTER_NAME, Caller, ResourceType,
};

/// The ACLs in force, as the engine last published them (indexed by resource once per change).
pub type SharedAcls = Arc<RwLock<Arc<AclIndex>>>;

/// Kafka's principal of a connection that did not authenticate (PLAINTEXT, or SSL without a
/// client certificate).
pub use crate::tls::principal::ANONYMOUS;

/// The caller of a connection: `User:<name>` after a SASL login, else the TLS client
/// certificate's principal, else `User:ANONYMOUS`; the host is the client's IP address as
/// Kafka prints it (`InetAddress.getHostAddress`).
pub fn caller(sasl_user: Option<&str>, tls_principal: Option<&str>, ip: IpAddr) -> Caller {
    let principal = match (sasl_user, tls_principal) {
        (Some(user), _) => format!("User:{user}"),
        (None, Some(principal)) => principal.to_string(),
        (None, None) => ANONYMOUS.to_string(),
    };
    Caller {
        principal,
        host: ip.to_canonical().to_string(),
    }
}

/// The authorizer's config and the published ACLs, shared by every connection.
pub struct Acls {
    pub config: Arc<AuthorizerConfig>,
    pub current: SharedAcls,
}

impl Acls {
    pub fn new(config: AuthorizerConfig, current: SharedAcls) -> Acls {
        Acls {
            config: Arc::new(config),
            current,
        }
    }

    /// The decisions for `caller` over the ACLs in force now.
    pub fn authz(&self, caller: Caller) -> Authz {
        let acls = self
            .current
            .read()
            .map(|a| a.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        Authz {
            authorizer: Authorizer {
                config: self.config.clone(),
                acls,
            },
            caller,
        }
    }
}

/// One request's authorization: the caller and a snapshot of the ACLs (cheap to clone, so it
/// can go into an engine closure).
#[derive(Clone, Debug)]
pub struct Authz {
    pub authorizer: Authorizer,
    pub caller: Caller,
}

impl Authz {
    pub fn allows(&self, operation: AclOperation, resource_type: ResourceType, name: &str) -> bool {
        self.authorizer
            .authorize(&self.caller, operation, resource_type, name)
    }

    pub fn topic(&self, operation: AclOperation, topic: &str) -> bool {
        self.allows(operation, ResourceType::Topic, topic)
    }

    pub fn group(&self, operation: AclOperation, group: &str) -> bool {
        self.allows(operation, ResourceType::Group, group)
    }

    pub fn cluster(&self, operation: AclOperation) -> bool {
        self.allows(operation, ResourceType::Cluster, CLUSTER_NAME)
    }

    pub fn transactional_id(&self, operation: AclOperation, id: &str) -> bool {
        self.allows(operation, ResourceType::TransactionalId, id)
    }

    /// `operation` on some resource of the type (KIP-679's `authorizeByResourceType`).
    pub fn any(&self, operation: AclOperation, resource_type: ResourceType) -> bool {
        self.authorizer
            .authorize_any(&self.caller, operation, resource_type)
    }

    /// KIP-430's bit field for the resource: every supported operation without an
    /// authorizer, else those the ACLs allow the caller, and 0 when it may not even Describe
    /// the resource (as Kafka's `handleDescribeCluster` and Metadata answer).
    pub fn operations(&self, resource_type: ResourceType, name: &str) -> i32 {
        if !self.authorizer.enabled() {
            resource_type.authorized_operations()
        } else if !self.allows(AclOperation::Describe, resource_type, name) {
            0
        } else {
            self.authorizer
                .authorized_operations(&self.caller, resource_type, name)
        }
    }

    /// Create on the cluster or on the topic (Kafka's CreateTopics and auto-creation).
    pub fn create_topic(&self, topic: &str) -> bool {
        self.cluster(AclOperation::Create) || self.topic(AclOperation::Create, topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_by_how_the_connection_authenticated() {
        let ip: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(caller(None, None, ip).principal, "User:ANONYMOUS");
        assert_eq!(caller(None, None, ip).host, "10.1.2.3");
        assert_eq!(
            caller(Some("alice"), Some("User:CN=x"), ip).principal,
            "User:alice"
        );
        assert_eq!(caller(None, Some("User:CN=x"), ip).principal, "User:CN=x");
    }
}
