//! Partition assignors: range, roundrobin, cooperative-sticky.
//!
//! In Kafka's classic protocol the *group leader* (a consumer, not the broker) computes the
//! assignment: the coordinator forwards every member's subscription to the leader in its
//! JoinGroup response, and the leader sends one assignment per member back in SyncGroup. The
//! simulated consumers of the playground and the simulator run these assignors; the server only
//! needs [`consumer_protocol`] to read the subscriptions and assignments real clients exchange
//! (for `describe` and lag).
//!
//! Eager assignors (range, roundrobin) start from scratch each time, so every member revokes
//! everything before it rejoins. The cooperative-sticky assignor keeps partitions with their
//! previous owners and moves only what balance requires, in two rebalances: see
//! [`RebalanceProtocol`].

pub mod consumer_protocol;
mod leader;
mod range;
mod rebalance;
mod round_robin;
mod sticky;
pub(crate) mod wire;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod test_support;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use leader::assign_from_metadata;
pub use rebalance::RebalanceProtocol;
pub use wire::DecodeError;

/// One partition of one topic. Orders by topic, then partition: the order Kafka's assignors
/// iterate in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> TopicPartition {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

/// What the leader knows of one member when it assigns: its id, the topics it subscribed to,
/// and (for the sticky assignor) what it owned in the generation it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSubscription {
    pub member_id: String,
    pub topics: Vec<String>,
    pub owned: Vec<TopicPartition>,
    /// The generation `owned` is from (subscription v2+); `None` when the member did not say.
    pub generation: Option<i32>,
}

/// The partitions of each topic the group consumes: topic name to partition count.
pub type TopicPartitionCounts = BTreeMap<String, i32>;

/// The outcome: every member's id to its partitions, sorted. Every member appears, an idle
/// one with no partitions.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// The assignors of the Java client and librdkafka, by their protocol names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssignorKind {
    Range,
    RoundRobin,
    CooperativeSticky,
}

impl AssignorKind {
    /// The protocol name a member offers in JoinGroup (`partition.assignment.strategy`).
    pub fn name(self) -> &'static str {
        match self {
            AssignorKind::Range => "range",
            AssignorKind::RoundRobin => "roundrobin",
            AssignorKind::CooperativeSticky => "cooperative-sticky",
        }
    }

    pub fn from_name(name: &str) -> Option<AssignorKind> {
        [
            AssignorKind::Range,
            AssignorKind::RoundRobin,
            AssignorKind::CooperativeSticky,
        ]
        .into_iter()
        .find(|kind| kind.name() == name)
    }

    /// Whether members revoke everything before a rebalance or only what moves.
    pub fn protocol(self) -> RebalanceProtocol {
        match self {
            AssignorKind::Range | AssignorKind::RoundRobin => RebalanceProtocol::Eager,
            AssignorKind::CooperativeSticky => RebalanceProtocol::Cooperative,
        }
    }

    /// Assigns the partitions of `topics` to `members`. Topics a member subscribed to but that
    /// do not exist are ignored.
    pub fn assign(
        self,
        topics: &TopicPartitionCounts,
        members: &[MemberSubscription],
    ) -> Assignment {
        let mut assignment = match self {
            AssignorKind::Range => range::assign(topics, members),
            AssignorKind::RoundRobin => round_robin::assign(topics, members),
            AssignorKind::CooperativeSticky => sticky::assign_cooperative(topics, members),
        };
        for partitions in assignment.values_mut() {
            partitions.sort();
        }
        assert_no_partition_twice(&assignment);
        assignment
    }
}

/// The invariant of every assignor: a partition has at most one owner.
fn assert_no_partition_twice(assignment: &Assignment) {
    let mut seen = BTreeSet::new();
    for (member, partitions) in assignment {
        for partition in partitions {
            assert!(
                seen.insert(partition),
                "{partition:?} assigned twice (again to {member})"
            );
        }
    }
}

/// An empty assignment with one entry per member.
fn empty_assignment(members: &[MemberSubscription]) -> Assignment {
    members
        .iter()
        .map(|m| (m.member_id.clone(), Vec::new()))
        .collect()
}
