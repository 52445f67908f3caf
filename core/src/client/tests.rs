//! The simulated clients against the real engine, wired together without a network: one
//! broker (id 1) leading every partition of topic `t`, and a group coordinator. Each call
//! delivers every request at once and feeds the answers back until nothing moves.

use super::consumer::{Consumer, ConsumerConfig, ConsumerEvent, MemberPhase, OffsetReset};
use super::producer::{Producer, ProducerConfig, ProducerEvent};
use super::*;
use crate::Millis;
use crate::assignor::{AssignorKind, TopicPartition};
use crate::broker::{
    ACKS_ALL, Broker, BrokerSettings, MemoryStorageFactory, Output, PartitionSettings,
};
use crate::controller::PartitionState;
use crate::group::{Coordinator, CoordinatorConfig, Output as GroupOutput, RequestId};
use crate::partitioner::crc32;

const BROKER: i32 = 1;

struct Cluster {
    broker: Broker<MemoryStorageFactory>,
    coordinator: Coordinator,
    partitions: u32,
    next_request: u64,
    /// Answers the broker or coordinator will give later: request id to (client, correlation).
    parked: Vec<(RequestId, usize, u64)>,
    /// When true, produce answers are thrown away (the network lost them).
    lose_produce_responses: bool,
    /// Until then, an OffsetFetch with `require_stable` is answered UNSTABLE_OFFSET_COMMIT
    /// for every partition (a transaction holds them).
    unstable_until: Millis,
    /// Every OffsetFetch: when it came and whether it asked for stable offsets.
    offset_fetches: Vec<(Millis, bool)>,
}

/// Either client, so one cluster can serve several.
enum Client {
    P(Producer),
    C(Consumer),
}

impl Client {
    fn outgoing(&mut self) -> Option<Outgoing> {
        match self {
            Client::P(p) => p.poll_outgoing(),
            Client::C(c) => c.poll_outgoing(),
        }
    }

    fn deliver(&mut self, correlation_id: u64, response: Response, now: Millis) {
        match self {
            Client::P(p) => p.handle_response(correlation_id, response, now),
            Client::C(c) => c.handle_response(correlation_id, response, now),
        }
    }

    fn producer(&mut self) -> &mut Producer {
        match self {
            Client::P(p) => p,
            Client::C(_) => panic!("not a producer"),
        }
    }

    fn consumer(&mut self) -> &mut Consumer {
        match self {
            Client::C(c) => c,
            Client::P(_) => panic!("not a consumer"),
        }
    }
}

