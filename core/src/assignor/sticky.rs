//! The cooperative-sticky assignor (Kafka's `CooperativeStickyAssignor`, librdkafka's
//! `cooperative-sticky`).
//!
//! Sticky: a member keeps what it owned, as far as balance allows; only the partitions needed
//! to even out the counts move, and unowned partitions go to the least-loaded members.
//! Cooperative: a partition that moves from one member to another is left out of *this*
//! assignment altogether, so its old owner revokes it while the new owner does not consume it
//! yet; the old owner then rejoins, and in that follow-up rebalance the partition, now owned by
//! no one, goes to the member balance asks for. No partition is ever consumed by two members.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Assignment, MemberSubscription, TopicPartition, TopicPartitionCounts, empty_assignment,
};

pub(super) fn assign_cooperative(
    topics: &TopicPartitionCounts,
    members: &[MemberSubscription],
) -> Assignment {
    let previous_owner = valid_previous_owners(topics, members);
    let mut assignment = sticky_assign(topics, members, &previous_owner);
    for (member, partitions) in assignment.iter_mut() {
        partitions.retain(|tp| previous_owner.get(tp).is_none_or(|owner| owner == member));
    }
    assignment
}

/// Who owned each partition, among the claims that are still valid: the topic exists, has the
/// partition, and the member still subscribes to it. When two members claim one partition (one
/// of them missed a rebalance), the claim from the later generation wins.
fn valid_previous_owners(
    topics: &TopicPartitionCounts,
    members: &[MemberSubscription],
) -> BTreeMap<TopicPartition, String> {
    let mut by_generation: Vec<&MemberSubscription> = members.iter().collect();
    by_generation.sort_by(|a, b| {
        let generation = |m: &MemberSubscription| m.generation.unwrap_or(-1);
        generation(b)
            .cmp(&generation(a))
            .then_with(|| a.member_id.cmp(&b.member_id))
    });
    let mut owners = BTreeMap::new();
    for member in by_generation {
        for tp in &member.owned {
            let exists = topics
                .get(&tp.topic)
                .is_some_and(|&count| (0..count).contains(&tp.partition));
            if exists && member.topics.contains(&tp.topic) {
                owners
                    .entry(tp.clone())
                    .or_insert_with(|| member.member_id.clone());
            }
        }
    }
    owners
}

/// The balanced sticky assignment, before the cooperative step.
fn sticky_assign(
    topics: &TopicPartitionCounts,
    members: &[MemberSubscription],
    previous_owner: &BTreeMap<TopicPartition, String>,
) -> Assignment {
    let subscriptions: BTreeMap<&str, &[String]> = members
        .iter()
        .map(|m| (m.member_id.as_str(), m.topics.as_slice()))
        .collect();
    let can_take = |member: &str, tp: &TopicPartition| subscriptions[member].contains(&tp.topic);

    // 1. Everyone keeps what it validly owned.
    let mut assignment = empty_assignment(members);
    for (tp, owner) in previous_owner {
        assignment
            .get_mut(owner)
            .expect("owners are members")
            .push(tp.clone());
    }

    // 2. The partitions nobody owns go, in order, to the least-loaded member that can take them.
    let subscribed: BTreeSet<&String> = members.iter().flat_map(|m| &m.topics).collect();
    for (topic, &count) in topics.iter().filter(|(t, _)| subscribed.contains(t)) {
        for partition in 0..count {
            let tp = TopicPartition::new(topic, partition);
            if previous_owner.contains_key(&tp) {
                continue;
            }
            let receiver = assignment
                .iter()
                .filter(|(member, _)| can_take(member, &tp))
                .min_by_key(|(member, owned)| (owned.len(), *member))
                .map(|(member, _)| member.clone())
                .expect("a subscribed topic has a subscriber");
            assignment
                .get_mut(&receiver)
                .expect("receiver is a member")
                .push(tp);
        }
    }

    // 3. Even out: while a member has at least two more than a member that could take one of
    //    its partitions, move its last such partition over. Every move lowers the sum of the
    //    squared counts, so this ends.
    while let Some((giver, receiver, index)) = next_move(&assignment, &can_take) {
        let tp = assignment
            .get_mut(&giver)
            .expect("giver is a member")
            .remove(index);
        assignment
            .get_mut(&receiver)
            .expect("receiver is a member")
            .push(tp);
    }
    assignment
}

