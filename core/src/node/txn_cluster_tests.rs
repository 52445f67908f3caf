//! Transactions across a three-node cluster of combined nodes over memory storage, their
//! messages delivered by a lossless in-memory network every step: the coordinator's markers
//! reach partitions led by the other nodes (WriteTxnMarkers between nodes).

use super::*;
use crate::batch::BatchBuilder;
use crate::broker::{
    ACKS_ALL, IsolationLevel, ListOffsetsPartition, MemoryStorageFactory, OffsetSpec,
    ProducePartition, ProduceRequest, ReplicaFetchSettings,
};
use crate::txn::TxnState;

const VOTERS: [BrokerId; 3] = [1, 2, 3];
/// Simulated time between two deliveries.
const STEP: Millis = Millis(10);

fn config(node_id: BrokerId, broker: BrokerConfig) -> NodeConfig {
    NodeConfig {
        node_id,
        roles: Roles::COMBINED,
        controller_id: VOTERS[0],
        controller_quorum_voters: VOTERS.to_vec(),
        metadata_snapshot_interval: METADATA_SNAPSHOT_INTERVAL,
        advertised_host: "127.0.0.1".to_string(),
        advertised_port: 9092 + node_id as u16,
        broker,
        groups: CoordinatorConfig::default(),
        durable: false,
        seed: 31 + node_id as u64,
        replica_fetch: ReplicaFetchSettings::default(),
    }
}

/// One node and what its shell keeps.
struct Driven {
    node: Node<MemoryStorageFactory>,
    raft_log: RaftLog,
}

/// Three nodes, the messages between them, and the answers to client requests.
pub(super) struct Trio {
    nodes: Vec<Driven>,
    now: Millis,
    in_flight: Vec<(BrokerId, BrokerId, PeerMessage)>,
    answers: BTreeMap<RequestRef, Response>,
    next_request: u64,
    /// Every peer message summary delivered, for assertions on what crossed the network.
    pub(super) delivered: Vec<String>,
    /// Nodes that are down: not ticked, and what is sent to or from them is lost.
    pub(super) down: BTreeSet<BrokerId>,
    /// Messages for which this returns true are lost on the way (sender, message).
    pub(super) lose: Option<fn(BrokerId, &PeerMessage) -> bool>,
    /// Each node's wall clock ahead of (or, negative, behind) `now`, in ms: clock skew.
    pub(super) skew_ms: [i64; 3],
}

impl Trio {
    /// Three nodes with a controller elected and every broker registered and unfenced.
    pub(super) fn new() -> Trio {
        Trio::new_at(Millis(1_000))
    }

    /// [`Trio::new`] with the clocks starting at `now`.
    pub(super) fn new_at(now: Millis) -> Trio {
        Trio::with_broker_config(now, BrokerConfig::default())
    }

    /// [`Trio::new_at`] with every node's broker configured with `broker`.
    pub(super) fn with_broker_config(now: Millis, broker: BrokerConfig) -> Trio {
        let nodes = VOTERS
            .iter()
            .map(|&id| {
                let raft_log = RaftLog::default();
                let config = config(id, broker.clone());
                let node = Node::new(config, MemoryStorageFactory, &raft_log, &[], now);
                Driven { node, raft_log }
            })
            .collect();
        let mut trio = Trio {
            nodes,
            now,
            in_flight: Vec::new(),
            answers: BTreeMap::new(),
            next_request: 0,
            delivered: Vec::new(),
            down: BTreeSet::new(),
            lose: None,
            skew_ms: [0; 3],
        };
        trio.run_until(30_000, |t| {
            t.nodes
                .iter()
                .all(|n| n.node.image().live_brokers().len() == VOTERS.len())
        });
        trio
    }

    pub(super) fn node(&mut self, id: BrokerId) -> &mut Node<MemoryStorageFactory> {
        &mut self.nodes[(id - 1) as usize].node
    }