impl Cluster {
    fn new(partitions: u32) -> Cluster {
        let mut broker = Broker::new(
            BrokerSettings {
                node_id: BROKER,
                durable: false,
            },
            MemoryStorageFactory,
        );
        let state = PartitionState {
            replicas: vec![BROKER],
            isr: vec![BROKER],
            leader: BROKER,
            leader_epoch: 0,
            partition_epoch: 0,
        };
        for p in 0..partitions {
            let tp = TopicPartition::new("t", p as i32);
            broker
                .apply_partition(&tp, &state, PartitionSettings::default(), Millis::ZERO)
                .unwrap();
        }
        let config = CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            group_min_session_timeout_ms: Millis(100),
            ..CoordinatorConfig::default()
        };
        Cluster {
            broker,
            coordinator: Coordinator::new(config, 1),
            partitions,
            next_request: 0,
            parked: Vec::new(),
            lose_produce_responses: false,
            unstable_until: Millis::ZERO,
            offset_fetches: Vec::new(),
        }
    }

    fn metadata(&self) -> MetadataResponse {
        let partitions = (0..self.partitions)
            .map(|_| PartitionMetadata {
                leader: BROKER,
                leader_epoch: 0,
            })
            .collect();
        MetadataResponse {
            brokers: vec![BROKER],
            topics: [("t".to_string(), partitions)].into(),
        }
    }

    fn park(&mut self, client: usize, correlation_id: u64) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.parked.push((id, client, correlation_id));
        id
    }

    fn answer(&mut self, client: usize, o: Outgoing, now: Millis) -> Vec<(usize, u64, Response)> {
        let id = o.correlation_id;
        let now_answer = |r| vec![(client, id, r)];
        match o.request {
            Request::Metadata { .. } => now_answer(Response::Metadata(self.metadata())),
            Request::InitProducerId => now_answer(Response::InitProducerId {
                error: crate::ErrorCode::NONE,
                producer_id: 7,
                producer_epoch: 0,
            }),
            Request::ListOffsets(partitions) => {
                now_answer(Response::ListOffsets(self.broker.list_offsets(&partitions)))
            }
            Request::Produce(produce) => {
                let request = self.park(client, id);
                self.broker.produce(request, produce, now);
                Vec::new()
            }
            Request::Fetch(fetch) => {
                let request = self.park(client, id);
                self.broker.fetch(request, fetch, now);
                Vec::new()
            }
            Request::JoinGroup(join) => {
                let request = self.park(client, id);
                self.coordinator.handle_join(request, join, now);
                Vec::new()
            }
            Request::SyncGroup(sync) => {
                let request = self.park(client, id);
                self.coordinator.handle_sync(request, sync, now);
                Vec::new()
            }
            Request::Heartbeat(h) => now_answer(Response::Heartbeat(
                self.coordinator.handle_heartbeat(&h, now),
            )),
            Request::LeaveGroup { group_id, members } => now_answer(Response::LeaveGroup(
                self.coordinator.handle_leave(&group_id, &members, now),
            )),
            Request::OffsetCommit(commit) => now_answer(Response::OffsetCommit(
                self.coordinator.handle_offset_commit(&commit, now),
            )),
            Request::FindCoordinator { .. } => now_answer(Response::FindCoordinator(Ok(BROKER))),
            Request::OffsetFetch {
                group_id,
                partitions,
                require_stable,
            } => {
                self.offset_fetches.push((now, require_stable));
                let unstable = require_stable && now < self.unstable_until;
                now_answer(Response::OffsetFetch(
                    self.coordinator
                        .handle_offset_fetch(&group_id, Some(&partitions))
                        .map(|offsets| {
                            offsets
                                .into_iter()
                                .map(|(tp, o)| {
                                    let answer = if unstable {
                                        Err(crate::group::OffsetFetchError::UnstableOffsetCommit)
                                    } else {
                                        Ok(o)
                                    };
                                    (tp, answer)
                                })
                                .collect()
                        }),
                ))
            }
            // The transactional APIs are tested through a whole node (`sim`).
            other => panic!("this harness has no transaction coordinator: {other:?}"),
        }
    }

    /// The answers the broker and the coordinator produced since last asked.
    fn late_answers(&mut self, now: Millis) -> Vec<(usize, u64, Response)> {
        let mut out = Vec::new();
        let mut resolve =
            |parked: &mut Vec<(RequestId, usize, u64)>, request: RequestId, response: Response| {
                if let Some(at) = parked.iter().position(|(r, _, _)| *r == request) {
                    let (_, client, id) = parked.remove(at);
                    out.push((client, id, response));
                }
            };
        while let Some(output) = self.broker.poll_output() {
            match output {
                Output::Produced { request, response } => {
                    if self.lose_produce_responses {
                        self.parked.retain(|(r, _, _)| *r != request);
                    } else {
                        resolve(&mut self.parked, request, Response::Produce(response));
                    }
                }
                Output::Fetched { request, response } => {
                    resolve(&mut self.parked, request, Response::Fetch(response))
                }
            }
        }
        while let Some(output) = self.coordinator.poll_output() {
            match output {
                GroupOutput::JoinGroup { request, result } => {
                    resolve(&mut self.parked, request, Response::JoinGroup(result))
                }
                GroupOutput::SyncGroup { request, result } => {
                    resolve(&mut self.parked, request, Response::SyncGroup(result))
                }
                // This harness's log is perfect: every record is written at once.
                GroupOutput::Persist(record) => {
                    self.coordinator
                        .handle_written(std::slice::from_ref(&record), true, now)
                }
                GroupOutput::Event(_) => {}
            }
        }
        out
    }

    /// Delivers requests and answers at `now` until nothing moves.
    fn settle(&mut self, clients: &mut [Client], now: Millis) {
        self.broker.tick(now).unwrap();
        self.coordinator.tick(now);
        for _ in 0..1_000 {
            let mut answers = Vec::new();
            for (i, client) in clients.iter_mut().enumerate() {
                while let Some(o) = client.outgoing() {
                    answers.extend(self.answer(i, o, now));
                }
            }
            answers.extend(self.late_answers(now));
            if answers.is_empty() {
                return;
            }
            for (i, id, response) in answers {
                clients[i].deliver(id, response, now);
            }
        }
        panic!("the clients never settled");
    }

    /// Ticks everything every `step_ms` from `from` to `to`, polling the consumers.
    fn run(
        &mut self,
        clients: &mut [Client],
        from: u64,
        to: u64,
        step_ms: u64,
    ) -> Vec<Vec<crate::client::consumer::ConsumerRecord>> {
        let mut polled = vec![Vec::new(); clients.len()];
        let mut t = from;
        while t <= to {
            let now = Millis(t);
            for (i, client) in clients.iter_mut().enumerate() {
                match client {
                    Client::P(p) => p.tick(now),
                    Client::C(c) => {
                        c.tick(now);
                        polled[i].extend(c.poll(now));
                    }
                }
            }
            self.settle(clients, now);
            t += step_ms;
        }
        polled
    }
}

