//! The vocabulary of ACLs with Kafka's codes on the wire and names in text
//! (`org.apache.kafka.common.acl.AclOperation`, `AclPermissionType`,
//! `org.apache.kafka.common.resource.ResourceType`, `PatternType`).

use serde::{Deserialize, Serialize};

/// An ACL operation with its code on the wire (`org.apache.kafka.common.acl.AclOperation`).
/// `Any` only appears in filters; `All` in an ACL grants (or denies) every operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(i8)]
pub enum AclOperation {
    Unknown = 0,
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
}

impl AclOperation {
    /// Every operation, by code.
    pub const ALL: [AclOperation; 15] = [
        AclOperation::Unknown,
        AclOperation::Any,
        AclOperation::All,
        AclOperation::Read,
        AclOperation::Write,
        AclOperation::Create,
        AclOperation::Delete,
        AclOperation::Alter,
        AclOperation::Describe,
        AclOperation::ClusterAction,
        AclOperation::DescribeConfigs,
        AclOperation::AlterConfigs,
        AclOperation::IdempotentWrite,
        AclOperation::CreateTokens,
        AclOperation::DescribeTokens,
    ];

    /// The operation of a wire code; `Unknown` for a code Kafka does not define (as Java's
    /// `AclOperation.fromCode`).
    pub fn from_code(code: i8) -> AclOperation {
        Self::ALL
            .into_iter()
            .find(|op| *op as i8 == code)
            .unwrap_or(AclOperation::Unknown)
    }

    /// Kafka's name, as `kafka-acls.sh` prints it (`Read`, `IdempotentWrite`, ...).
    pub fn name(self) -> &'static str {
        use AclOperation::*;
        match self {
            Unknown => "Unknown",
            Any => "Any",
            All => "All",
            Read => "Read",
            Write => "Write",
            Create => "Create",
            Delete => "Delete",
            Alter => "Alter",
            Describe => "Describe",
            ClusterAction => "ClusterAction",
            DescribeConfigs => "DescribeConfigs",
            AlterConfigs => "AlterConfigs",
            IdempotentWrite => "IdempotentWrite",
            CreateTokens => "CreateTokens",
            DescribeTokens => "DescribeTokens",
        }
    }

    /// The operation `kafka-acls.sh --operation` names, in any case, with or without `_`
    /// (`Read`, `describe_configs`, `IDEMPOTENTWRITE`); `None` for anything else.
    pub fn parse(text: &str) -> Option<AclOperation> {
        let wanted: String = text.chars().filter(|c| *c != '_').collect();
        Self::ALL
            .into_iter()
            .filter(|op| !matches!(op, AclOperation::Unknown | AclOperation::Any))
            .find(|op| op.name().eq_ignore_ascii_case(&wanted))
    }
}

/// A resource type with its code on the wire (`org.apache.kafka.common.resource.ResourceType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(i8)]
pub enum ResourceType {
    Unknown = 0,
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

impl ResourceType {
    const ALL: [ResourceType; 8] = [
        ResourceType::Unknown,
        ResourceType::Any,
        ResourceType::Topic,
        ResourceType::Group,
        ResourceType::Cluster,
        ResourceType::TransactionalId,
        ResourceType::DelegationToken,
        ResourceType::User,
    ];

    /// The resource type of a wire code; `Unknown` for an undefined one.
    pub fn from_code(code: i8) -> ResourceType {
        Self::ALL
            .into_iter()
            .find(|t| *t as i8 == code)
            .unwrap_or(ResourceType::Unknown)
    }

    /// Kafka's name (`Topic`, `Group`, `Cluster`, `TransactionalId`, ...), as printed by
    /// `kafka-acls.sh` in `ResourcePattern(resourceType=TOPIC, ...)` upper-cased.
    pub fn name(self) -> &'static str {
        use ResourceType::*;
        match self {
            Unknown => "UNKNOWN",
            Any => "ANY",
            Topic => "TOPIC",
            Group => "GROUP",
            Cluster => "CLUSTER",
            TransactionalId => "TRANSACTIONAL_ID",
            DelegationToken => "DELEGATION_TOKEN",
            User => "USER",
        }
    }