    /// Node `id`'s wall clock: `now` and its skew.
    pub(super) fn clock(&self, id: BrokerId) -> Millis {
        let skewed = self.now.0 as i64 + self.skew_ms[(id - 1) as usize];
        Millis(skewed.max(0) as u64)
    }

    fn drain(&mut self) {
        for driven in &mut self.nodes {
            let from = driven.node.node_id();
            while let Some(output) = driven.node.poll_output() {
                match output {
                    Output::PersistRaft(write) => driven.raft_log.apply(write),
                    Output::Send { to, message } => self.in_flight.push((from, to, message)),
                    Output::Respond { request, response } => {
                        self.answers.insert(request, response);
                    }
                    Output::PersistGroups(_) | Output::Event(_) => {}
                }
            }
        }
    }

    /// One step: every message sent so far is delivered, then every node's timers run.
    pub(super) fn step(&mut self) {
        self.drain();
        self.now = self.now.plus(STEP);
        for (from, to, message) in std::mem::take(&mut self.in_flight) {
            let lost = self.lose.is_some_and(|lose| lose(from, &message));
            if lost || self.down.contains(&from) || self.down.contains(&to) {
                continue;
            }
            self.delivered.push(message.summary());
            let now = self.clock(to);
            self.node(to).handle_peer(now, from, message);
        }
        for index in 0..self.nodes.len() {
            let id = self.nodes[index].node.node_id();
            if !self.down.contains(&id) {
                let now = self.clock(id);
                self.nodes[index].node.handle_timeout(now);
            }
        }
        self.drain();
    }

    /// Steps until `done` holds; panics after `ms` of simulated time.
    #[track_caller]
    pub(super) fn run_until(&mut self, ms: u64, mut done: impl FnMut(&mut Trio) -> bool) {
        let end = self.now.plus(Millis(ms));
        while self.now < end {
            if done(self) {
                return;
            }
            self.step();
        }
        panic!("not done after {ms} ms");
    }

    /// A client request handed to node `to` (its outputs drained), not stepped: its id.
    pub(super) fn submit(&mut self, to: BrokerId, body: Request) -> RequestRef {
        self.next_request += 1;
        let request = RequestRef(self.next_request);
        let now = self.clock(to);
        self.node(to).handle_request(now, request, body);
        self.drain();
        request
    }

    /// The answer to `request`, if it came (taken).
    pub(super) fn answer(&mut self, request: RequestRef) -> Option<Response> {
        self.answers.remove(&request)
    }

    /// Whether `request` is answered yet.
    pub(super) fn answered(&self, request: RequestRef) -> bool {
        self.answers.contains_key(&request)
    }

    /// A client request to node `to`, stepped until answered.
    #[track_caller]
    pub(super) fn call(&mut self, to: BrokerId, body: Request) -> Response {
        self.call_within(to, body, 10_000)
    }

    /// [`Trio::call`], answered within `ms` of simulated time.
    #[track_caller]
    pub(super) fn call_within(&mut self, to: BrokerId, body: Request, ms: u64) -> Response {
        let request = self.submit(to, body);
        self.run_until(ms, |t| t.answers.contains_key(&request));
        self.answers.remove(&request).expect("answered")
    }

    /// Simulated time now.
    pub(super) fn now(&self) -> Millis {
        self.now
    }

    /// Creates topic `name` with the replica `assignment` (one list per partition, the
    /// leader first) and waits until every node knows its leaders.
    pub(super) fn create_topic(&mut self, name: &str, assignment: Vec<Vec<BrokerId>>) {
        let create = CreateTopic {
            name: name.to_string(),
            partitions: None,
            replication_factor: None,
            assignment: Some(assignment.clone()),
            configs: Vec::new(),
        };
        let now = self.now;
        let controller = self.nodes[0].node.active_controller().expect("elected");
        self.node(controller)
            .create_topic(now, &create, false)
            .expect("created");
        let name = name.to_string();
        self.run_until(10_000, |t| {
            t.nodes.iter().all(|n| {
                n.node.image().topic(&name).is_some_and(|topic| {
                    topic
                        .partitions
                        .iter()
                        .zip(&assignment)
                        .all(|(s, a)| s.leader == a[0] && s.isr.len() == a.len())
                })
            })
        });
    }