fn producer_config() -> ProducerConfig {
    ProducerConfig {
        linger_ms: Millis(10),
        request_timeout_ms: Millis(100),
        retry_backoff_ms: Millis(10),
        ..ProducerConfig::default()
    }
}

fn events(p: &mut Producer) -> Vec<ProducerEvent> {
    std::iter::from_fn(|| p.poll_event()).collect()
}

fn delivered(events: &[ProducerEvent]) -> Vec<(TopicPartition, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            ProducerEvent::Delivered { tp, offset, .. } => Some((tp.clone(), *offset)),
            _ => None,
        })
        .collect()
}

#[test]
fn keyed_records_go_where_librdkafka_puts_them() {
    let mut cluster = Cluster::new(6);
    let mut clients = [Client::P(Producer::new(producer_config(), vec![BROKER], 1))];
    let keys: [&[u8]; 4] = [b"user:42", b"123456789", b"hejsan", b"23456"];
    for key in keys {
        clients[0]
            .producer()
            .send("t", Some(key), b"v", Millis::ZERO);
    }
    cluster.run(&mut clients, 0, 50, 10);
    let mut got: Vec<(u64, i32)> = events(clients[0].producer())
        .into_iter()
        .filter_map(|e| match e {
            ProducerEvent::Delivered { id, tp, .. } => Some((id, tp.partition)),
            _ => None,
        })
        .collect();
    got.sort_unstable();
    let expected: Vec<i32> = keys.iter().map(|k| (crc32(k) % 6) as i32).collect();
    assert_eq!(got.iter().map(|(_, p)| *p).collect::<Vec<_>>(), expected);
    // crc32("123456789") is 0xCBF43926, the check value of CRC-32/ISO-HDLC.
    assert_eq!(expected[1], (0xCBF4_3926u32 % 6) as i32);
}

#[test]
fn records_wait_for_linger_unless_the_batch_is_full() {
    let mut cluster = Cluster::new(1);
    let config = ProducerConfig {
        linger_ms: Millis(50),
        batch_size_bytes: 200,
        ..producer_config()
    };
    let mut clients = [Client::P(Producer::new(config, vec![BROKER], 1))];
    clients[0]
        .producer()
        .send("t", None, b"small", Millis::ZERO);
    cluster.run(&mut clients, 0, 40, 10);
    assert!(
        delivered(&events(clients[0].producer())).is_empty(),
        "sent before linger.ms"
    );
    cluster.run(&mut clients, 50, 50, 10);
    assert_eq!(delivered(&events(clients[0].producer())).len(), 1);
    // A batch that reaches batch.size goes at once.
    for _ in 0..10 {
        clients[0]
            .producer()
            .send("t", None, &[b'x'; 40], Millis(60));
    }
    cluster.settle(&mut clients, Millis(60));
    assert!(!delivered(&events(clients[0].producer())).is_empty());
}

