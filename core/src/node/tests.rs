//! One combined node over memory storage, driven as a shell drives it.

use super::*;
use crate::broker::{MemoryStorageFactory, ReplicaFetchSettings};
use crate::controller::AlterConfigOp;
use crate::group::{OFFSETS_TOPIC, OffsetCommitError};

/// A single combined node (broker, controller, group coordinator) and its shell's state.
pub(super) struct Single {
    pub(super) node: Node<MemoryStorageFactory>,
    pub(super) now: Millis,
    raft_log: RaftLog,
    next_request: u64,
    answers: BTreeMap<RequestRef, Response>,
}

impl Single {
    pub(super) fn new() -> Single {
        Single::on(RaftLog::default())
    }

    /// The node restarting on `raft_log`.
    pub(super) fn on(raft_log: RaftLog) -> Single {
        let config = NodeConfig {
            node_id: 1,
            roles: Roles::COMBINED,
            controller_id: 1,
            controller_quorum_voters: Vec::new(),
            metadata_snapshot_interval: METADATA_SNAPSHOT_INTERVAL,
            advertised_host: "localhost".to_string(),
            advertised_port: 9092,
            broker: BrokerConfig::default(),
            groups: CoordinatorConfig::default(),
            durable: false,
            seed: 7,
            replica_fetch: ReplicaFetchSettings::default(),
        };
        let now = Millis(1_000);
        let node = Node::new(config, MemoryStorageFactory, &raft_log, &[], now);
        let mut single = Single {
            node,
            now,
            raft_log,
            next_request: 0,
            answers: BTreeMap::new(),
        };
        single.drain();
        single.advance(1_000);
        single
    }

    fn drain(&mut self) {
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::PersistRaft(write) => self.raft_log.apply(write),
                Output::Respond { request, response } => {
                    self.answers.insert(request, response);
                }
                Output::PersistGroups(_) | Output::Send { .. } | Output::Event(_) => {}
            }
        }
    }

    /// Lets `ms` pass, calling the node at each timeout it asks for.
    pub(super) fn advance(&mut self, ms: u64) {
        let end = self.now.plus(Millis(ms));
        loop {
            let next = self.node.poll_timeout().unwrap_or(end).min(end);
            self.now = next.max(self.now);
            self.node.handle_timeout(self.now);
            self.drain();
            if self.now >= end {
                return;
            }
        }
    }

    /// Sends `body` and lets time pass until it is answered (at most 10 s).
    pub(super) fn call(&mut self, body: Request) -> Response {
        self.next_request += 1;
        let request = RequestRef(self.next_request);
        self.node.handle_request(self.now, request, body);
        self.drain();
        for _ in 0..1_000 {
            if let Some(response) = self.answers.remove(&request) {
                return response;
            }
            self.advance(10);
        }
        panic!("no answer to request {request:?}");
    }
}

impl Single {
    /// FindCoordinator until this node is named (the offsets topic is created on the way).
    pub(super) fn find_coordinator(&mut self, group: &str) {
        let find = || Request::FindCoordinator {
            group_id: group.to_string(),
        };
        for _ in 0..100 {
            if matches!(self.call(find()), Response::FindCoordinator(Ok(1))) {
                self.advance(100);
                return;
            }
            self.advance(100);
        }
        panic!("no coordinator for {group}");
    }
}

fn commit(group: &str, offset: i64) -> Request {
    Request::OffsetCommit(crate::group::test_support::offset_commit(
        group, -1, "", offset,
    ))
}

fn fetched(single: &mut Single, group: &str) -> Option<i64> {
    let fetch = Request::OffsetFetch {
        group_id: group.to_string(),
        partitions: vec![TopicPartition::new("t", 0)],
        require_stable: false,
    };
    match single.call(fetch) {
        Response::OffsetFetch(Ok(offsets)) => offsets[0].1.clone().unwrap().map(|o| o.offset),
        other => panic!("{other:?}"),
    }
}

fn committed(response: Response) -> Result<(), OffsetCommitError> {
    match response {
        Response::OffsetCommit(results) => results[0].1.clone(),
        other => panic!("{other:?}"),
    }
}