    /// The operations that apply to this resource type (Kafka's `AclEntry.supportedOperations`;
    /// none for `Any` and `Unknown`).
    pub fn supported_operations(self) -> &'static [AclOperation] {
        use AclOperation::*;
        match self {
            ResourceType::Topic => &[
                Read,
                Write,
                Create,
                Describe,
                Delete,
                Alter,
                DescribeConfigs,
                AlterConfigs,
            ],
            ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
            ResourceType::Cluster => &[
                Create,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
                Alter,
                Describe,
            ],
            ResourceType::TransactionalId => &[Describe, Write],
            ResourceType::DelegationToken => &[Describe],
            ResourceType::User => &[CreateTokens, DescribeTokens],
            ResourceType::Any | ResourceType::Unknown => &[],
        }
    }

    /// What a broker without an authorizer answers as the caller's authorized operations on
    /// a resource of this type: every supported operation, as a bit field with bit `n` set
    /// for the operation whose code is `n` (Kafka's `Utils.to32BitField`).
    pub fn authorized_operations(self) -> i32 {
        bit_field(self.supported_operations().iter().copied())
    }
}

/// Operations as Kafka's KIP-430 bit field: bit `n` set for the operation whose code is `n`.
pub fn bit_field(operations: impl IntoIterator<Item = AclOperation>) -> i32 {
    operations
        .into_iter()
        .fold(0, |bits, op| bits | (1 << op as u8))
}

/// How an ACL's resource name is matched (`org.apache.kafka.common.resource.PatternType`,
/// KIP-290). `Literal` and `Prefixed` are stored; `Any` and `Match` only filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(i8)]
pub enum PatternType {
    Unknown = 0,
    /// A filter: ACLs of any pattern type with exactly the filter's name.
    Any = 1,
    /// A filter: the ACLs that would apply to a resource of the filter's name (literal of
    /// that name, literal `*`, prefixed by a prefix of it).
    Match = 2,
    /// The resource's exact name, or `*` for every resource of the type.
    Literal = 3,
    /// Every resource whose name starts with the ACL's name.
    Prefixed = 4,
}

impl PatternType {
    /// The pattern type of a wire code; `Unknown` for an undefined one.
    pub fn from_code(code: i8) -> PatternType {
        [
            PatternType::Any,
            PatternType::Match,
            PatternType::Literal,
            PatternType::Prefixed,
        ]
        .into_iter()
        .find(|t| *t as i8 == code)
        .unwrap_or(PatternType::Unknown)
    }

    /// Kafka's name (`LITERAL`, `PREFIXED`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PatternType::Unknown => "UNKNOWN",
            PatternType::Any => "ANY",
            PatternType::Match => "MATCH",
            PatternType::Literal => "LITERAL",
            PatternType::Prefixed => "PREFIXED",
        }
    }
}

/// Allow or deny (`org.apache.kafka.common.acl.AclPermissionType`); `Any` only in filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(i8)]
pub enum PermissionType {
    Unknown = 0,
    Any = 1,
    Deny = 2,
    Allow = 3,
}

impl PermissionType {
    /// The permission type of a wire code; `Unknown` for an undefined one.
    pub fn from_code(code: i8) -> PermissionType {
        [
            PermissionType::Any,
            PermissionType::Deny,
            PermissionType::Allow,
        ]
        .into_iter()
        .find(|t| *t as i8 == code)
        .unwrap_or(PermissionType::Unknown)
    }

    /// Kafka's name (`ALLOW`, `DENY`), as `kafka-acls.sh` prints it.
    pub fn name(self) -> &'static str {
        match self {
            PermissionType::Unknown => "UNKNOWN",
            PermissionType::Any => "ANY",
            PermissionType::Deny => "DENY",
            PermissionType::Allow => "ALLOW",
        }
    }
}
