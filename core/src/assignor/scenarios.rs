//! Rebalances with outcomes known from Kafka, played round by round: members subscribe with
//! what they own, the leader assigns, members revoke per their protocol.

use super::{Assignment, AssignorKind, MemberSubscription, TopicPartition, TopicPartitionCounts};

fn topics(partitions: i32) -> TopicPartitionCounts {
    [("orders".to_string(), partitions)].into()
}

/// A group of consumers all subscribed to "orders", tracking what each owns.
struct Group {
    assignor: AssignorKind,
    generation: i32,
    owned: Vec<(String, Vec<TopicPartition>)>,
    revoked_total: usize,
}

impl Group {
    fn new(assignor: AssignorKind, members: &[&str]) -> Group {
        let owned = members
            .iter()
            .map(|m| (m.to_string(), Vec::new()))
            .collect();
        Group {
            assignor,
            generation: 0,
            owned,
            revoked_total: 0,
        }
    }

    fn join(&mut self, member: &str) {
        self.owned.push((member.to_string(), Vec::new()));
    }

    /// One rebalance: revoke before joining, assign, revoke after the sync. Returns whether a
    /// member asked for a follow-up rebalance.
    fn rebalance(&mut self, partitions: i32) -> bool {
        let protocol = self.assignor.protocol();
        for (_, owned) in &mut self.owned {
            let revoked = protocol.revoke_before_join(owned);
            self.revoked_total += revoked.len();
            owned.retain(|tp| !revoked.contains(tp));
        }
        let subscriptions: Vec<MemberSubscription> = self
            .owned
            .iter()
            .map(|(id, owned)| MemberSubscription {
                member_id: id.clone(),
                topics: vec!["orders".into()],
                owned: owned.clone(),
                generation: Some(self.generation),
            })
            .collect();
        let assignment = self.assignor.assign(&topics(partitions), &subscriptions);
        self.generation += 1;
        let mut follow_up = false;
        for (id, owned) in &mut self.owned {
            let assigned = &assignment[id];
            let revoked = protocol.revoke_after_sync(owned, assigned);
            self.revoked_total += revoked.len();
            follow_up |= protocol.needs_follow_up(&revoked);
            *owned = assigned.clone();
        }
        follow_up
    }

    fn counts(&self) -> Vec<usize> {
        self.owned.iter().map(|(_, owned)| owned.len()).collect()
    }
}

#[test]
fn four_consumers_on_three_partitions_leave_one_idle() {
    for assignor in [
        AssignorKind::Range,
        AssignorKind::RoundRobin,
        AssignorKind::CooperativeSticky,
    ] {
        let members: Vec<MemberSubscription> = ["c1", "c2", "c3", "c4"]
            .iter()
            .map(|id| MemberSubscription {
                member_id: id.to_string(),
                topics: vec!["orders".into()],
                owned: vec![],
                generation: None,
            })
            .collect();
        let assignment: Assignment = assignor.assign(&topics(3), &members);
        let mut counts: Vec<usize> = assignment.values().map(Vec::len).collect();
        counts.sort();
        assert_eq!(counts, [0, 1, 1, 1], "{}", assignor.name());
    }
}

#[test]
fn a_third_member_under_an_eager_assignor_revokes_all_six() {
    for assignor in [AssignorKind::Range, AssignorKind::RoundRobin] {
        let mut group = Group::new(assignor, &["a", "b"]);
        assert!(!group.rebalance(6));
        assert_eq!(group.counts(), [3, 3]);
        group.revoked_total = 0;

        group.join("c");
        assert!(!group.rebalance(6), "eager needs no follow-up");
        assert_eq!(group.revoked_total, 6, "{}", assignor.name());
        assert_eq!(group.counts(), [2, 2, 2]);
    }
}

#[test]
fn a_third_member_under_cooperative_sticky_revokes_exactly_two() {
    let mut group = Group::new(AssignorKind::CooperativeSticky, &["a", "b"]);
    assert!(!group.rebalance(6));
    assert_eq!(group.counts(), [3, 3]);
    group.revoked_total = 0;
    let before: Vec<Vec<TopicPartition>> = group.owned.iter().map(|(_, o)| o.clone()).collect();

    group.join("c");
    // First rebalance: "a" and "b" each give up one partition and keep consuming the rest;
    // "c" gets nothing yet.
    assert!(
        group.rebalance(6),
        "the revoking members ask for a follow-up"
    );
    assert_eq!(group.revoked_total, 2);
    assert_eq!(group.counts(), [2, 2, 0]);
    for (i, kept) in before.iter().enumerate() {
        assert!(
            group.owned[i].1.iter().all(|tp| kept.contains(tp)),
            "nothing new for old members"
        );
    }

    // Follow-up rebalance: the two free partitions go to "c", nothing else moves.
    assert!(!group.rebalance(6));
    assert_eq!(group.revoked_total, 2);
    assert_eq!(group.counts(), [2, 2, 2]);
}