    /// FindCoordinator for `transactional_id` until a node is named (the
    /// `__transaction_state` topic is created on the way); its id.
    pub(super) fn transaction_coordinator(&mut self, transactional_id: &str) -> BrokerId {
        let mut found = None;
        self.run_until(20_000, |t| {
            let now = t.now;
            found = t
                .node(1)
                .find_transaction_coordinator(now, transactional_id)
                .ok()
                .map(|c| c.node_id);
            found.is_some_and(|id| {
                let node = &t.nodes[(id - 1) as usize].node;
                node.transaction_gate(transactional_id).is_ok()
            })
        });
        found.expect("found")
    }

    /// InitProducerId for `transactional_id` on its coordinator `on` (the core takes a
    /// fresh producer id, from the controller's block, and answers once the state is in the
    /// ISR of its `__transaction_state` partition): (id, epoch).
    pub(super) fn init(&mut self, on: BrokerId, transactional_id: &str) -> (i64, i16) {
        for _ in 0..100 {
            self.next_request += 1;
            let request = RequestRef(self.next_request);
            let now = self.now;
            let init = super::TxnInit {
                transactional_id: transactional_id.to_string(),
                timeout_ms: 60_000,
                expected: None,
            };
            self.node(on)
                .handle_init_transactional_producer_id(now, request, init);
            self.drain();
            self.run_until(10_000, |t| t.answers.contains_key(&request));
            match self.answers.remove(&request) {
                Some(Response::InitProducerId {
                    error: ErrorCode::NONE,
                    producer_id,
                    producer_epoch,
                }) => return (producer_id, producer_epoch),
                _ => {
                    for _ in 0..10 {
                        self.step();
                    }
                }
            }
        }
        panic!("InitProducerId never succeeded");
    }

    /// Produces one transactional batch of `count` records to `tp` on its leader.
    pub(super) fn produce_txn(
        &mut self,
        tp: &TopicPartition,
        (producer_id, epoch): (i64, i16),
        sequence: i32,
        count: usize,
    ) {
        let mut builder = BatchBuilder::new()
            .idempotent(producer_id, epoch, sequence)
            .transactional();
        for i in 0..count {
            builder.push(0, None, Some(format!("v{i}").as_bytes()), &[]);
        }
        let leader = self.leader(tp);
        let produce = ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: Millis(5_000),
            partitions: vec![ProducePartition {
                tp: tp.clone(),
                records: builder.build(),
            }],
        };
        let Response::Produce(answer) = self.call(leader, Request::Produce(produce)) else {
            panic!("not a produce answer");
        };
        assert_eq!(answer.partitions[0].error, ErrorCode::NONE, "{answer:?}");
    }

    pub(super) fn leader(&self, tp: &TopicPartition) -> BrokerId {
        let up = self
            .nodes
            .iter()
            .find(|n| !self.down.contains(&n.node.node_id()))
            .expect("a live node");
        up.node
            .image()
            .partition(&tp.topic, tp.partition as u32)
            .expect("known")
            .leader
    }

    /// The (high watermark, last stable offset) of `tp` on its leader.
    pub(super) fn offsets(&mut self, tp: &TopicPartition) -> (i64, i64) {
        let leader = self.leader(tp);
        let broker = self.node(leader).broker().expect("a broker");
        let ask = [ListOffsetsPartition {
            tp: tp.clone(),
            spec: OffsetSpec::Latest,
            current_leader_epoch: None,
        }];
        let hw = broker.list_offsets_isolated(&ask, IsolationLevel::ReadUncommitted)[0].offset;
        let lso = broker.list_offsets_isolated(&ask, IsolationLevel::ReadCommitted)[0].offset;
        (hw, lso)
    }

    pub(super) fn state(&mut self, on: BrokerId, transactional_id: &str) -> Option<TxnState> {
        self.node(on)
            .transaction_coordinator()
            .get(transactional_id)
            .map(|t| t.state)
    }
}

