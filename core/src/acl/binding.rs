//! ACLs and the filters that select them (Kafka's `AclBinding`, `AclBindingFilter`,
//! `ResourcePatternFilter`, `AccessControlEntryFilter`), with the checks the controller makes
//! before it stores one (`AclControlManager.validateNewAcl`, `validateFilter`): what fails
//! them is answered INVALID_REQUEST with Kafka's message.

use serde::{Deserialize, Serialize};

use super::types::{AclOperation, PatternType, PermissionType, ResourceType};

/// The resource name that, as a literal pattern, stands for every resource of its type.
pub const WILDCARD_RESOURCE: &str = "*";
/// The principal that stands for every user (`User:*`).
pub const WILDCARD_PRINCIPAL: &str = "User:*";
/// The host that stands for every host.
pub const WILDCARD_HOST: &str = "*";
/// The one name of the cluster resource (Kafka's `CLUSTER_NAME`).
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// One ACL: who (principal, host) may or may not (permission) do what (operation) on which
/// resources (type, name, pattern type). As stored: the pattern type is `Literal` or
/// `Prefixed`, the operation and the permission are concrete.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    /// `Type:name`, e.g. `User:alice`, or `User:*`.
    pub principal: String,
    /// An IP address as the client's connection shows it, or `*`.
    pub host: String,
    pub operation: AclOperation,
    pub permission: PermissionType,
}

impl AclBinding {
    /// Why the controller refuses to store this ACL, if it does (Kafka's
    /// `AclControlManager.validateNewAcl`, and the cluster's one name): the message for an
    /// INVALID_REQUEST.
    pub fn invalid(&self) -> Option<String> {
        if matches!(
            self.resource_type,
            ResourceType::Any | ResourceType::Unknown
        ) {
            return Some(format!(
                "Invalid resourceType {}",
                self.resource_type.name()
            ));
        }
        if !matches!(
            self.pattern_type,
            PatternType::Literal | PatternType::Prefixed
        ) {
            return Some(format!("Invalid patternType {}", self.pattern_type.name()));
        }
        if matches!(self.operation, AclOperation::Any | AclOperation::Unknown) {
            return Some(format!("Invalid operation {}", self.operation.name()));
        }
        if !matches!(
            self.permission,
            PermissionType::Allow | PermissionType::Deny
        ) {
            return Some(format!("Invalid permissionType {}", self.permission.name()));
        }
        if self.resource_name.is_empty() {
            return Some("Resource name should not be empty".to_string());
        }
        if self.resource_type == ResourceType::Cluster && self.resource_name != CLUSTER_NAME {
            return Some(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            ));
        }
        if !self.principal.contains(':') {
            return Some(format!(
                "Could not parse principal from `{}` (no colon is present separating the principal type from the principal name)",
                self.principal
            ));
        }
        if self.host.is_empty() {
            return Some("Host should not be empty".to_string());
        }
        None
    }

    /// Kafka's `AclBinding.toString`'s halves as `kafka-acls.sh` prints them: the resource
    /// (`ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`).
    pub fn pattern_text(&self) -> String {
        format!(
            "ResourcePattern(resourceType={}, name={}, patternType={})",
            self.resource_type.name(),
            self.resource_name,
            self.pattern_type.name()
        )
    }

    /// The entry as `kafka-acls.sh` prints it: `(principal=User:alice, host=*,
    /// operation=READ, permissionType=ALLOW)`.
    pub fn entry_text(&self) -> String {
        format!(
            "(principal={}, host={}, operation={}, permissionType={})",
            self.principal,
            self.host,
            operation_upper(self.operation),
            self.permission.name()
        )
    }
}

/// An operation's enum name as Java prints it (`READ`, `DESCRIBE_CONFIGS`).
pub fn operation_upper(op: AclOperation) -> String {
    let mut out = String::new();
    for (i, c) in op.name().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// What DescribeAcls and DeleteAcls select: every field may be "any" (`None`, or the `Any`
/// value of its type). Principal and host match exactly (a filter for `User:alice` does not
/// select the ACLs of `User:*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclBindingFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: AclOperation,
    pub permission: PermissionType,
}

impl AclBindingFilter {
    /// The filter that selects every ACL.
    pub fn any() -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: PermissionType::Any,
        }
    }

    /// Why the filter is refused (INVALID_REQUEST), if it is: a field with a code Kafka
    /// does not define (`AclControlManager.validateFilter`).
    pub fn invalid(&self) -> Option<&'static str> {
        if self.resource_type == ResourceType::Unknown || self.pattern_type == PatternType::Unknown
        {
            Some("Unknown patternFilter.")
        } else if self.operation == AclOperation::Unknown
            || self.permission == PermissionType::Unknown
        {
            Some("Unknown entryFilter.")
        } else {
            None
        }
    }

    /// Whether `acl` is selected (Kafka's `AclBindingFilter.matches`).
    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl)
            && self.principal.as_ref().is_none_or(|p| *p == acl.principal)
            && self.host.as_ref().is_none_or(|h| *h == acl.host)
            && (self.operation == AclOperation::Any || self.operation == acl.operation)
            && (self.permission == PermissionType::Any || self.permission == acl.permission)
    }

    /// `ResourcePatternFilter.matches`: `Match` selects the ACLs that apply to a resource of
    /// the filter's name; `Any` the ACLs with exactly that name, of any pattern type.
    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != acl.resource_type {
            return false;
        }
        if !matches!(self.pattern_type, PatternType::Any | PatternType::Match)
            && self.pattern_type != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if self.pattern_type == PatternType::Any || self.pattern_type == acl.pattern_type {
            return *name == acl.resource_name;
        }
        match acl.pattern_type {
            PatternType::Literal => {
                *name == acl.resource_name || acl.resource_name == WILDCARD_RESOURCE
            }
            PatternType::Prefixed => name.starts_with(&acl.resource_name),
            _ => false,
        }
    }
}