#[test]
fn acks_zero_reports_delivery_without_an_offset() {
    let mut cluster = Cluster::new(1);
    let config = ProducerConfig {
        acks: 0,
        ..producer_config()
    };
    let mut clients = [Client::P(Producer::new(config, vec![BROKER], 1))];
    clients[0].producer().send("t", None, b"v", Millis::ZERO);
    cluster.run(&mut clients, 0, 20, 10);
    assert_eq!(
        delivered(&events(clients[0].producer())),
        vec![(TopicPartition::new("t", 0), -1)]
    );
    assert_eq!(
        cluster
            .broker
            .partition(&TopicPartition::new("t", 0))
            .unwrap()
            .log_end_offset,
        1
    );
}

#[test]
fn lost_responses_are_retried_and_duplicate_without_idempotence() {
    for idempotent in [false, true] {
        let mut cluster = Cluster::new(1);
        let config = ProducerConfig {
            acks: ACKS_ALL,
            enable_idempotence: idempotent,
            ..producer_config()
        };
        let mut clients = [Client::P(Producer::new(config, vec![BROKER], 1))];
        clients[0].producer().send("t", None, b"v", Millis::ZERO);
        cluster.lose_produce_responses = true;
        cluster.run(&mut clients, 0, 20, 10);
        cluster.lose_produce_responses = false;
        cluster.run(&mut clients, 30, 300, 10);
        let events = events(clients[0].producer());
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ProducerEvent::Retrying { .. })),
            "{events:?}"
        );
        assert_eq!(delivered(&events).len(), 1, "one report per send");
        let log_end = cluster
            .broker
            .partition(&TopicPartition::new("t", 0))
            .unwrap()
            .log_end_offset;
        assert_eq!(
            log_end,
            if idempotent { 1 } else { 2 },
            "idempotent={idempotent}"
        );
    }
}