pub(super) fn spread_topic(trio: &mut Trio) -> Vec<TopicPartition> {
    trio.create_topic("t", vec![vec![1, 2, 3], vec![2, 3, 1], vec![3, 1, 2]]);
    (0..3).map(|p| TopicPartition::new("t", p)).collect()
}

/// A transaction over partitions led by each of the three nodes: `commit` or abort.
fn end_across_three_leaders(commit: bool) -> Trio {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let leaders: BTreeSet<BrokerId> = partitions.iter().map(|tp| trio.leader(tp)).collect();
    assert_eq!(leaders.len(), 3, "one partition led by each node");
    let coordinator = trio.transaction_coordinator("spread");
    let producer = trio.init(coordinator, "spread");
    let now = trio.now;
    let added = trio.node(coordinator).add_partitions_to_txn(
        now,
        "spread",
        producer.0,
        producer.1,
        &partitions,
    );
    assert!(
        added.iter().all(|(_, e)| *e == ErrorCode::NONE),
        "{added:?}"
    );
    for tp in &partitions {
        trio.produce_txn(tp, producer, 0, 3);
        let (hw, lso) = trio.offsets(tp);
        assert_eq!((hw, lso), (3, 0), "the open transaction holds the LSO");
    }
    let now = trio.now;
    trio.node(coordinator)
        .end_txn(now, "spread", producer.0, producer.1, commit)
        .expect("prepared");
    let complete = if commit {
        TxnState::CompleteCommit
    } else {
        TxnState::CompleteAbort
    };
    trio.run_until(10_000, |t| t.state(coordinator, "spread") == Some(complete));
    for tp in &partitions {
        // The marker is the fourth offset; the LSO moves past it with the high watermark.
        trio.run_until(5_000, |t| t.offsets(tp) == (4, 4));
    }
    let remote = trio
        .delivered
        .iter()
        .filter(|s| s.starts_with("WriteTxnMarkers("))
        .count();
    assert!(remote >= 2, "markers went to the two other leaders");
    trio
}

#[test]
fn a_transaction_over_partitions_led_by_three_nodes_commits() {
    end_across_three_leaders(true);
}

#[test]
fn a_transaction_over_partitions_led_by_three_nodes_aborts() {
    end_across_three_leaders(false);
}

#[test]
fn a_follower_answers_a_peers_marker_not_leader_or_follower() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let coordinator = trio.transaction_coordinator("moving");
    let producer = trio.init(coordinator, "moving");
    let now = trio.now;
    trio.node(coordinator).add_partitions_to_txn(
        now,
        "moving",
        producer.0,
        producer.1,
        &partitions,
    );
    for tp in &partitions {
        trio.produce_txn(tp, producer, 0, 1);
    }
    // A peer that is not the leader answers NOT_LEADER_OR_FOLLOWER (the coordinator then
    // resolves the leader again and retries).
    let other = VOTERS
        .into_iter()
        .find(|&n| n != coordinator)
        .expect("another node");
    let tp = partitions
        .iter()
        .find(|tp| trio.leader(tp) != other)
        .expect("a partition not led by it")
        .clone();
    let now = trio.now;
    trio.node(other).handle_peer(
        now,
        coordinator,
        PeerMessage::WriteTxnMarkers {
            request_id: 1_000_000,
            markers: vec![crate::broker::TxnMarkerWrite {
                tp: tp.clone(),
                marker: crate::batch::EndTxnMarker {
                    producer_id: producer.0,
                    producer_epoch: producer.1,
                    coordinator_epoch: 0,
                    commit: true,
                },
            }],
        },
    );
    let mut answered = None;
    while let Some(output) = trio.node(other).poll_output() {
        if let Output::Send {
            message: PeerMessage::WriteTxnMarkersResponse { results, .. },
            ..
        } = output
        {
            answered = Some(results);
        }
    }
    let answered: Option<Vec<(TopicPartition, ErrorCode)>> =
        answered.map(|results| results.into_iter().map(|r| (r.tp, r.error)).collect());
    assert_eq!(
        answered,
        Some(vec![(tp, ErrorCode::NOT_LEADER_OR_FOLLOWER)]),
        "a follower refuses a marker"
    );
}

