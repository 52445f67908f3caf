//! The group leader's part of a rebalance: read every member's subscription from its JoinGroup
//! metadata, run the assignor, and encode one assignment per member for SyncGroup. This is
//! what the simulated consumers' leader does, as a Java or librdkafka leader would.

use super::consumer_protocol::{Assignment, Subscription, VERSION_MAX};
use super::{AssignorKind, DecodeError, MemberSubscription, TopicPartitionCounts};

/// Assigns `topics` among `members` (member id, consumer-protocol subscription bytes), and
/// returns each member's encoded assignment, in member order. Assignments are written at the
/// lowest subscription version in the group, so that the oldest client can read its own.
pub fn assign_from_metadata(
    kind: AssignorKind,
    topics: &TopicPartitionCounts,
    members: &[(&str, &[u8])],
) -> Result<Vec<(String, Vec<u8>)>, DecodeError> {
    let subscriptions: Vec<Subscription> = members
        .iter()
        .map(|(_, metadata)| Subscription::decode(metadata))
        .collect::<Result<_, _>>()?;
    let version = subscriptions
        .iter()
        .map(|s| s.version)
        .min()
        .unwrap_or(VERSION_MAX);
    let inputs: Vec<MemberSubscription> = members
        .iter()
        .zip(&subscriptions)
        .map(|((id, _), s)| s.to_member(id))
        .collect();
    let assignment = kind.assign(topics, &inputs);
    Ok(members
        .iter()
        .map(|(id, _)| {
            let mut encoded = Assignment::new(&assignment[*id]);
            encoded.version = version;
            (id.to_string(), encoded.encode())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignor::TopicPartition;

    #[test]
    fn decodes_assigns_and_encodes() {
        let a = Subscription::new(vec!["t".into()]).encode();
        let mut old = Subscription::new(vec!["t".into()]);
        old.version = 1;
        let b = old.encode();
        let topics = [("t".to_string(), 3)].into();
        let out =
            assign_from_metadata(AssignorKind::Range, &topics, &[("a", &a), ("b", &b)]).unwrap();
        assert_eq!(out[0].0, "a");
        let first = Assignment::decode(&out[0].1).unwrap();
        assert_eq!(first.version, 1, "written at the oldest member's version");
        assert_eq!(
            first.partitions(),
            vec![TopicPartition::new("t", 0), TopicPartition::new("t", 1)]
        );
        assert_eq!(
            Assignment::decode(&out[1].1).unwrap().partitions(),
            vec![TopicPartition::new("t", 2)]
        );
    }

    #[test]
    fn undecodable_metadata_is_an_error() {
        let topics = [("t".to_string(), 1)].into();
        let result = assign_from_metadata(AssignorKind::Range, &topics, &[("a", &[0xff, 0xff])]);
        assert_eq!(result, Err(DecodeError::UnsupportedVersion(-1)));
    }
}