#[test]
fn a_record_that_cannot_be_delivered_in_time_fails() {
    let mut cluster = Cluster::new(1);
    let config = ProducerConfig {
        delivery_timeout_ms: Millis(200),
        ..producer_config()
    };
    let mut clients = [Client::P(Producer::new(config, vec![BROKER], 1))];
    clients[0].producer().send("t", None, b"v", Millis::ZERO);
    cluster.lose_produce_responses = true;
    cluster.run(&mut clients, 0, 400, 10);
    let events = events(clients[0].producer());
    assert!(
        events.iter().any(|e| matches!(
            e,
            ProducerEvent::Failed {
                error: crate::ErrorCode::REQUEST_TIMED_OUT,
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(clients[0].producer().pending_count(), 0);
}

fn consumer_config(name: &str, assignor: AssignorKind) -> ConsumerConfig {
    ConsumerConfig {
        client_id: name.into(),
        group_id: "g".into(),
        assignor,
        auto_offset_reset: OffsetReset::Earliest,
        heartbeat_interval_ms: Millis(30),
        session_timeout_ms: Millis(300),
        max_poll_interval_ms: Millis(1_000),
        fetch_max_wait_ms: Millis(10),
        ..ConsumerConfig::default()
    }
}

fn consumer(name: &str, assignor: AssignorKind) -> Client {
    let mut c = Consumer::new(consumer_config(name, assignor), vec![BROKER], Millis::ZERO);
    c.subscribe(&["t"], Millis::ZERO);
    Client::C(c)
}

fn consumer_events(c: &mut Consumer) -> Vec<ConsumerEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn produce(cluster: &mut Cluster, count: usize) {
    let mut clients = [Client::P(Producer::new(producer_config(), vec![BROKER], 3))];
    for i in 0..count {
        clients[0].producer().send(
            "t",
            Some(format!("k{i}").as_bytes()),
            format!("v{i}").as_bytes(),
            Millis::ZERO,
        );
    }
    cluster.run(&mut clients, 0, 20, 10);
}

#[test]
fn a_consumer_joins_gets_everything_and_reads_from_the_earliest_offset() {
    let mut cluster = Cluster::new(3);
    produce(&mut cluster, 30);
    let mut clients = [consumer("c", AssignorKind::Range)];
    let polled = cluster.run(&mut clients, 0, 200, 10);
    let c = clients[0].consumer();
    assert_eq!(c.phase(), MemberPhase::Stable);
    assert_eq!(c.assignment().len(), 3);
    assert_eq!(polled[0].len(), 30);
    let events = consumer_events(c);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConsumerEvent::Joined { leader: true, .. }))
    );
    for p in 0..3 {
        let tp = TopicPartition::new("t", p);
        assert_eq!(
            c.position(&tp),
            cluster.broker.partition(&tp).map(|s| s.high_watermark)
        );
    }
}

#[test]
fn max_poll_records_bounds_each_poll() {
    let mut cluster = Cluster::new(1);
    produce(&mut cluster, 25);
    let mut config = consumer_config("c", AssignorKind::Range);
    config.max_poll_records = 10;
    let mut c = Consumer::new(config, vec![BROKER], Millis::ZERO);
    c.subscribe(&["t"], Millis::ZERO);
    let mut clients = [Client::C(c)];
    for t in (0..100).step_by(10) {
        let now = Millis(t);
        clients[0].consumer().tick(now);
        assert!(clients[0].consumer().poll(now).len() <= 10);
        cluster.settle(&mut clients, now);
    }
}

#[test]
fn auto_offset_reset_none_reports_no_offset() {
    let mut cluster = Cluster::new(1);
    let mut config = consumer_config("c", AssignorKind::Range);
    config.auto_offset_reset = OffsetReset::None;
    let mut c = Consumer::new(config, vec![BROKER], Millis::ZERO);
    c.subscribe(&["t"], Millis::ZERO);
    let mut clients = [Client::C(c)];
    cluster.run(&mut clients, 0, 100, 10);
    let events = consumer_events(clients[0].consumer());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConsumerEvent::NoOffset { .. })),
        "{events:?}"
    );
}

#[test]
fn committed_offsets_are_where_the_next_member_starts() {
    let mut cluster = Cluster::new(1);
    produce(&mut cluster, 10);
    let tp = TopicPartition::new("t", 0);
    let mut config = consumer_config("a", AssignorKind::Range);
    config.enable_auto_commit = false;
    let mut a = Consumer::new(config, vec![BROKER], Millis::ZERO);
    a.subscribe(&["t"], Millis::ZERO);
    let mut clients = [Client::C(a)];
    cluster.run(&mut clients, 0, 100, 10);
    clients[0]
        .consumer()
        .commit(vec![(tp.clone(), 4)], Millis(100));
    cluster.settle(&mut clients, Millis(100));
    clients[0].consumer().close(Millis(110));
    cluster.settle(&mut clients, Millis(110));
    let mut config = consumer_config("b", AssignorKind::Range);
    config.enable_auto_commit = false;
    let mut b = Consumer::new(config, vec![BROKER], Millis(120));
    b.subscribe(&["t"], Millis(120));
    let mut clients = [Client::C(b)];
    let polled = cluster.run(&mut clients, 120, 300, 10);
    assert_eq!(polled[0].first().map(|r| r.offset), Some(4));
}

