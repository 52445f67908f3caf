//! The roundrobin assignor (Kafka's `RoundRobinAssignor`): all partitions of all subscribed
//! topics, sorted by topic then partition, dealt one by one to the members in member-id order,
//! skipping a member not subscribed to the partition's topic.

use std::collections::BTreeSet;

use super::{
    Assignment, MemberSubscription, TopicPartition, TopicPartitionCounts, empty_assignment,
};

pub(super) fn assign(topics: &TopicPartitionCounts, members: &[MemberSubscription]) -> Assignment {
    let mut assignment = empty_assignment(members);
    let mut sorted: Vec<&MemberSubscription> = members.iter().collect();
    sorted.sort_unstable_by(|a, b| a.member_id.cmp(&b.member_id));
    if sorted.is_empty() {
        return assignment;
    }
    let subscribed: BTreeSet<&String> = members.iter().flat_map(|m| &m.topics).collect();
    // The position of the member that receives the next partition, cycling.
    let mut next = 0;
    for (topic, &partition_count) in topics.iter().filter(|(t, _)| subscribed.contains(t)) {
        for partition in 0..partition_count {
            // Someone subscribes to the topic, so the search ends within one cycle.
            while !sorted[next].topics.contains(topic) {
                next = (next + 1) % sorted.len();
            }
            let member = &sorted[next].member_id;
            let partitions = assignment
                .get_mut(member)
                .expect("every member has an entry");
            partitions.push(TopicPartition::new(topic, partition));
            next = (next + 1) % sorted.len();
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use crate::assignor::AssignorKind;
    use crate::assignor::test_support::{member, names};

    #[test]
    fn deals_all_partitions_across_topics() {
        let topics = [("x".to_string(), 3), ("y".to_string(), 2)].into();
        let members = [member("b", &["x", "y"]), member("a", &["x", "y"])];
        let a = AssignorKind::RoundRobin.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["x-0", "x-2", "y-1"]);
        assert_eq!(names(&a["b"]), ["x-1", "y-0"]);
    }

    #[test]
    fn skips_members_not_subscribed() {
        let topics = [("x".to_string(), 2), ("y".to_string(), 2)].into();
        let members = [
            member("a", &["x"]),
            member("b", &["x", "y"]),
            member("c", &["y"]),
        ];
        let a = AssignorKind::RoundRobin.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["x-0"]);
        // y-1 comes round to "a", which skips it to "b".
        assert_eq!(names(&a["b"]), ["x-1", "y-1"]);
        assert_eq!(names(&a["c"]), ["y-0"]);
    }

    #[test]
    fn no_members_no_assignment() {
        let topics = [("x".to_string(), 2)].into();
        assert!(AssignorKind::RoundRobin.assign(&topics, &[]).is_empty());
    }
}
