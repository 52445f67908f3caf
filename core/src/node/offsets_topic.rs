//! The group coordinator over the offsets topic, as Kafka runs it: `__consumer_offsets` is a
//! partitioned, replicated, compacted topic of the metadata, and the coordinator of a group is
//! the leader of its partition ([`offsets_partition`]: `abs(hash(group.id)) %
//! offsets.topic.num.partitions`).
//!
//! - **Creation** (Kafka's `AutoTopicCreationManager` for internal topics): the first
//!   FindCoordinator of a broker that has no offsets topic asks the active controller to
//!   create it with `offsets.topic.num.partitions` partitions, `cleanup.policy=compact`,
//!   `segment.bytes` from `offsets.topic.segment.bytes`, and
//!   `offsets.topic.replication.factor` replicas capped at the brokers alive then (Kafka
//!   refuses until that many are alive; a single node would need a flag, and a cluster of
//!   three gets three as long as its nodes are up before the first group). It answers
//!   COORDINATOR_NOT_AVAILABLE meanwhile, as Kafka does.
//! - **Loading and unloading** (Kafka's `onElection`/`onResignation`): when the metadata makes
//!   this node the leader of an offsets partition, the groups of that partition are read back
//!   from its log (every record up to the log end, compacted) into the [`Coordinator`], a
//!   bounded chunk per step (`offsets_load.rs`); when it stops leading it, they are dropped
//!   and their waiting requests answered NOT_COORDINATOR. A group request for a partition not
//!   loaded here is answered NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while this node
//!   leads it and has not read all of it yet (never from a half-loaded partition).
//! - **Writes** (Kafka's coordinator appends with `offsets.commit.required.acks=-1`): the
//!   records the coordinator persists are produced to their partition with acks=all by this
//!   node's own broker, so followers replicate them like any topic's; every answer about a
//!   group of that partition that came after them waits ([`GroupWrites`]) until the ISR has
//!   them, and is turned into NOT_COORDINATOR if the write fails.

use std::collections::{BTreeMap, VecDeque};

use crate::ErrorCode;
use crate::client::Response;
use crate::group::{
    GroupRecord, HeartbeatError, JoinGroupError, LeaveGroupError, OffsetCommitError,
    OffsetFetchError, RequestId, SyncGroupError,
};

pub use crate::group::{OFFSETS_TOPIC, offsets_partition};

/// `offsets.commit.timeout.ms`'s default: how long an offsets write waits for the ISR.
pub const OFFSETS_COMMIT_TIMEOUT_MS: u64 = 5_000;

/// Bytes read per step when loading a partition's groups.
pub(super) const LOAD_CHUNK_BYTES: usize = 1 << 20;

/// The coordinator's writes in flight, per offsets partition, oldest first, each with the
/// outputs that wait for it (answers about the partition's groups that came after it).
#[derive(Debug, Default)]
pub(super) struct GroupWrites {
    partitions: BTreeMap<i32, VecDeque<Write>>,
}

#[derive(Debug)]
struct Write {
    /// The broker's produce request carrying it.
    produce: RequestId,
    /// Whether the ISR has it, once the broker answered.
    acknowledged: Option<bool>,
    /// The coordinator's records it carries, reported to the coordinator when it completes
    /// (`Coordinator::handle_written`).
    records: Vec<GroupRecord>,
    held: Vec<super::Output>,
}

impl GroupWrites {
    /// A write of `records` to partition `partition` went to the broker as produce
    /// `produce`.
    pub(super) fn start(&mut self, partition: i32, produce: RequestId, records: Vec<GroupRecord>) {
        self.partitions
            .entry(partition)
            .or_default()
            .push_back(Write {
                produce,
                acknowledged: None,
                records,
                held: Vec::new(),
            });
    }

    /// The records produce `produce` of `partition` carries (taken: asked once, when the
    /// broker answers it).
    pub(super) fn take_records(&mut self, partition: i32, produce: RequestId) -> Vec<GroupRecord> {
        self.partitions
            .get_mut(&partition)
            .and_then(|q| q.iter_mut().find(|w| w.produce == produce))
            .map(|w| std::mem::take(&mut w.records))
            .unwrap_or_default()
    }

    /// `output` waits for the latest write of `partition` in flight, if any; else it is
    /// given back to go at once.
    pub(super) fn hold(&mut self, partition: i32, output: super::Output) -> Option<super::Output> {
        match self
            .partitions
            .get_mut(&partition)
            .and_then(VecDeque::back_mut)
        {
            Some(write) => {
                write.held.push(output);
                None
            }
            None => Some(output),
        }
    }

