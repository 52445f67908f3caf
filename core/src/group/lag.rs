//! Consumer lag, as `kafka-consumer-groups.sh --describe` and kafka_exporter's
//! `kafka_consumergroup_lag` show it: per partition, the log end offset a consumer can read up
//! to (the high watermark) minus the group's committed offset.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::coordinator::Coordinator;
use super::state::GroupState;
use crate::assignor::TopicPartition;
use crate::assignor::consumer_protocol::{self, Assignment};

/// The lag of one partition: `None` (shown "-") when the group has no committed offset for it.
pub fn lag(committed_offset: Option<i64>, high_watermark: i64) -> Option<i64> {
    committed_offset.map(|offset| high_watermark - offset)
}

/// One line of `kafka-consumer-groups.sh --describe --group G`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagRow {
    pub group: String,
    pub partition: TopicPartition,
    pub current_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    pub lag: Option<i64>,
    /// The member that owns the partition, if any.
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl LagRow {
    /// The columns GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
    /// CLIENT-ID, with "-" for what is unknown.
    pub fn cells(&self) -> [String; 9] {
        fn or_dash<T: ToString>(value: &Option<T>) -> String {
            value
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string)
        }
        [
            self.group.clone(),
            self.partition.topic.clone(),
            self.partition.partition.to_string(),
            or_dash(&self.current_offset),
            or_dash(&self.log_end_offset),
            or_dash(&self.lag),
            or_dash(&self.consumer_id),
            or_dash(&self.host),
            or_dash(&self.client_id),
        ]
    }
}

impl Coordinator {
    /// The lag rows of a group: every partition a member owns (read from the consumer-protocol
    /// assignments of a Stable group) and every partition with a committed offset, in topic and
    /// partition order. `high_watermark` gives each partition's high watermark, `None` if the
    /// partition is unknown.
    pub fn group_lag(
        &self,
        group_id: &str,
        high_watermark: impl Fn(&TopicPartition) -> Option<i64>,
    ) -> Vec<LagRow> {
        let Some(group) = self.groups.get(group_id) else {
            return Vec::new();
        };
        let mut owners = BTreeMap::new();
        let is_consumer = group.protocol_type.as_deref() == Some(consumer_protocol::PROTOCOL_TYPE);
        if is_consumer && group.is(GroupState::Stable) {
            for member in group.members.values() {
                // An assignment a client encoded badly is shown as no assignment.
                let Ok(assignment) = Assignment::decode(&member.assignment) else {
                    continue;
                };
                for tp in assignment.partitions() {
                    owners.insert(tp, member);
                }
            }
        }
        let mut partitions: Vec<&TopicPartition> =
            owners.keys().chain(group.offsets.keys()).collect();
        partitions.sort();
        partitions.dedup();
        partitions
            .into_iter()
            .map(|tp| {
                let current_offset = group.offsets.get(tp).map(|o| o.offset);
                let log_end_offset = high_watermark(tp);
                let owner = owners.get(tp);
                LagRow {
                    group: group_id.to_owned(),
                    partition: tp.clone(),
                    current_offset,
                    log_end_offset,
                    lag: log_end_offset.and_then(|hw| lag(current_offset, hw)),
                    consumer_id: owner.map(|m| m.member_id.clone()),
                    host: owner.map(|m| m.client_host.clone()),
                    client_id: owner.map(|m| m.client_id.clone()),
                }
            })
            .collect()
    }

    /// The lag rows of every group, for metrics.
    pub fn all_lag(&self, high_watermark: impl Fn(&TopicPartition) -> Option<i64>) -> Vec<LagRow> {
        self.groups
            .keys()
            .flat_map(|group_id| self.group_lag(group_id, &high_watermark))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignor::consumer_protocol::Assignment;
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn lag_is_the_high_watermark_minus_the_committed_offset() {
        assert_eq!(lag(Some(40), 100), Some(60));
        assert_eq!(lag(Some(100), 100), Some(0));
        assert_eq!(lag(None, 100), None);
    }

    #[test]
    fn rows_like_kafka_consumer_groups() {
        let mut h = Harness::new();
        let id = h.new_member_id();
        let r = h.join(join_request(&id));
        h.joined(r);
        let owned = [
            TopicPartition::new("orders", 0),
            TopicPartition::new("orders", 1),
        ];
        let assignment = Assignment::new(&owned).encode();
        let s = h.sync(&id, 1, &[(id.as_str(), &assignment)]);
        h.sync_result(s).unwrap().unwrap();
        let commit = OffsetCommitRequest {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: id.clone(),
            group_instance_id: None,
            offsets: [("orders", 0, 40), ("old", 0, 5)]
                .iter()
                .map(|&(t, p, o)| {
                    (
                        TopicPartition::new(t, p),
                        CommitOffset {
                            offset: o,
                            leader_epoch: None,
                            metadata: None,
                        },
                    )
                })
                .collect(),
        };
        h.coordinator.handle_offset_commit(&commit, h.now);
        h.collect(); // written

        let hw = |tp: &TopicPartition| match (tp.topic.as_str(), tp.partition) {
            ("orders", 0) => Some(100),
            ("orders", 1) => Some(7),
            _ => None,
        };
        let rows: Vec<[String; 9]> = h
            .coordinator
            .group_lag(GROUP, hw)
            .iter()
            .map(LagRow::cells)
            .collect();
        let row = |cells: [&str; 9]| cells.map(str::to_owned);
        assert_eq!(
            rows,
            vec![
                row(["g", "old", "0", "5", "-", "-", "-", "-", "-"]),
                row([
                    "g",
                    "orders",
                    "0",
                    "40",
                    "100",
                    "60",
                    &id,
                    "/10.0.0.1",
                    "client"
                ]),
                row([
                    "g",
                    "orders",
                    "1",
                    "-",
                    "7",
                    "-",
                    &id,
                    "/10.0.0.1",
                    "client"
                ]),
            ]
        );
        assert_eq!(h.coordinator.all_lag(hw).len(), 3);
        assert!(h.coordinator.group_lag("nope", hw).is_empty());
    }
}
