//! Rebalances played end to end through the coordinator, with consumers that speak the
//! consumer protocol and follow their assignor's rebalance protocol, as the simulated clients
//! do. The outcomes are the ones Kafka gives.

use super::test_support::*;
use super::*;
use crate::assignor::consumer_protocol::{Assignment, Subscription, group_by_topic};
use crate::assignor::{AssignorKind, TopicPartition, assign_from_metadata};

/// A consumer of topic "orders" as the coordinator sees it through its requests.
struct Consumer {
    member_id: String,
    owned: Vec<TopicPartition>,
    generation: i32,
}

struct Scenario {
    h: Harness,
    assignor: AssignorKind,
    partitions: i32,
    consumers: Vec<Consumer>,
    revoked: usize,
}

impl Scenario {
    fn new(assignor: AssignorKind, partitions: i32) -> Scenario {
        Scenario {
            h: Harness::new(),
            assignor,
            partitions,
            consumers: vec![],
            revoked: 0,
        }
    }

    fn add_consumer(&mut self) {
        let consumer = Consumer {
            member_id: String::new(),
            owned: vec![],
            generation: -1,
        };
        let member_id = self.h.member_id_for(self.join_request(&consumer));
        self.consumers.push(Consumer {
            member_id,
            ..consumer
        });
    }

    /// The consumer's JoinGroup: its assignor, with its subscription (what it owns, from
    /// which generation) as metadata.
    fn join_request(&self, consumer: &Consumer) -> JoinGroupRequest {
        let mut subscription = Subscription::new(vec!["orders".into()]);
        subscription.owned_partitions = group_by_topic(&consumer.owned);
        subscription.generation_id = consumer.generation;
        let protocol = Protocol {
            name: self.assignor.name().into(),
            metadata: subscription.encode(),
        };
        JoinGroupRequest {
            protocols: vec![protocol],
            ..join_request(&consumer.member_id)
        }
    }

    /// Every consumer (re)joins, the leader assigns, every consumer syncs and revokes what its
    /// rebalance protocol says. Returns whether someone needs a follow-up rebalance.
    fn rebalance(&mut self) -> bool {
        let protocol = self.assignor.protocol();
        let mut requests = vec![];
        for i in 0..self.consumers.len() {
            let revoked = protocol.revoke_before_join(&self.consumers[i].owned);
            self.revoked += revoked.len();
            self.consumers[i].owned.retain(|tp| !revoked.contains(tp));
            let join = self.join_request(&self.consumers[i]);
            requests.push(self.h.join(join));
        }
        let joined: Vec<JoinedGroup> = requests.into_iter().map(|r| self.h.joined(r)).collect();
        let generation = joined[0].generation_id;
        let leader = joined
            .iter()
            .find(|j| !j.members.is_empty())
            .expect("one leader");
        let metadata: Vec<(&str, &[u8])> = leader
            .members
            .iter()
            .map(|m| (m.member_id.as_str(), m.metadata.as_slice()))
            .collect();
        let topics = [("orders".to_string(), self.partitions)].into();
        let assignments = assign_from_metadata(self.assignor, &topics, &metadata).unwrap();
        let assignments: Vec<(&str, &[u8])> = assignments
            .iter()
            .map(|(m, a)| (m.as_str(), a.as_slice()))
            .collect();

        // The leader syncs first, so every other member is answered at once.
        let leader_sync = self.h.sync(&leader.leader, generation, &assignments);
        let mut follow_up = false;
        for consumer in &mut self.consumers {
            let sync = match consumer.member_id == leader.leader {
                true => leader_sync,
                false => self.h.sync(&consumer.member_id, generation, &[]),
            };
            let synced = self.h.sync_result(sync).expect("answered").expect("synced");
            let assigned = Assignment::decode(&synced.assignment).unwrap().partitions();
            let revoked = protocol.revoke_after_sync(&consumer.owned, &assigned);
            self.revoked += revoked.len();
            follow_up |= protocol.needs_follow_up(&revoked);
            consumer.owned = assigned;
            consumer.generation = generation;
        }
        assert_eq!(self.h.state(), GroupState::Stable);
        follow_up
    }

    fn counts(&self) -> Vec<usize> {
        self.consumers.iter().map(|c| c.owned.len()).collect()
    }
}

#[test]
fn four_consumers_on_three_partitions_leave_one_idle() {
    let mut s = Scenario::new(AssignorKind::Range, 3);
    (0..4).for_each(|_| s.add_consumer());
    s.rebalance();
    let mut counts = s.counts();
    counts.sort();
    assert_eq!(counts, [0, 1, 1, 1]);
}

#[test]
fn a_third_consumer_under_range_revokes_all_six_partitions() {
    let mut s = Scenario::new(AssignorKind::Range, 6);
    s.add_consumer();
    s.add_consumer();
    s.rebalance();
    assert_eq!(s.counts(), [3, 3]);
    s.revoked = 0;
    s.add_consumer();
    assert!(!s.rebalance());
    assert_eq!(s.revoked, 6);
    assert_eq!(s.counts(), [2, 2, 2]);
}

#[test]
fn a_third_consumer_under_cooperative_sticky_revokes_exactly_two() {
    let mut s = Scenario::new(AssignorKind::CooperativeSticky, 6);
    s.add_consumer();
    s.add_consumer();
    s.rebalance();
    assert_eq!(s.counts(), [3, 3]);
    let generation = s.h.generation();
    s.revoked = 0;
    s.add_consumer();
    assert!(s.rebalance(), "the first rebalance only revokes");
    assert_eq!(s.counts(), [2, 2, 0]);
    assert!(
        !s.rebalance(),
        "the follow-up hands the revoked partitions over"
    );
    assert_eq!(s.revoked, 2);
    assert_eq!(s.counts(), [2, 2, 2]);
    assert_eq!(s.h.generation(), generation + 2);
}