#[test]
fn a_member_leaving_under_cooperative_sticky_moves_only_its_partitions() {
    let mut group = Group::new(AssignorKind::CooperativeSticky, &["a", "b", "c"]);
    group.rebalance(6);
    let kept: Vec<Vec<TopicPartition>> = group.owned[..2].iter().map(|(_, o)| o.clone()).collect();
    group.owned.pop();
    group.revoked_total = 0;
    assert!(!group.rebalance(6));
    assert_eq!(group.revoked_total, 0);
    assert_eq!(group.counts(), [3, 3]);
    for (i, kept) in kept.iter().enumerate() {
        assert!(kept.iter().all(|tp| group.owned[i].1.contains(tp)));
    }
}

mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::topics;
    use crate::assignor::{AssignorKind, MemberSubscription, TopicPartition};

    /// Members come (`true`) and go (`false`, the member at that index) between rebalances.
    fn changes() -> impl Strategy<Value = Vec<(bool, usize)>> {
        proptest::collection::vec((any::<bool>(), 0..8usize), 1..10)
    }

    fn subscriptions(
        owned: &BTreeMap<String, Vec<TopicPartition>>,
        generation: i32,
    ) -> Vec<MemberSubscription> {
        owned
            .iter()
            .map(|(id, owned)| MemberSubscription {
                member_id: id.clone(),
                topics: vec!["orders".into()],
                owned: owned.clone(),
                generation: Some(generation),
            })
            .collect()
    }

    fn assert_balanced(owned: &BTreeMap<String, Vec<TopicPartition>>, partitions: i32) {
        let counts: Vec<usize> = owned.values().map(Vec::len).collect();
        assert_eq!(
            counts.iter().sum::<usize>(),
            partitions as usize,
            "every partition is owned"
        );
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(max - min <= 1, "balanced: {counts:?}");
    }

    fn apply(
        owned: &mut BTreeMap<String, Vec<TopicPartition>>,
        next_id: &mut usize,
        (join, index): (bool, usize),
    ) {
        if join || owned.len() <= 1 {
            owned.insert(format!("m{next_id:02}"), vec![]);
            *next_id += 1;
        } else {
            let leaving = owned.keys().nth(index % owned.len()).unwrap().clone();
            owned.remove(&leaving);
        }
    }

    proptest! {
        #[test]
        fn eager_assignors_balance_one_topic(partitions in 0..30i32, changes in changes()) {
            for assignor in [AssignorKind::Range, AssignorKind::RoundRobin] {
                let mut owned = BTreeMap::new();
                let mut next_id = 0;
                for &change in &changes {
                    apply(&mut owned, &mut next_id, change);
                    owned = assignor.assign(&topics(partitions), &subscriptions(&owned, 0));
                    assert_balanced(&owned, partitions);
                }
            }
        }

        #[test]
        fn cooperative_sticky_never_hands_over_an_owned_partition_and_converges_in_two_rounds(
            partitions in 0..30i32,
            changes in changes(),
        ) {
            let mut owned: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
            let mut next_id = 0;
            let mut generation = 0;
            for &change in &changes {
                apply(&mut owned, &mut next_id, change);
                for round in 0.. {
                    prop_assert!(round < 2, "a follow-up rebalance settles it");
                    let assignment =
                        AssignorKind::CooperativeSticky.assign(&topics(partitions), &subscriptions(&owned, generation));
                    generation += 1;
                    let mut revoked_any = false;
                    for (member, assigned) in &assignment {
                        for tp in assigned {
                            let owner = owned.iter().find(|(_, theirs)| theirs.contains(tp)).map(|(m, _)| m);
                            prop_assert!(owner.is_none_or(|owner| owner == member), "{tp:?} given while owned");
                        }
                        revoked_any |= owned[member].iter().any(|tp| !assigned.contains(tp));
                    }
                    owned = assignment;
                    if !revoked_any {
                        break;
                    }
                }
                assert_balanced(&owned, partitions);
            }
        }
    }
}
