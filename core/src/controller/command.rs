//! A controller command as plain data, so a broker can forward it to the active controller
//! (KIP-590: brokers forward the admin requests that change metadata, Kafka's
//! `ForwardingManager`). Each variant is one resource of a client's request after the
//! receiving broker's own checks (Kafka's `ConfigAdminManager.preprocess`), exactly what the
//! controller's command of the same name takes.

use std::collections::BTreeMap;

use super::machine::Controller;
use super::records::{BrokerId, MetadataRecord};
use super::scram::ScramCredentialOp;
use super::topic_configs::AlterConfigOp;
use super::topics::CreateTopic;
use crate::ErrorCode;
use crate::acl::{AclBinding, AclBindingFilter};

/// One resource of an admin request that only the active controller can run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ControllerCommand {
    /// IncrementalAlterConfigs on a topic ([`Controller::incremental_alter_topic_configs`]).
    IncrementalAlterTopicConfigs {
        topic: String,
        ops: Vec<(String, AlterConfigOp)>,
    },
    /// IncrementalAlterConfigs on a broker's dynamic configs (`resource` = its id) or the
    /// cluster default (`""`) ([`Controller::incremental_alter_broker_configs`]).
    IncrementalAlterBrokerConfigs {
        resource: String,
        ops: Vec<(String, AlterConfigOp)>,
    },
    /// The legacy AlterConfigs (API 33) on a topic: `configs` replace its overrides.
    LegacyAlterTopicConfigs {
        topic: String,
        configs: BTreeMap<String, String>,
    },
    /// The legacy AlterConfigs on a broker or the cluster default.
    LegacyAlterBrokerConfigs {
        resource: String,
        configs: BTreeMap<String, String>,
    },
    /// CreateTopics, one topic.
    CreateTopic { topic: CreateTopic },
    /// DeleteTopics, one topic.
    DeleteTopic { topic: String },
    /// CreatePartitions: `count` is the new total; `assignment` one broker list per new
    /// partition.
    CreatePartitions {
        topic: String,
        count: u32,
        assignment: Option<Vec<Vec<BrokerId>>>,
    },
    /// AlterUserScramCredentials, one user's changes
    /// ([`Controller::alter_user_scram_credentials`], KIP-554).
    AlterUserScramCredentials {
        user: String,
        ops: Vec<ScramCredentialOp>,
    },
    /// CreateAcls, one ACL ([`Controller::create_acl`]).
    CreateAcl { acl: AclBinding },
    /// DeleteAcls, one filter: every ACL it selects ([`Controller::delete_acls`]).
    DeleteAcls { filter: AclBindingFilter },
}

impl ControllerCommand {
    /// Runs the command on `controller`: the records to commit, or Kafka's error code and
    /// message for the client.
    pub fn run(
        &self,
        controller: &mut Controller,
    ) -> Result<Vec<MetadataRecord>, (ErrorCode, String)> {
        fn refused(e: impl std::fmt::Display, code: ErrorCode) -> (ErrorCode, String) {
            (code, e.to_string())
        }
        match self {
            ControllerCommand::IncrementalAlterTopicConfigs { topic, ops } => controller
                .incremental_alter_topic_configs(topic, ops)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::IncrementalAlterBrokerConfigs { resource, ops } => controller
                .incremental_alter_broker_configs(resource, ops)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::LegacyAlterTopicConfigs { topic, configs } => controller
                .legacy_alter_topic_configs(topic, configs)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::LegacyAlterBrokerConfigs { resource, configs } => controller
                .legacy_alter_broker_configs(resource, configs)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::CreateTopic { topic } => controller
                .create_topic(topic)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::DeleteTopic { topic } => controller
                .delete_topic(topic)
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::CreatePartitions {
                topic,
                count,
                assignment,
            } => controller
                .create_partitions(topic, *count, assignment.as_deref())
                .map_err(|e| refused(&e, e.code())),
            ControllerCommand::AlterUserScramCredentials { user, ops } => {
                controller.alter_user_scram_credentials(user, ops)
            }
            ControllerCommand::CreateAcl { acl } => controller.create_acl(acl),
            ControllerCommand::DeleteAcls { filter } => controller.delete_acls(filter),
        }
    }

    /// Kafka's name of the request the command comes from, for traces.
    pub fn name(&self) -> &'static str {
        match self {
            ControllerCommand::IncrementalAlterTopicConfigs { .. }
            | ControllerCommand::IncrementalAlterBrokerConfigs { .. } => "IncrementalAlterConfigs",
            ControllerCommand::LegacyAlterTopicConfigs { .. }
            | ControllerCommand::LegacyAlterBrokerConfigs { .. } => "AlterConfigs",
            ControllerCommand::CreateTopic { .. } => "CreateTopics",
            ControllerCommand::DeleteTopic { .. } => "DeleteTopics",
            ControllerCommand::CreatePartitions { .. } => "CreatePartitions",
            ControllerCommand::AlterUserScramCredentials { .. } => "AlterUserScramCredentials",
            ControllerCommand::CreateAcl { .. } => "CreateAcls",
            ControllerCommand::DeleteAcls { .. } => "DeleteAcls",
        }
    }
}
