//! The range assignor (Kafka's `RangeAssignor`, the Java client's historical default): topic by
//! topic, the members subscribed to the topic, sorted by member id, each take a contiguous range
//! of partitions; the first `partitions % members` take one extra.

use super::{
    Assignment, MemberSubscription, TopicPartition, TopicPartitionCounts, empty_assignment,
};

pub(super) fn assign(topics: &TopicPartitionCounts, members: &[MemberSubscription]) -> Assignment {
    let mut assignment = empty_assignment(members);
    for (topic, &partition_count) in topics {
        let mut subscribers: Vec<&str> = members
            .iter()
            .filter(|m| m.topics.contains(topic))
            .map(|m| m.member_id.as_str())
            .collect();
        if subscribers.is_empty() {
            continue;
        }
        subscribers.sort_unstable();
        let per_member = partition_count / subscribers.len() as i32;
        let with_extra = partition_count % subscribers.len() as i32;
        for (i, member) in subscribers.into_iter().enumerate() {
            let i = i as i32;
            let start = per_member * i + i.min(with_extra);
            let length = per_member + i32::from(i < with_extra);
            let partitions = assignment
                .get_mut(member)
                .expect("every member has an entry");
            partitions.extend((start..start + length).map(|p| TopicPartition::new(topic, p)));
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use crate::assignor::AssignorKind;
    use crate::assignor::test_support::{member, names};

    #[test]
    fn contiguous_ranges_with_the_extra_partitions_first() {
        let topics = [("t".to_string(), 7)].into();
        let members = [
            member("c", &["t"]),
            member("a", &["t"]),
            member("b", &["t"]),
        ];
        let a = AssignorKind::Range.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["t-0", "t-1", "t-2"]);
        assert_eq!(names(&a["b"]), ["t-3", "t-4"]);
        assert_eq!(names(&a["c"]), ["t-5", "t-6"]);
    }

    #[test]
    fn each_topic_is_split_on_its_own() {
        // Range's known imbalance: with two topics of one partition, the first member gets both.
        let topics = [("x".to_string(), 1), ("y".to_string(), 1)].into();
        let members = [member("a", &["x", "y"]), member("b", &["x", "y"])];
        let a = AssignorKind::Range.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["x-0", "y-0"]);
        assert!(a["b"].is_empty());
    }

    #[test]
    fn only_subscribers_of_a_topic_share_it_and_unknown_topics_are_ignored() {
        let topics = [("x".to_string(), 2), ("y".to_string(), 2)].into();
        let members = [member("a", &["x", "ghost"]), member("b", &["y"])];
        let a = AssignorKind::Range.assign(&topics, &members);
        assert_eq!(names(&a["a"]), ["x-0", "x-1"]);
        assert_eq!(names(&a["b"]), ["y-0", "y-1"]);
    }
}
