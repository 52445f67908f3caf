//! ACLs in the metadata log (KIP-801: KRaft keeps them as records, Kafka's
//! `AccessControlEntryRecord` and `RemoveAccessControlEntryRecord`), and the controller's
//! commands for CreateAcls and DeleteAcls (Kafka's `AclControlManager`).
//!
//! An ACL's id is the metadata offset of the record that created it (Kafka draws a random
//! UUID; an offset is as unique and keeps replay deterministic).

use serde::{Deserialize, Serialize};

use super::machine::Controller;
use super::records::MetadataRecord;
use crate::ErrorCode;
use crate::acl::{AclBinding, AclBindingFilter};

/// An ACL was created (Kafka's `AccessControlEntryRecord`: id, resource type and name,
/// pattern type, principal, host, operation, permission).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControlEntryRecord {
    pub id: u64,
    pub acl: AclBinding,
}

/// An ACL was deleted (Kafka's `RemoveAccessControlEntryRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveAccessControlEntryRecord {
    pub id: u64,
}

impl Controller {
    /// CreateAcls, one ACL: INVALID_REQUEST with Kafka's message when it cannot be stored; no
    /// record when the same ACL exists already (Kafka answers success then too).
    pub fn create_acl(
        &mut self,
        acl: &AclBinding,
    ) -> Result<Vec<MetadataRecord>, (ErrorCode, String)> {
        if let Some(reason) = acl.invalid() {
            return Err((ErrorCode::INVALID_REQUEST, reason));
        }
        if self.image.acls().values().any(|existing| existing == acl) {
            return Ok(Vec::new());
        }
        let id = self.image.record_count();
        Ok(self.commit(vec![MetadataRecord::AccessControlEntry(
            AccessControlEntryRecord {
                id,
                acl: acl.clone(),
            },
        )]))
    }

    /// DeleteAcls, one filter: a removal record for every ACL it selects (none is an
    /// answer too); INVALID_REQUEST for a filter with an unknown element.
    pub fn delete_acls(
        &mut self,
        filter: &AclBindingFilter,
    ) -> Result<Vec<MetadataRecord>, (ErrorCode, String)> {
        if let Some(reason) = filter.invalid() {
            return Err((ErrorCode::INVALID_REQUEST, reason.to_string()));
        }
        let records = self
            .image
            .acls()
            .iter()
            .filter(|(_, acl)| filter.matches(acl))
            .map(|(&id, _)| {
                MetadataRecord::RemoveAccessControlEntry(RemoveAccessControlEntryRecord { id })
            })
            .collect();
        Ok(self.commit(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{AclOperation, PatternType, PermissionType, ResourceType};
    use crate::config::BrokerConfig;

    fn acl(name: &str) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: name.to_string(),
            pattern_type: PatternType::Literal,
            principal: "User:alice".to_string(),
            host: "*".to_string(),
            operation: AclOperation::Read,
            permission: PermissionType::Allow,
        }
    }

    #[test]
    fn acls_are_records_and_replay_to_the_same_image() {
        let mut controller = Controller::new(BrokerConfig::default(), 1);
        let mut log = Vec::new();
        log.extend(controller.create_acl(&acl("a")).unwrap());
        log.extend(controller.create_acl(&acl("b")).unwrap());
        assert!(
            controller.create_acl(&acl("a")).unwrap().is_empty(),
            "a duplicate"
        );
        let mut bad = acl("c");
        bad.operation = AclOperation::Any;
        assert_eq!(
            controller.create_acl(&bad).unwrap_err().0,
            ErrorCode::INVALID_REQUEST
        );
        let filter = AclBindingFilter {
            resource_name: Some("a".to_string()),
            ..AclBindingFilter::any()
        };
        log.extend(controller.delete_acls(&filter).unwrap());
        let names: Vec<&str> = controller
            .image()
            .acls()
            .values()
            .map(|a| a.resource_name.as_str())
            .collect();
        assert_eq!(names, ["b"]);
        let mut replayed = Controller::new(BrokerConfig::default(), 1);
        for record in &log {
            replayed.image().check(record).unwrap();
            replayed.replay(record);
        }
        assert_eq!(replayed.image(), controller.image());
        // A removal of an ACL that is gone does not fit.
        assert!(replayed.image().check(&log[2]).is_err());
    }
}