    /// The broker answered produce `produce` of `partition`. Returns the outputs now free to
    /// go, each with whether every write before it was acknowledged (they go in order: a
    /// later write's outputs wait for the earlier ones).
    pub(super) fn complete(
        &mut self,
        partition: i32,
        produce: RequestId,
        acknowledged: bool,
    ) -> Vec<(super::Output, bool)> {
        let Some(queue) = self.partitions.get_mut(&partition) else {
            return Vec::new();
        };
        if let Some(write) = queue.iter_mut().find(|w| w.produce == produce) {
            write.acknowledged = Some(acknowledged);
        }
        let mut released = Vec::new();
        while let Some(acknowledged) = queue.front().and_then(|w| w.acknowledged) {
            let write = queue.pop_front().expect("front checked");
            released.extend(write.held.into_iter().map(|o| (o, acknowledged)));
        }
        if queue.is_empty() {
            self.partitions.remove(&partition);
        }
        released
    }

    /// This node stopped leading `partition`: every write in flight counts as failed.
    pub(super) fn abandon(&mut self, partition: i32) -> Vec<super::Output> {
        self.partitions
            .remove(&partition)
            .into_iter()
            .flatten()
            .flat_map(|w| w.held)
            .collect()
    }

    /// Whether `produce` carries a write of the coordinator still in flight.
    pub(super) fn is_pending(&self, partition: i32, produce: RequestId) -> bool {
        self.partitions
            .get(&partition)
            .is_some_and(|q| q.iter().any(|w| w.produce == produce))
    }
}

/// `response` (the answer to a group request) with every result turned into `code`
/// (NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS), as Kafka answers a request for a group
/// this broker does not coordinate, or one whose write failed. Other answers are unchanged.
pub(super) fn refuse(response: Response, code: ErrorCode) -> Response {
    let loading = code == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
    match response {
        Response::JoinGroup(_) => Response::JoinGroup(Err(if loading {
            JoinGroupError::CoordinatorLoadInProgress
        } else {
            JoinGroupError::NotCoordinator
        })),
        Response::SyncGroup(_) => Response::SyncGroup(Err(if loading {
            SyncGroupError::CoordinatorLoadInProgress
        } else {
            SyncGroupError::NotCoordinator
        })),
        Response::Heartbeat(_) => Response::Heartbeat(Err(if loading {
            HeartbeatError::CoordinatorLoadInProgress
        } else {
            HeartbeatError::NotCoordinator
        })),
        Response::LeaveGroup(results) => Response::LeaveGroup(
            results
                .iter()
                .map(|_| {
                    Err(if loading {
                        LeaveGroupError::CoordinatorLoadInProgress
                    } else {
                        LeaveGroupError::NotCoordinator
                    })
                })
                .collect(),
        ),
        Response::OffsetCommit(results) => Response::OffsetCommit(
            results
                .into_iter()
                .map(|(tp, _)| {
                    let error = if loading {
                        OffsetCommitError::CoordinatorLoadInProgress
                    } else {
                        OffsetCommitError::NotCoordinator
                    };
                    (tp, Err(error))
                })
                .collect(),
        ),
        Response::OffsetFetch(_) => Response::OffsetFetch(Err(if loading {
            OffsetFetchError::CoordinatorLoadInProgress
        } else {
            OffsetFetchError::NotCoordinator
        })),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Output, RequestRef};

    fn answer(n: u64) -> Output {
        Output::Respond {
            request: RequestRef(n),
            response: Response::Heartbeat(Ok(())),
        }
    }

    fn request_of(output: &Output) -> u64 {
        match output {
            Output::Respond { request, .. } => request.0,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_wait_for_every_earlier_write_of_their_partition() {
        let mut writes = GroupWrites::default();
        assert!(writes.hold(3, answer(1)).is_some(), "nothing in flight");
        writes.start(3, RequestId(10), Vec::new());
        assert!(writes.hold(3, answer(2)).is_none());
        writes.start(3, RequestId(11), Vec::new());
        assert!(writes.hold(3, answer(3)).is_none());
        assert!(writes.hold(4, answer(4)).is_some(), "another partition");
        // The later write is acknowledged first: nothing goes until the earlier one is.
        assert!(writes.complete(3, RequestId(11), true).is_empty());
        let released = writes.complete(3, RequestId(10), false);
        let released: Vec<(u64, bool)> = released
            .iter()
            .map(|(o, ok)| (request_of(o), *ok))
            .collect();
        assert_eq!(released, vec![(2, false), (3, true)]);
        assert!(!writes.is_pending(3, RequestId(10)));
        assert!(writes.hold(3, answer(5)).is_some(), "all done");
    }

    #[test]
    fn refused_answers_keep_their_shape() {
        let commit =
            Response::OffsetCommit(vec![(crate::assignor::TopicPartition::new("t", 0), Ok(()))]);
        match refuse(commit, ErrorCode::NOT_COORDINATOR) {
            Response::OffsetCommit(results) => {
                assert_eq!(results[0].1, Err(OffsetCommitError::NotCoordinator))
            }
            other => panic!("{other:?}"),
        }
        match refuse(
            Response::LeaveGroup(vec![Ok(()), Ok(())]),
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        ) {
            Response::LeaveGroup(results) => assert_eq!(
                results,
                vec![Err(LeaveGroupError::CoordinatorLoadInProgress); 2]
            ),
            other => panic!("{other:?}"),
        }
    }
}