/// KIP-447: a read_committed consumer asks for stable offsets and, answered
/// UNSTABLE_OFFSET_COMMIT, asks again after `retry.backoff.ms` (not sooner) until it gets
/// one; a read_uncommitted one does not ask for them.
#[test]
fn a_read_committed_consumer_asks_for_stable_offsets_and_retries_unstable_ones() {
    let mut cluster = Cluster::new(1);
    produce(&mut cluster, 10);
    let tp = TopicPartition::new("t", 0);
    let committed = crate::group::CommittedOffset {
        offset: 6,
        leader_epoch: None,
        metadata: String::new(),
        commit_timestamp: Millis::ZERO,
    };
    cluster
        .coordinator
        .apply_txn_offsets(vec![("g".into(), tp.clone(), committed)], Millis::ZERO);
    cluster.unstable_until = Millis(300);
    let mut config = consumer_config("c", AssignorKind::Range);
    config.isolation_level = crate::broker::IsolationLevel::ReadCommitted;
    config.enable_auto_commit = false;
    let backoff = config.retry_backoff_ms;
    let mut c = Consumer::new(config, vec![BROKER], Millis::ZERO);
    c.subscribe(&["t"], Millis::ZERO);
    let mut clients = [Client::C(c)];
    let polled = cluster.run(&mut clients, 0, 600, 10);
    let fetches = cluster.offset_fetches.clone();
    assert!(fetches.iter().all(|(_, stable)| *stable), "{fetches:?}");
    let unstable: Vec<Millis> = fetches
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at < Millis(300))
        .collect();
    assert!(unstable.len() >= 2, "retried: {fetches:?}");
    for pair in unstable.windows(2) {
        assert!(pair[1] >= pair[0].plus(backoff), "backed off: {fetches:?}");
    }
    assert_eq!(
        polled[0].first().map(|r| r.offset),
        Some(6),
        "started from the committed offset once stable"
    );
    // read_uncommitted asks for offsets as they are.
    cluster.offset_fetches.clear();
    let mut config = consumer_config("d", AssignorKind::Range);
    config.group_id = "h".into();
    let mut d = Consumer::new(config, vec![BROKER], Millis(700));
    d.subscribe(&["t"], Millis(700));
    let mut clients = [Client::C(d)];
    cluster.run(&mut clients, 700, 900, 10);
    assert!(
        !cluster.offset_fetches.is_empty()
            && cluster.offset_fetches.iter().all(|(_, stable)| !*stable)
    );
}

#[test]
fn a_member_that_stops_polling_leaves_the_group() {
    let mut cluster = Cluster::new(2);
    let mut clients = [consumer("a", AssignorKind::Range)];
    cluster.run(&mut clients, 0, 100, 10);
    assert_eq!(clients[0].consumer().assignment().len(), 2);
    // Only the heartbeat thread runs (tick), the application never polls.
    for t in (110..=1_300).step_by(10) {
        clients[0].consumer().tick(Millis(t));
        cluster.settle(&mut clients, Millis(t));
    }
    let events = consumer_events(clients[0].consumer());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConsumerEvent::Left { .. })),
        "{events:?}"
    );
    assert!(clients[0].consumer().assignment().is_empty());
}

/// Revocations per member after a third member joins two that share six partitions.
fn revocations_when_a_third_joins(assignor: AssignorKind) -> usize {
    let mut cluster = Cluster::new(6);
    let mut clients = vec![consumer("a", assignor), consumer("b", assignor)];
    cluster.run(&mut clients, 0, 300, 10);
    for c in &mut clients {
        assert_eq!(c.consumer().assignment().len(), 3);
        consumer_events(c.consumer());
    }
    let mut third = Consumer::new(consumer_config("c", assignor), vec![BROKER], Millis(310));
    third.subscribe(&["t"], Millis(310));
    clients.push(Client::C(third));
    cluster.run(&mut clients, 310, 1_000, 10);
    let mut revoked = 0;
    for c in &mut clients {
        assert_eq!(
            c.consumer().assignment().len(),
            2,
            "balanced after the rebalance"
        );
        for e in consumer_events(c.consumer()) {
            if let ConsumerEvent::Revoked { partitions, .. } = e {
                revoked += partitions.len();
            }
        }
    }
    revoked
}

#[test]
fn eager_members_revoke_everything_cooperative_ones_only_what_moves() {
    assert_eq!(revocations_when_a_third_joins(AssignorKind::Range), 6);
    assert_eq!(revocations_when_a_third_joins(AssignorKind::RoundRobin), 6);
    assert_eq!(
        revocations_when_a_third_joins(AssignorKind::CooperativeSticky),
        2
    );
}
