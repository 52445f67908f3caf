//! The decision: may this principal, from this host, do this operation on this resource?
//! Kafka's `StandardAuthorizer` (KIP-801, `StandardAuthorizerData.authorize`) over the ACLs the
//! metadata image holds:
//! - a super user (`super.users`) may do everything;
//! - the ACLs that apply to a resource are the literal ones of its name, the literal `*` of
//!   its type and the prefixed ones whose name starts its name (KIP-290); of those, an ACL
//!   counts when its principal is the caller's or `User:*` and its host the caller's or `*`;
//! - a DENY of the operation (or of `All`) wins over any ALLOW;
//! - an ALLOW of the operation or of `All` allows it; Describe is also allowed by Read,
//!   Write, Delete and Alter, DescribeConfigs by AlterConfigs;
//! - when no ACL at all applies to the resource, `allow.everyone.if.no.acl.found` decides
//!   (false by default: denied).

use std::ops::ControlFlow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::binding::{AclBinding, WILDCARD_HOST, WILDCARD_PRINCIPAL, WILDCARD_RESOURCE};
use super::index::AclIndex;
use super::types::{AclOperation, PatternType, PermissionType, ResourceType, bit_field};

/// Kafka's class name that turns the authorizer on (`authorizer.class.name`).
pub const STANDARD_AUTHORIZER: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

/// The authorizer's broker configs, with Kafka's names: `authorizer.class.name` (only
/// [`STANDARD_AUTHORIZER`], or empty for none), `super.users` (principals separated by `;`)
/// and `allow.everyone.if.no.acl.found`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizerConfig {
    /// `authorizer.class.name` names the standard authorizer. Off: every caller may do
    /// everything, as a Kafka broker without an authorizer.
    pub enabled: bool,
    pub super_users: Vec<String>,
    pub allow_everyone_if_no_acl_found: bool,
}

impl AuthorizerConfig {
    /// The config names this struct takes.
    pub const NAMES: [&'static str; 3] = [
        "authorizer.class.name",
        "super.users",
        "allow.everyone.if.no.acl.found",
    ];

    /// Sets one config; an error names what is wrong with the value.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "authorizer.class.name" => match value.trim() {
                "" => self.enabled = false,
                STANDARD_AUTHORIZER => self.enabled = true,
                other => {
                    return Err(format!(
                        "Invalid value {other} for configuration authorizer.class.name: only {STANDARD_AUTHORIZER} is supported"
                    ));
                }
            },
            "super.users" => {
                let mut users = Vec::new();
                for user in value.split(';').map(str::trim).filter(|u| !u.is_empty()) {
                    if !user.contains(':') {
                        return Err(format!(
                            "Invalid value {value} for configuration super.users: {user} is not a principal (Type:name)"
                        ));
                    }
                    users.push(user.to_string());
                }
                self.super_users = users;
            }
            "allow.everyone.if.no.acl.found" => {
                self.allow_everyone_if_no_acl_found = match value
                    .trim()
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(format!(
                            "Invalid value {value} for configuration allow.everyone.if.no.acl.found: Expected value to be either true or false"
                        ));
                    }
                }
            }
            other => return Err(format!("{other} is not an authorizer config")),
        }
        Ok(())
    }
}

/// Who asks: the session's principal (`User:alice`, `User:ANONYMOUS`) and the client's IP
/// address as text (`127.0.0.1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub principal: String,
    pub host: String,
}

/// The authorizer's config and the ACLs it decides by, indexed by resource (shared, so a copy
/// per request is cheap).
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    pub config: Arc<AuthorizerConfig>,
    pub acls: Arc<AclIndex>,
}

impl Authorizer {
    /// Whether the authorizer is on (`authorizer.class.name` set).
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn is_super_user(&self, caller: &Caller) -> bool {
        self.config.super_users.contains(&caller.principal)
    }

    /// Whether `caller` may do `operation` on the resource of `resource_type` named `name`
    /// (always, with the authorizer off).
    pub fn authorize(
        &self,
        caller: &Caller,
        operation: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        if !self.enabled() || self.is_super_user(caller) {
            return true;
        }
        let mut decision = Decision::new(caller, operation);
        let flow = self
            .acls
            .for_each_applicable(resource_type, name, |acl| decision.visit(acl));
        decision.result(flow, &self.config)
    }

