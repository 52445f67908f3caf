//! Helpers shared by the assignors' tests.

use super::{MemberSubscription, TopicPartition};

/// A member of generation-less subscription to `topics`, owning nothing.
pub fn member(id: &str, topics: &[&str]) -> MemberSubscription {
    MemberSubscription {
        member_id: id.into(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        owned: vec![],
        generation: None,
    }
}

/// `topic-partition` names, for readable assertions.
pub fn names(partitions: &[TopicPartition]) -> Vec<String> {
    partitions
        .iter()
        .map(|tp| format!("{}-{}", tp.topic, tp.partition))
        .collect()
}
