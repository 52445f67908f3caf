//! Access control lists with the semantics of Kafka's `StandardAuthorizer` (KIP-801): the
//! vocabulary with Kafka's codes (`types`), ACLs and the filters of DescribeAcls and
//! DeleteAcls (`binding`, KIP-140, prefixed patterns of KIP-290), and the decision
//! (`authorizer`), including the "authorized operations" bit fields that Metadata,
//! DescribeCluster and DescribeGroups answer (KIP-430).
//!
//! The shell decides over an [`AclIndex`] of the ACLs by resource (`index`), so a check looks at
//! the ACLs of its resource only; `scan` is the plain scan of every ACL it is tested against.
//!
//! The ACLs themselves live in the metadata log (`controller::acls`: Kafka's
//! `AccessControlEntryRecord` and `RemoveAccessControlEntryRecord`) and the image holds them;
//! the shell asks [`Authorizer`] with the session's principal and host before it acts.
//!
//! Without an authorizer (`authorizer.class.name` unset) every caller may do everything, and a
//! Kafka broker answers every operation that applies to the resource type as authorized
//! (`AuthHelper.authorizedOperations` with no authorizer returns
//! `AclEntry.supportedOperations`): 8 for a topic, 7 for the cluster, 5 for a group.

mod authorizer;
mod binding;
mod index;
pub mod scan;
mod types;

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod tests;

pub use authorizer::{Authorizer, AuthorizerConfig, Caller, STANDARD_AUTHORIZER};
pub use binding::{
    AclBinding, AclBindingFilter, CLUSTER_NAME, WILDCARD_HOST, WILDCARD_PRINCIPAL,
    WILDCARD_RESOURCE, operation_upper,
};
pub use index::{AclIndex, AclMap};
pub use types::{AclOperation, PatternType, PermissionType, ResourceType, bit_field};