    /// Whether `caller` may do `operation` on at least one resource of `resource_type`
    /// (Kafka's `Authorizer.authorizeByResourceType`, KIP-679: an idempotent producer needs
    /// IdempotentWrite on the cluster or Write on some topic). An ALLOW counts unless a DENY
    /// of the same literal name or of a prefix of its name covers it; a DENY of literal `*`
    /// denies all.
    pub fn authorize_any(
        &self,
        caller: &Caller,
        operation: AclOperation,
        resource_type: ResourceType,
    ) -> bool {
        // A name no ACL is likely to name: super users, allow-everyone and `*` pass here.
        if self.authorize(caller, operation, resource_type, "hardcode") {
            return true;
        }
        let mut deny_literal = Vec::new();
        let mut deny_prefixed = Vec::new();
        let mut allow = Vec::new();
        for acl in self.acls.of_type(resource_type) {
            if acl.resource_type != resource_type
                || !caller_matches(acl, caller)
                || (acl.operation != operation && acl.operation != AclOperation::All)
            {
                continue;
            }
            match (acl.permission, acl.pattern_type) {
                (PermissionType::Deny, PatternType::Literal)
                    if acl.resource_name == WILDCARD_RESOURCE =>
                {
                    return false;
                }
                (PermissionType::Deny, PatternType::Literal) => deny_literal.push(acl),
                (PermissionType::Deny, PatternType::Prefixed) => deny_prefixed.push(acl),
                (PermissionType::Allow, PatternType::Literal)
                    if acl.resource_name == WILDCARD_RESOURCE =>
                {
                    return true;
                }
                (PermissionType::Allow, _) => allow.push(acl),
                _ => {}
            }
        }
        allow.iter().any(|a| {
            let literal_denied = a.pattern_type == PatternType::Literal
                && deny_literal
                    .iter()
                    .any(|d| d.resource_name == a.resource_name);
            let prefix_denied = deny_prefixed
                .iter()
                .any(|d| a.resource_name.starts_with(&d.resource_name));
            !literal_denied && !prefix_denied
        })
    }

    /// The operations `caller` may do on the resource, as KIP-430's bit field (Kafka's
    /// `AuthHelper.authorizedOperations`): each supported operation that [`Self::authorize`]
    /// allows.
    pub fn authorized_operations(
        &self,
        caller: &Caller,
        resource_type: ResourceType,
        name: &str,
    ) -> i32 {
        bit_field(
            resource_type
                .supported_operations()
                .iter()
                .copied()
                .filter(|&op| self.authorize(caller, op, resource_type, name)),
        )
    }
}

/// The decision over the ACLs that apply to one resource, visited in any order: a DENY of the
/// operation (or of `All`) by an ACL that matches the caller ends it (denied); an ALLOW that
/// grants the operation allows it; whether any ACL applied at all decides
/// `allow.everyone.if.no.acl.found`.
pub(super) struct Decision<'a> {
    caller: &'a Caller,
    operation: AclOperation,
    found_resource_acl: bool,
    allowed: bool,
}

impl<'a> Decision<'a> {
    pub(super) fn new(caller: &'a Caller, operation: AclOperation) -> Decision<'a> {
        Decision {
            caller,
            operation,
            found_resource_acl: false,
            allowed: false,
        }
    }

    /// Takes one ACL that applies to the resource; breaks on a DENY that decides.
    pub(super) fn visit(&mut self, acl: &AclBinding) -> ControlFlow<()> {
        self.found_resource_acl = true;
        if !caller_matches(acl, self.caller) {
            return ControlFlow::Continue(());
        }
        match acl.permission {
            PermissionType::Deny
                if acl.operation == AclOperation::All || acl.operation == self.operation =>
            {
                return ControlFlow::Break(());
            }
            PermissionType::Allow if allow_grants(acl.operation, self.operation) => {
                self.allowed = true
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// The answer once every applicable ACL was visited (or a DENY broke the walk).
    pub(super) fn result(self, flow: ControlFlow<()>, config: &AuthorizerConfig) -> bool {
        flow.is_continue()
            && (self.allowed || (!self.found_resource_acl && config.allow_everyone_if_no_acl_found))
    }
}

/// Whether the ACL's pattern covers the resource named `name`.
pub(super) fn applies_to(acl: &AclBinding, name: &str) -> bool {
    match acl.pattern_type {
        PatternType::Literal => acl.resource_name == name || acl.resource_name == WILDCARD_RESOURCE,
        PatternType::Prefixed => name.starts_with(&acl.resource_name),
        _ => false,
    }
}

fn caller_matches(acl: &AclBinding, caller: &Caller) -> bool {
    (acl.principal == caller.principal || acl.principal == WILDCARD_PRINCIPAL)
        && (acl.host == WILDCARD_HOST || acl.host == caller.host)
}

/// Whether an ALLOW of `granted` allows `wanted` (Kafka's implied operations).
fn allow_grants(granted: AclOperation, wanted: AclOperation) -> bool {
    use AclOperation::*;
    granted == All
        || granted == wanted
        || (wanted == Describe && matches!(granted, Read | Write | Delete | Alter))
        || (wanted == DescribeConfigs && granted == AlterConfigs)
}