/// The next balancing move: from the most loaded member (then lowest id) that has a partition
/// some member with at least two fewer can take, to the least loaded such member (then lowest
/// id). Returns the giver, the receiver and the index of the partition in the giver's list.
fn next_move(
    assignment: &Assignment,
    can_take: &impl Fn(&str, &TopicPartition) -> bool,
) -> Option<(String, String, usize)> {
    let mut givers: Vec<(&String, &Vec<TopicPartition>)> = assignment.iter().collect();
    givers.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
    for (giver, owned) in givers {
        let mut candidates: Vec<(usize, &TopicPartition)> = owned.iter().enumerate().collect();
        candidates.sort_by(|a, b| b.1.cmp(a.1));
        for (index, tp) in candidates {
            let receiver = assignment
                .iter()
                .filter(|(member, theirs)| theirs.len() + 1 < owned.len() && can_take(member, tp))
                .min_by_key(|(member, theirs)| (theirs.len(), *member));
            if let Some((receiver, _)) = receiver {
                return Some((giver.clone(), receiver.clone(), index));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::assignor::test_support::names;
    use crate::assignor::{AssignorKind, MemberSubscription, TopicPartition};

    fn member(
        id: &str,
        topics: &[&str],
        owned: &[(&str, i32)],
        generation: i32,
    ) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            owned: owned
                .iter()
                .map(|&(t, p)| TopicPartition::new(t, p))
                .collect(),
            generation: Some(generation),
        }
    }

    fn assign(partitions: i32, members: &[MemberSubscription]) -> crate::assignor::Assignment {
        AssignorKind::CooperativeSticky.assign(&[("t".to_string(), partitions)].into(), members)
    }

    #[test]
    fn a_fresh_group_is_balanced() {
        let a = assign(
            5,
            &[member("a", &["t"], &[], 1), member("b", &["t"], &[], 1)],
        );
        assert_eq!(names(&a["a"]), ["t-0", "t-2", "t-4"]);
        assert_eq!(names(&a["b"]), ["t-1", "t-3"]);
    }

    #[test]
    fn owners_keep_their_partitions_when_balanced() {
        let members = [
            member("a", &["t"], &[("t", 1), ("t", 3)], 4),
            member("b", &["t"], &[("t", 0), ("t", 2)], 4),
        ];
        let a = assign(4, &members);
        assert_eq!(names(&a["a"]), ["t-1", "t-3"]);
        assert_eq!(names(&a["b"]), ["t-0", "t-2"]);
    }

    #[test]
    fn a_moving_partition_is_withheld_from_its_new_owner() {
        let members = [
            member("a", &["t"], &[("t", 0), ("t", 1), ("t", 2), ("t", 3)], 2),
            member("b", &["t"], &[], -1),
        ];
        let a = assign(4, &members);
        // Balance wants two partitions at "b"; this round "a" only gives them up.
        assert_eq!(names(&a["a"]), ["t-0", "t-1"]);
        assert!(a["b"].is_empty());
    }

    #[test]
    fn a_partition_of_a_departed_member_goes_straight_to_someone() {
        let members = [
            member("a", &["t"], &[("t", 0)], 3),
            member("b", &["t"], &[("t", 1)], 3),
        ];
        let a = assign(3, &members);
        assert_eq!(names(&a["a"]), ["t-0", "t-2"]);
        assert_eq!(names(&a["b"]), ["t-1"]);
    }

    #[test]
    fn the_later_generation_wins_a_conflicting_claim() {
        let members = [
            member("a", &["t"], &[("t", 0)], 1),
            member("b", &["t"], &[("t", 0)], 2),
        ];
        let a = assign(2, &members);
        assert_eq!(names(&a["b"]), ["t-0"]);
        assert_eq!(names(&a["a"]), ["t-1"]);
    }

    #[test]
    fn claims_on_unsubscribed_or_missing_partitions_are_dropped() {
        let members = [
            member("a", &["t"], &[("old", 0), ("t", 9)], 1),
            member("b", &["t"], &[], 1),
        ];
        let a = assign(2, &members);
        assert_eq!(names(&a["a"]), ["t-0"]);
        assert_eq!(names(&a["b"]), ["t-1"]);
    }

    #[test]
    fn members_with_different_subscriptions() {
        let topics = [("x".to_string(), 2), ("y".to_string(), 4)].into();
        let members = [
            member("a", &["x"], &[], 1),
            member("b", &["x", "y"], &[], 1),
        ];
        let a = AssignorKind::CooperativeSticky.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["x-0", "x-1"]);
        assert_eq!(names(&a["b"]), ["y-0", "y-1", "y-2", "y-3"]);
    }
}
