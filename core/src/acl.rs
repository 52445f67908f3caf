//! Kafka's ACL operations and the resource types they apply to, for the "authorized
//! operations" that Metadata, DescribeCluster and DescribeGroups answer (KIP-430).
//!
//! Partita has no authorizer, and a Kafka broker without one answers every operation that
//! applies to the resource type (`AuthHelper.authorizedOperations` with no authorizer returns
//! `AclEntry.supportedOperations`): 8 for a topic, 7 for the cluster, 5 for a group (Kafka
//! 4.x, which added group configs). The answer is a bit field with bit `n` set for the
//! operation whose code is `n` (Kafka's `Utils.to32BitField`).

/// An ACL operation with its code on the wire (`org.apache.kafka.common.acl.AclOperation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AclOperation {
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
}

/// The resource types that carry authorized operations in Partita's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceType {
    Topic,
    Group,
    Cluster,
}

impl ResourceType {
    /// The operations that apply to this resource type (Kafka's `AclEntry.supportedOperations`).
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
        }
    }

    /// What a broker without an authorizer answers as the caller's authorized operations on
    /// a resource of this type: every supported operation, as a bit field.
    pub fn authorized_operations(self) -> i32 {
        self.supported_operations()
            .iter()
            .fold(0, |bits, &op| bits | (1 << op as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_fields_match_kafka_without_an_authorizer() {
        // READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10,
        // ALTER_CONFIGS 11.
        assert_eq!(
            ResourceType::Topic.authorized_operations(),
            0b1101_1111_1000
        );
        // CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
        // ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
        assert_eq!(
            ResourceType::Cluster.authorized_operations(),
            0b1_1111_1010_0000
        );
        // READ 3, DELETE 6, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11.
        assert_eq!(
            ResourceType::Group.authorized_operations(),
            0b1101_0100_1000
        );
        let counts: Vec<u32> = [
            ResourceType::Topic,
            ResourceType::Cluster,
            ResourceType::Group,
        ]
        .iter()
        .map(|r| r.authorized_operations().count_ones())
        .collect();
        assert_eq!(counts, [8, 7, 5]);
    }
}
