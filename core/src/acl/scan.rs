//! The straightforward decision: every ACL is looked at for every check. It is what
//! [`super::Authorizer::authorize`] decided before the ACLs were indexed by resource, and stays
//! as the reference the index is tested against (`acl::tests`) and measured against
//! (`cargo bench -p partita-core --bench acl`).

use super::authorizer::{Decision, applies_to};
use super::index::AclMap;
use super::types::{AclOperation, ResourceType};
use super::{AuthorizerConfig, Caller};

/// Whether `caller` may do `operation` on the resource of `resource_type` named `name`,
/// looking at each of `acls` in turn (same answers as [`super::Authorizer::authorize`]).
pub fn authorize(
    config: &AuthorizerConfig,
    acls: &AclMap,
    caller: &Caller,
    operation: AclOperation,
    resource_type: ResourceType,
    name: &str,
) -> bool {
    if !config.enabled || config.super_users.contains(&caller.principal) {
        return true;
    }
    let mut decision = Decision::new(caller, operation);
    let flow = acls
        .values()
        .filter(|acl| acl.resource_type == resource_type && applies_to(acl, name))
        .try_for_each(|acl| decision.visit(acl));
    decision.result(flow, config)
}