/// Kafka's `failPendingOffsetWrite`: a commit whose write to `__consumer_offsets` fails
/// (here: acks=all refused with NOT_ENOUGH_REPLICAS) is answered NOT_COORDINATOR, is never
/// seen by OffsetFetch, and leaves the group as it was.
#[test]
fn a_commit_whose_write_fails_is_rolled_back() {
    let group = "g";
    let mut single = Single::with_topic_and_group(group);
    assert_eq!(committed(single.call(commit(group, 5))), Ok(()));
    assert_eq!(fetched(&mut single, group), Some(5));
    let before = single
        .node
        .coordinator()
        .expect("a coordinator")
        .describe_group(group);

    // Every write to the offsets topic fails from now on: its ISR (this node) is below
    // min.insync.replicas.
    let now = single.now;
    single
        .node
        .control(now, false, |c| {
            let ops = [(
                "min.insync.replicas".to_string(),
                AlterConfigOp::Set("2".to_string()),
            )];
            c.incremental_alter_topic_configs(OFFSETS_TOPIC, &ops)
                .map_err(|e| (ErrorCode::INVALID_CONFIG, e.to_string()))
        })
        .expect("altered");
    single.advance(100);
    assert_eq!(
        committed(single.call(commit(group, 9))),
        Err(OffsetCommitError::NotCoordinator)
    );
    assert_eq!(
        fetched(&mut single, group),
        Some(5),
        "the failed commit is not seen"
    );
    let after = single
        .node
        .coordinator()
        .expect("a coordinator")
        .describe_group(group);
    assert_eq!(after, before, "the group is as it was");

    // A group that only a failed commit would have created does not exist.
    assert_eq!(
        committed(single.call(commit("other", 1))),
        Err(OffsetCommitError::NotCoordinator)
    );
    let listed = single
        .node
        .coordinator()
        .expect("a coordinator")
        .list_groups(&[]);
    assert!(listed.iter().all(|g| g.group_id != "other"), "{listed:?}");
}

/// Kafka's `ReplicaManager.appendToLocalLog`: a client cannot write an internal topic; the
/// coordinator's own writes still go.
#[test]
fn clients_cannot_produce_to_the_offsets_topic() {
    let mut single = Single::new();
    single.find_coordinator("g");
    let mut batch = crate::batch::BatchBuilder::new();
    batch.push(0, Some(b"k"), Some(b"v"), &[]);
    let produce = Request::Produce(crate::broker::ProduceRequest {
        acks: -1,
        timeout_ms: Millis(1_000),
        partitions: vec![crate::broker::ProducePartition {
            tp: TopicPartition::new(OFFSETS_TOPIC, 0),
            records: batch.build(),
        }],
    });
    match single.call(produce) {
        Response::Produce(response) => {
            let partition = &response.partitions[0];
            assert_eq!(partition.error, ErrorCode::INVALID_TOPIC_EXCEPTION);
            assert_eq!(
                partition.error_message.as_deref(),
                Some("Cannot append to internal topic __consumer_offsets")
            );
        }
        other => panic!("{other:?}"),
    }
    let tp = TopicPartition::new(OFFSETS_TOPIC, 0);
    let end = single
        .node
        .broker()
        .and_then(|b| b.partition(&tp))
        .map(|p| p.log_end_offset);
    assert_eq!(end, Some(0), "nothing appended");
    // The coordinator still writes there.
    single.create_topic_t();
    single.find_coordinator("g");
    assert_eq!(committed(single.call(commit("g", 3))), Ok(()));
    assert_eq!(fetched(&mut single, "g"), Some(3));
}

impl Single {
    /// A single node with topic `t` of one partition, and the coordinator of `group` found.
    pub(super) fn with_topic_and_group(group: &str) -> Single {
        let mut single = Single::new();
        single.create_topic_t();
        single.find_coordinator(group);
        single
    }

    /// Creates topic `t` of one partition.
    pub(super) fn create_topic_t(&mut self) {
        let topic = CreateTopic {
            name: "t".to_string(),
            partitions: Some(1),
            replication_factor: Some(1),
            ..CreateTopic::default()
        };
        self.node
            .create_topic(self.now, &topic, false)
            .expect("created");
    }
}

/// Kafka answers COORDINATOR_LOAD_IN_PROGRESS while `loadGroupsAndOffsets` runs: a node
/// that became the leader of a group's offsets partition answers nothing about the group
/// until it has read the whole partition.
#[test]
fn a_group_is_loading_until_its_whole_partition_is_read() {
    let group = "g";
    let mut single = Single::with_topic_and_group(group);
    for offset in 1..=4 {
        assert_eq!(committed(single.call(commit(group, offset))), Ok(()));
    }
    // The node leads the partition again and reads it one batch per step (four commits, four
    // batches).
    let partition = single.node.group_partition(group);
    single.node.loads.chunk_bytes = 1;
    let now = single.now;
    single.node.unload_offsets_partition(now, partition);
    single.node.sync_offsets_leadership(now);
    single.drain();
    let fetch = Request::OffsetFetch {
        group_id: group.to_string(),
        partitions: vec![TopicPartition::new("t", 0)],
        require_stable: false,
    };
    for _ in 0..3 {
        assert_eq!(
            single.call(fetch.clone()),
            Response::OffsetFetch(Err(
                crate::group::OffsetFetchError::CoordinatorLoadInProgress
            ))
        );
        assert_eq!(
            committed(single.call(commit(group, 9))),
            Err(OffsetCommitError::CoordinatorLoadInProgress)
        );
        assert!(single.node.poll_timeout().is_some_and(|t| t <= single.now));
        let now = single.now;
        single.node.handle_timeout(now);
        single.drain();
    }
    assert_eq!(fetched(&mut single, group), Some(4), "all of it, once read");
}