#[test]
fn a_coordinator_that_takes_over_resumes_a_prepare_commit_from_the_log() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let coordinator = trio.transaction_coordinator("resume");
    let producer = trio.init(coordinator, "resume");
    let now = trio.now;
    trio.node(coordinator).add_partitions_to_txn(
        now,
        "resume",
        producer.0,
        producer.1,
        &partitions,
    );
    for tp in &partitions {
        trio.produce_txn(tp, producer, 0, 2);
    }
    // The coordinator's markers to other nodes are lost: the transaction stays in
    // PrepareCommit, whose record reaches the ISR of its `__transaction_state` partition.
    trio.lose = Some(|_, m| matches!(m, PeerMessage::WriteTxnMarkers { .. }));
    let now = trio.now;
    trio.node(coordinator)
        .end_txn(now, "resume", producer.0, producer.1, true)
        .expect("prepared");
    assert!(
        !trio.node(coordinator).txn_durable("resume"),
        "EndTxn wrote the PrepareCommit"
    );
    trio.run_until(5_000, |t| t.node(coordinator).txn_durable("resume"));
    for _ in 0..50 {
        trio.step();
    }
    assert_eq!(
        trio.state(coordinator, "resume"),
        Some(TxnState::PrepareCommit)
    );
    // The coordinator dies; another node leads its partition, loads it and sends the markers.
    trio.down.insert(coordinator);
    trio.lose = None;
    let mut successor = 0;
    trio.run_until(60_000, |t| {
        let found = VOTERS
            .into_iter()
            .find(|&n| n != coordinator && t.state(n, "resume") == Some(TxnState::CompleteCommit));
        successor = found.unwrap_or(0);
        found.is_some()
    });
    let state = trio
        .node(successor)
        .transaction_coordinator()
        .get("resume")
        .cloned()
        .expect("loaded");
    assert_eq!(state.producer_id, producer.0);
    for tp in &partitions {
        // Two records and the commit marker (twice on the partition whose marker the old
        // coordinator wrote itself: a marker written again is harmless); the LSO is at the
        // end.
        trio.run_until(10_000, |t| {
            let (hw, lso) = t.offsets(tp);
            hw >= 3 && lso == hw
        });
    }
    // The old coordinator comes back: it learns that another node leads the partition and
    // forgets the transactional id (unloads it) rather than serving it stale.
    trio.down.remove(&coordinator);
    trio.run_until(30_000, |t| {
        let node = t.node(coordinator);
        node.transaction_gate("resume") == Err(ErrorCode::NOT_COORDINATOR)
            && node.transaction_coordinator().get("resume").is_none()
    });
}