/// KIP-447: under `require_stable`, a partition whose commit is written but not yet
/// acknowledged is answered UNSTABLE_OFFSET_COMMIT; without it, the last acknowledged one.
#[test]
fn require_stable_refuses_a_partition_with_a_pending_commit() {
    let group = "g";
    let mut single = Single::with_topic_and_group(group);
    assert_eq!(committed(single.call(commit(group, 5))), Ok(()));
    let tp = TopicPartition::new("t", 0);
    let Request::OffsetCommit(pending) = commit(group, 7) else {
        unreachable!()
    };
    // Accepted by the coordinator, its record not yet handed to the broker.
    let now = single.now;
    let coordinator = single.node.coordinator.as_mut().expect("a coordinator");
    coordinator.handle_offset_commit(&pending, now);
    let asked = Some(std::slice::from_ref(&tp));
    let stable = single.node.fetch_offsets(group, asked, true).unwrap();
    assert_eq!(
        stable[0].1,
        Err(crate::group::OffsetFetchError::UnstableOffsetCommit)
    );
    let plain = single.node.fetch_offsets(group, asked, false).unwrap();
    assert_eq!(plain[0].1.clone().unwrap().map(|o| o.offset), Some(5));
    // Written (at the next step: the broker answers the write of the coordinator's
    // record when the node next drains it) and acknowledged: stable again.
    single.node.handle_timeout(now);
    single.node.handle_timeout(now);
    single.drain();
    let stable = single.node.fetch_offsets(group, asked, true).unwrap();
    assert_eq!(stable[0].1.clone().unwrap().map(|o| o.offset), Some(7));
}

/// DescribeQuorum is built here, with the time of the answer an input (KIP-836's
/// `lastCaughtUpTimestamp` of the leader).
#[test]
fn describe_quorum_answers_from_the_leader_with_the_time_given() {
    let single = Single::new();
    let d = single
        .node
        .describe_quorum(METADATA_TOPIC, 0, Millis(1_700_000_000_000));
    assert_eq!(d.error, ErrorCode::NONE);
    assert_eq!(d.leader_id, 1);
    assert!(d.leader_epoch >= 1);
    assert!(d.high_watermark >= 1);
    assert_eq!(
        d.voters,
        vec![QuorumReplica {
            replica_id: 1,
            log_end_offset: d.high_watermark,
            last_fetch_timestamp: 1_700_000_000_000,
            last_caught_up_timestamp: 1_700_000_000_000,
        }]
    );
    let other = single.node.describe_quorum("t", 0, Millis(0));
    assert_eq!(other.error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(other.leader_id, -1);
    let other = single.node.describe_quorum(METADATA_TOPIC, 1, Millis(0));
    assert_eq!(other.error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
}

/// A data directory written before the binary metadata format: its Raft log's entries and
/// snapshot are JSON. The node restarting on it reads the same metadata.
#[test]
fn a_raft_log_written_as_json_is_still_read() {
    use super::metadata_codec::{self, MetadataSnapshot};
    let single = Single::with_topic_and_group("g");
    let mut log = single.raft_log.clone();
    assert!(!log.entries.is_empty());
    for entry in &mut log.entries {
        let records = metadata_codec::decode_records(&entry.data).expect("decodes");
        if !records.is_empty() {
            entry.data = serde_json::to_vec(&records).unwrap();
        }
    }
    if let Some(snapshot) = &mut log.snapshot {
        let decoded: MetadataSnapshot = metadata_codec::decode_snapshot(&snapshot.data).unwrap();
        snapshot.data = serde_json::to_vec(&decoded).unwrap();
    }
    assert!(
        log.entries.iter().any(|e| e.data.first() == Some(&b'[')),
        "some entries are JSON now"
    );
    // (The restarted broker registers again, so epochs move on; the topics are the same.)
    let restarted = Single::on(log);
    let ids = |s: &Single| {
        let topics = s.node.image().topics();
        topics
            .map(|t| (t.name.clone(), t.id, t.partitions.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&restarted), ids(&single));
    assert!(restarted.node.image().topic("t").is_some());
}