#[test]
fn init_producer_id_is_answered_once_its_state_is_in_the_isr() {
    let mut trio = Trio::new();
    let coordinator = trio.transaction_coordinator("durable");
    // A first init takes the producer id block; the second is only an epoch bump.
    let (producer_id, epoch) = trio.init(coordinator, "durable");
    trio.next_request += 1;
    let request = RequestRef(trio.next_request);
    let now = trio.now;
    let init = super::TxnInit {
        transactional_id: "durable".to_string(),
        timeout_ms: 60_000,
        expected: None,
    };
    trio.node(coordinator)
        .handle_init_transactional_producer_id(now, request, init);
    trio.drain();
    assert!(
        !trio.answers.contains_key(&request),
        "not answered before the followers have the new epoch"
    );
    trio.run_until(5_000, |t| t.answers.contains_key(&request));
    assert_eq!(
        trio.answers.remove(&request),
        Some(Response::InitProducerId {
            error: ErrorCode::NONE,
            producer_id,
            producer_epoch: epoch + 1,
        })
    );
}

/// A retried AddPartitionsToTxn that finds the first request's state write not yet in the
/// ISR is answered CONCURRENT_TRANSACTIONS (Kafka's `pendingTransitionInProgress`; the
/// client backs off and retries); once the write is in, the same request is answered NONE at
/// once (its partitions are in the transaction already: nothing to write).
#[test]
fn a_retried_add_partitions_to_txn_during_the_first_write_is_concurrent_transactions() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let coordinator = trio.transaction_coordinator("retried");
    let (producer_id, producer_epoch) = trio.init(coordinator, "retried");
    let add = Request::AddPartitionsToTxn {
        transactional_id: "retried".to_string(),
        producer_id,
        producer_epoch,
        partitions: partitions.clone(),
    };
    let codes = |answer: Option<Response>| match answer {
        Some(Response::AddPartitionsToTxn(results)) => {
            let mut codes: Vec<ErrorCode> = results.into_iter().map(|(_, e)| e).collect();
            codes.dedup();
            codes
        }
        other => panic!("{other:?}"),
    };
    let first = trio.submit(coordinator, add.clone());
    let retry = trio.submit(coordinator, add.clone());
    assert!(
        !trio.answered(first),
        "not answered before the followers have the state"
    );
    assert_eq!(
        codes(trio.answer(retry)),
        vec![ErrorCode::CONCURRENT_TRANSACTIONS],
        "a retry during the first write"
    );
    // A fenced epoch is still PRODUCER_FENCED first, as Kafka checks it before the pending
    // transition.
    let stale = Request::AddPartitionsToTxn {
        transactional_id: "retried".to_string(),
        producer_id,
        producer_epoch: producer_epoch - 1,
        partitions: partitions.clone(),
    };
    if producer_epoch > 0 {
        let stale = trio.submit(coordinator, stale);
        assert_eq!(codes(trio.answer(stale)), vec![ErrorCode::PRODUCER_FENCED]);
    }
    // EndTxn and InitProducerId meanwhile: CONCURRENT_TRANSACTIONS too.
    let end = trio.submit(
        coordinator,
        Request::EndTxn {
            transactional_id: "retried".to_string(),
            producer_id,
            producer_epoch,
            commit: true,
        },
    );
    assert_eq!(
        trio.answer(end),
        Some(Response::EndTxn(ErrorCode::CONCURRENT_TRANSACTIONS))
    );
    let init = trio.submit(
        coordinator,
        Request::InitTransactionalProducerId {
            transactional_id: "retried".to_string(),
            transaction_timeout_ms: 60_000,
            expected: None,
        },
    );
    assert!(matches!(
        trio.answer(init),
        Some(Response::InitProducerId {
            error: ErrorCode::CONCURRENT_TRANSACTIONS,
            ..
        })
    ));
    assert!(!trio.node(coordinator).txn_durable("retried"));
    trio.run_until(5_000, |t| t.answered(first));
    assert_eq!(codes(trio.answer(first)), vec![ErrorCode::NONE]);
    assert!(trio.node(coordinator).txn_durable("retried"));
    // The retry again, now the write is in: answered at once, nothing written.
    let again = trio.submit(coordinator, add);
    assert_eq!(codes(trio.answer(again)), vec![ErrorCode::NONE]);
    assert!(trio.node(coordinator).txn_durable("retried"));
}
