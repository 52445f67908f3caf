//! Scenarios for the controller, each with explicit time. Every scenario ends by replaying the
//! records it produced into a fresh image and comparing: the log alone must reproduce state.

use super::*;
use crate::config::BrokerConfig;
use crate::{ErrorCode, Millis};

/// A controller with a record log, as a shell would keep it.
struct Harness {
    controller: Controller,
    log: Vec<MetadataRecord>,
}

impl Harness {
    /// Brokers `ids` registered and unfenced at time 0, with broker config `pairs`.
    fn new(ids: &[BrokerId], pairs: &[(&str, &str)]) -> Harness {
        let config = BrokerConfig::from_pairs(pairs.iter().copied()).unwrap();
        let mut harness = Harness {
            controller: Controller::new(config, 42),
            log: Vec::new(),
        };
        for id in ids {
            harness.start(Millis::ZERO, *id);
        }
        harness
    }

    fn record(&mut self, records: Vec<MetadataRecord>) -> Vec<MetadataRecord> {
        self.log.extend(records.iter().cloned());
        records
    }

    /// Registers `id` and sends its first heartbeat.
    fn start(&mut self, now: Millis, id: BrokerId) {
        let records = self
            .controller
            .register_broker(now, id, "127.0.0.1", 9092)
            .unwrap();
        self.record(records);
        self.heartbeat(now, id);
    }

    fn heartbeat(&mut self, now: Millis, id: BrokerId) -> Vec<MetadataRecord> {
        let epoch = self.controller.image().broker(id).unwrap().broker_epoch;
        let records = self.controller.broker_heartbeat(now, id, epoch).unwrap();
        self.record(records)
    }

    fn crash(&mut self, id: BrokerId) -> Vec<MetadataRecord> {
        let records = self.controller.fence_broker(id).unwrap();
        self.record(records)
    }

    fn tick(&mut self, now: Millis) -> Vec<MetadataRecord> {
        let records = self.controller.tick(now);
        self.record(records)
    }

    fn create(
        &mut self,
        name: &str,
        partitions: u32,
        replication_factor: u16,
        configs: &[(&str, &str)],
    ) {
        let request = CreateTopic {
            name: name.to_string(),
            partitions: Some(partitions),
            replication_factor: Some(replication_factor),
            configs: configs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CreateTopic::default()
        };
        let records = self.controller.create_topic(&request).unwrap();
        self.record(records);
    }

    fn alter_isr(
        &mut self,
        topic: &str,
        partition: u32,
        new_isr: &[BrokerId],
    ) -> Vec<MetadataRecord> {
        let request = self.alter_request(topic, partition, new_isr);
        let records = self.controller.alter_partition(&request).unwrap();
        self.record(records)
    }

    /// An AlterPartition from the current leader with the current epochs.
    fn alter_request(&self, topic: &str, partition: u32, new_isr: &[BrokerId]) -> AlterPartition {
        let image = self.controller.image();
        let state = image.partition(topic, partition).unwrap();
        AlterPartition {
            broker_id: state.leader,
            topic_id: image.topic(topic).unwrap().id,
            partition,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
            new_isr: new_isr.to_vec(),
        }
    }

    /// Asserts the partitions of `topic`, one line each, and that replay reproduces the image.
    fn check(&self, topic: &str, expect: &str) {
        let image = self.controller.image();
        let actual: Vec<String> = image
            .topic(topic)
            .unwrap()
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{topic}-{i} replicas={:?} isr={:?} leader={} epochs={}/{}",
                    p.replicas, p.isr, p.leader, p.leader_epoch, p.partition_epoch
                )
            })
            .collect();
        assert_eq!(actual.join("\n"), expect.trim());
        self.check_replay();
    }

    fn check_replay(&self) {
        let mut replayed = MetadataImage::default();
        for record in &self.log {
            replayed.apply(record);
        }
        assert_eq!(&replayed, self.controller.image());
    }
}

/// Renders records one per line, for asserting what a command wrote to the log.
fn render(records: &[MetadataRecord]) -> String {
    records
        .iter()
        .map(|record| match record {
            MetadataRecord::PartitionChange(r) => {
                format!(
                    "PartitionChange p{} leader={:?} isr={:?}",
                    r.partition, r.leader, r.isr
                )
            }
            MetadataRecord::FenceBroker(r) => format!("FenceBroker {}", r.broker_id),
            MetadataRecord::UnfenceBroker(r) => format!("UnfenceBroker {}", r.broker_id),
            MetadataRecord::RegisterBroker(r) => {
                format!("RegisterBroker {} epoch={}", r.broker_id, r.broker_epoch)
            }
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn create_topic_spreads_replicas_round_robin_over_live_brokers() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create("orders", 3, 3, &[]);
    h.check(
        "orders",
        "
orders-0 replicas=[2, 3, 1] isr=[2, 3, 1] leader=2 epochs=0/0
orders-1 replicas=[3, 1, 2] isr=[3, 1, 2] leader=3 epochs=0/0
orders-2 replicas=[1, 2, 3] isr=[1, 2, 3] leader=1 epochs=0/0",
    );
    let topic = h.controller.image().topic("orders").unwrap();
    assert_eq!(
        h.controller.image().topic_by_id(topic.id).unwrap().name,
        "orders"
    );
}

#[test]
fn create_topic_uses_broker_defaults_and_explicit_assignments() {
    let mut h = Harness::new(
        &[1, 2, 3],
        &[("num.partitions", "2"), ("default.replication.factor", "2")],
    );
    let records = h
        .controller
        .create_topic(&CreateTopic {
            name: "d".into(),
            ..CreateTopic::default()
        })
        .unwrap();
    h.record(records);
    h.check(
        "d",
        "
d-0 replicas=[2, 3] isr=[2, 3] leader=2 epochs=0/0
d-1 replicas=[3, 1] isr=[3, 1] leader=3 epochs=0/0",
    );

    h.crash(2);
    let request = CreateTopic {
        name: "manual".into(),
        assignment: Some(vec![vec![2, 1], vec![3, 2]]),
        ..CreateTopic::default()
    };
    let records = h.controller.create_topic(&request).unwrap();
    h.record(records);
    h.check(
        "manual",
        "
manual-0 replicas=[2, 1] isr=[1] leader=1 epochs=0/0
manual-1 replicas=[3, 2] isr=[3] leader=3 epochs=0/0",
    );
}

#[test]
fn topic_ids_and_placement_follow_the_seed() {
    let create = |seed: u64| {
        let mut controller = Controller::new(BrokerConfig::default(), seed);
        for id in 0..5 {
            controller
                .register_broker(Millis::ZERO, id, "h", 1)
                .unwrap();
            let epoch = controller.image().broker(id).unwrap().broker_epoch;
            controller
                .broker_heartbeat(Millis::ZERO, id, epoch)
                .unwrap();
        }
        controller
            .create_topic(&CreateTopic {
                name: "t".into(),
                partitions: Some(4),
                replication_factor: Some(2),
                ..CreateTopic::default()
            })
            .unwrap()
    };
    assert_eq!(create(7), create(7));
    assert_ne!(create(7), create(8));
}

#[test]
fn create_topic_errors_map_to_kafka_codes() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("a.b", 1, 1, &[]);
    let check = |h: &mut Harness, request: CreateTopic, code: ErrorCode, message: &str| {
        let err = h.controller.create_topic(&request).unwrap_err();
        assert_eq!((err.code(), err.to_string().as_str()), (code, message));
    };
    let topic = |name: &str| CreateTopic {
        name: name.into(),
        ..CreateTopic::default()
    };
    check(
        &mut h,
        topic("a.b"),
        ErrorCode::TOPIC_ALREADY_EXISTS,
        "Topic 'a.b' already exists.",
    );
    check(
        &mut h,
        topic("a_b"),
        ErrorCode::INVALID_TOPIC_EXCEPTION,
        "Topic 'a_b' collides with existing topic: a.b",
    );
    check(
        &mut h,
        topic(""),
        ErrorCode::INVALID_TOPIC_EXCEPTION,
        "Topic name is illegal, it can't be empty",
    );
    check(
        &mut h,
        CreateTopic {
            partitions: Some(0),
            ..topic("t")
        },
        ErrorCode::INVALID_PARTITIONS,
        "Number of partitions must be larger than 0.",
    );
    check(
        &mut h,
        CreateTopic {
            partitions: Some(TOPIC_PARTITIONS_MAX + 1),
            ..topic("t")
        },
        ErrorCode::INVALID_PARTITIONS,
        "10001 partitions exceed the limit of 10000.",
    );
    check(
        &mut h,
        CreateTopic {
            replication_factor: Some(0),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICATION_FACTOR,
        "Replication factor must be larger than 0.",
    );
    check(
        &mut h,
        CreateTopic {
            replication_factor: Some(3),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICATION_FACTOR,
        "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.",
    );
    check(
        &mut h,
        CreateTopic {
            configs: vec![("retention.ms".into(), "soon".into())],
            ..topic("t")
        },
        ErrorCode::INVALID_CONFIG,
        "Invalid value \"soon\" for configuration retention.ms: Not a number of type LONG",
    );
    check(
        &mut h,
        CreateTopic {
            configs: vec![("retention.weeks".into(), "1".into())],
            ..topic("t")
        },
        ErrorCode::INVALID_CONFIG,
        "Unknown configuration \"retention.weeks\"",
    );
    check(
        &mut h,
        CreateTopic {
            assignment: Some(vec![vec![1, 1]]),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        "The assignment for partition 0 includes broker 1 more than once.",
    );
    check(
        &mut h,
        CreateTopic {
            assignment: Some(vec![vec![1], vec![1, 2]]),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        "The assignment for partition 1 has 2 replica(s), but the others have 1.",
    );
    check(
        &mut h,
        CreateTopic {
            assignment: Some(vec![vec![9]]),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        "The assignment for partition 0 includes broker 9, which is not registered.",
    );
    check(
        &mut h,
        CreateTopic {
            assignment: Some(vec![vec![1]]),
            partitions: Some(1),
            ..topic("t")
        },
        ErrorCode::INVALID_REQUEST,
        "A manual partition assignment was specified, so the number of partitions and the replication factor must not be.",
    );
    h.crash(2);
    check(
        &mut h,
        CreateTopic {
            assignment: Some(vec![vec![2]]),
            ..topic("t")
        },
        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
        "All brokers specified for partition 0 are fenced.",
    );
    assert!(h.controller.image().topic("t").is_none());
    h.check_replay();
}

#[test]
fn leader_crash_elects_the_next_isr_member_and_bumps_the_epoch() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=3 epochs=0/0",
    );
    let records = h.crash(3);
    assert_eq!(
        render(&records),
        "FenceBroker 3\nPartitionChange p0 leader=Some(2) isr=Some([2, 1])"
    );
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[2, 1] leader=2 epochs=1/1");
    assert_eq!(h.controller.image().live_brokers(), vec![1, 2]);
}

#[test]
fn follower_crash_only_shrinks_the_isr() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.crash(1);
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[3, 2] leader=3 epochs=0/1");
}

#[test]
fn without_unclean_election_a_partition_whose_isr_died_stays_offline() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    // The last ISR member stays in the ISR: it is the only one known to have every write.
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    assert!(h.controller.image().partition("t", 0).unwrap().is_offline());

    // Broker 1 returns, but it is out of sync: it may not lead.
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");

    // Broker 2, the last ISR member, returns and leads again.
    let records = h.heartbeat(Millis(6_000), 2);
    assert_eq!(
        render(&records),
        "UnfenceBroker 2\nPartitionChange p0 leader=Some(2) isr=None"
    );
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=2 epochs=2/3");
}

#[test]
fn with_unclean_election_a_live_out_of_sync_replica_leads() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[("unclean.leader.election.enable", "true")]);
    h.crash(1);
    h.crash(2);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn enabling_unclean_election_revives_offline_partitions() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    let change = [(
        "unclean.leader.election.enable".to_string(),
        Some("true".to_string()),
    )];
    let records = h.controller.alter_topic_configs("t", &change).unwrap();
    h.record(records);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn unclean_election_is_also_a_broker_default() {
    let mut h = Harness::new(&[1, 2], &[("unclean.leader.election.enable", "true")]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn missed_heartbeats_fence_a_broker_after_the_session_timeout() {
    let mut h = Harness::new(&[1, 2], &[("broker.session.timeout.ms", "9000")]);
    h.create("t", 1, 2, &[]);
    assert_eq!(h.controller.next_deadline(), Some(Millis(9_000)));
    h.heartbeat(Millis(2_000), 1);
    h.heartbeat(Millis(2_000), 2);
    h.heartbeat(Millis(4_000), 1);
    assert_eq!(h.controller.next_deadline(), Some(Millis(11_000)));
    assert_eq!(h.tick(Millis(10_999)), vec![]);
    h.heartbeat(Millis(10_000), 1);
    let records = h.tick(Millis(11_000));
    assert_eq!(
        render(&records),
        "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])"
    );
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=1/1");
    assert_eq!(h.controller.next_deadline(), Some(Millis(19_000)));
    assert!(!h.controller.image().is_live(2));
}

#[test]
fn a_late_heartbeat_unfences_the_broker() {
    let mut h = Harness::new(&[1], &[]);
    h.tick(Millis(9_000));
    assert!(!h.controller.image().is_live(1));
    let records = h.heartbeat(Millis(9_500), 1);
    assert_eq!(render(&records), "UnfenceBroker 1");
    assert!(h.controller.image().is_live(1));
    h.check_replay();
}

#[test]
fn restarting_a_live_broker_fences_its_previous_life() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let old_epoch = h.controller.image().broker(2).unwrap().broker_epoch;
    let records = h
        .controller
        .register_broker(Millis(1_000), 2, "127.0.0.1", 9092)
        .unwrap();
    let records = h.record(records);
    let new_epoch = h.controller.image().broker(2).unwrap().broker_epoch;
    assert_eq!(
        render(&records),
        format!(
            "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])\nRegisterBroker 2 epoch={new_epoch}"
        )
    );
    let stale = h
        .controller
        .broker_heartbeat(Millis(1_000), 2, old_epoch)
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::STALE_BROKER_EPOCH);
    assert_eq!(
        h.controller
            .broker_heartbeat(Millis(1_000), 9, 0)
            .unwrap_err()
            .code(),
        ErrorCode::BROKER_NOT_AVAILABLE
    );
    assert_eq!(
        h.controller
            .register_broker(Millis(1_000), -1, "h", 1)
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_REQUEST
    );
    h.heartbeat(Millis(1_000), 2);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=1/1");
}

#[test]
fn preferred_leader_returns_once_back_in_the_isr() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.crash(3);
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[2, 1] leader=2 epochs=1/1");

    // Back, but not in the ISR yet: leadership cannot move to it.
    h.start(Millis(1_000), 3);
    assert_eq!(h.controller.elect_preferred_leaders(None).unwrap(), vec![]);

    // The leader adds it back once it caught up; the preferred election moves leadership.
    h.alter_isr("t", 0, &[2, 1, 3]);
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=2 epochs=1/2",
    );
    let records = h
        .controller
        .elect_preferred_leaders(Some(&[("t".to_string(), 0)]))
        .unwrap();
    let records = h.record(records);
    assert_eq!(
        render(&records),
        "PartitionChange p0 leader=Some(3) isr=None"
    );
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=3 epochs=2/3",
    );

    let err = h
        .controller
        .elect_preferred_leaders(Some(&[("t".to_string(), 1)]))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
}

#[test]
fn leadership_returns_to_the_preferred_replica_by_itself() {
    let mut h = Harness::new(
        &[1, 2],
        &[("leader.imbalance.check.interval.seconds", "60")],
    );
    h.create_assigned("t", vec![vec![1, 2]]);
    h.crash(1);
    h.start(Millis(1_000), 1);
    h.alter_isr("t", 0, &[1, 2]);
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=2 epochs=1/2");

    h.heartbeat(Millis(55_000), 1);
    h.heartbeat(Millis(55_000), 2);
    assert_eq!(h.controller.next_deadline(), Some(Millis(60_000)));
    assert_eq!(h.tick(Millis(59_999)), vec![]);
    let records = h.tick(Millis(60_000));
    assert_eq!(
        render(&records),
        "PartitionChange p0 leader=Some(1) isr=None"
    );
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=1 epochs=2/3");
    // Next: broker sessions (55 s + 9 s) before the next balance (60 s + 60 s).
    assert_eq!(h.controller.next_deadline(), Some(Millis(64_000)));
}

#[test]
fn automatic_leader_balance_can_be_disabled() {
    let mut h = Harness::new(&[1, 2], &[("auto.leader.rebalance.enable", "false")]);
    h.create_assigned("t", vec![vec![1, 2]]);
    h.crash(1);
    h.start(Millis(1_000), 1);
    h.alter_isr("t", 0, &[1, 2]);
    h.heartbeat(Millis(299_000), 1);
    h.heartbeat(Millis(299_000), 2);
    assert_eq!(h.tick(Millis(300_000)), vec![]);
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=2 epochs=1/2");
    assert_eq!(h.controller.next_deadline(), Some(Millis(308_000)));
}

#[test]
fn alter_partition_is_validated() {
    let mut h = Harness::new(&[1, 2, 3, 4], &[]);
    h.create_assigned("t", vec![vec![1, 2, 3]]);
    h.crash(4);
    h.alter_isr("t", 0, &[1, 2]);
    h.check("t", "t-0 replicas=[1, 2, 3] isr=[1, 2] leader=1 epochs=0/1");

    let check = |h: &Harness, edit: &dyn Fn(&mut AlterPartition), expect: &str| {
        let mut request = h.alter_request("t", 0, &[1, 2, 3]);
        edit(&mut request);
        let mut controller = h.controller.clone();
        let actual = match controller.alter_partition(&request) {
            Ok(records) => render(&records),
            Err(err) => format!("{}: {err}", err.code().name()),
        };
        assert_eq!(actual, expect);
    };
    check(
        &h,
        &|_| {},
        "PartitionChange p0 leader=None isr=Some([1, 2, 3])",
    );
    check(
        &h,
        &|r| r.new_isr = vec![3, 1, 2],
        "PartitionChange p0 leader=None isr=Some([1, 2, 3])",
    );
    check(&h, &|r| r.new_isr = vec![1, 2], "");
    check(
        &h,
        &|r| r.leader_epoch = -1,
        "FENCED_LEADER_EPOCH: leader epoch -1 is older than the current 0",
    );
    check(
        &h,
        &|r| r.leader_epoch = 1,
        "UNKNOWN_LEADER_EPOCH: leader epoch 1 is newer than the current 0",
    );
    check(
        &h,
        &|r| r.partition_epoch = 0,
        "INVALID_REQUEST: partition epoch 0 is not the current 1",
    );
    check(
        &h,
        &|r| r.broker_id = 2,
        "NOT_LEADER_OR_FOLLOWER: broker 2 is not the leader (the leader is 1)",
    );
    check(
        &h,
        &|r| r.partition = 1,
        "UNKNOWN_TOPIC_OR_PARTITION: topic has no partition 1",
    );
    check(
        &h,
        &|r| r.topic_id = TopicId(5),
        "UNKNOWN_TOPIC_ID: unknown topic id TopicId(5)",
    );
    check(
        &h,
        &|r| r.new_isr = vec![1, 4],
        "INVALID_REQUEST: invalid ISR [1, 4]: it names a broker that is not a replica",
    );
    check(
        &h,
        &|r| r.new_isr = vec![1, 1],
        "INVALID_REQUEST: invalid ISR [1, 1]: it names a broker twice",
    );
    check(
        &h,
        &|r| r.new_isr = vec![2, 3],
        "INVALID_REQUEST: invalid ISR [2, 3]: it does not include the leader",
    );

    h.crash(3);
    check(
        &h,
        &|_| {},
        "INVALID_REQUEST: broker 3 is fenced or not registered and cannot join the ISR",
    );
    // Shrinking is allowed whoever is fenced.
    h.alter_isr("t", 0, &[1]);
    h.check("t", "t-0 replicas=[1, 2, 3] isr=[1] leader=1 epochs=0/2");
}

#[test]
fn a_leader_from_an_older_epoch_is_fenced() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let stale = h.alter_request("t", 0, &[2]);
    h.crash(2);
    h.start(Millis(100), 2);
    h.alter_isr("t", 0, &[1, 2]);
    h.controller
        .elect_preferred_leaders(None)
        .map(|r| h.log.extend(r))
        .unwrap();
    h.check("t", "t-0 replicas=[2, 1] isr=[2, 1] leader=2 epochs=2/3");
    let err = h.controller.alter_partition(&stale).unwrap_err();
    assert_eq!(
        err,
        AlterPartitionError::FencedLeaderEpoch {
            requested: 0,
            current: 2
        }
    );
    assert_eq!(err.code(), ErrorCode::FENCED_LEADER_EPOCH);
}

#[test]
fn create_partitions_adds_partitions_with_the_same_replication_factor() {
    let mut h = Harness::new(&[0, 1, 2, 3, 4], &[]);
    h.create_assigned("t", vec![vec![0, 1, 2]]);
    let records = h.controller.create_partitions("t", 3, None).unwrap();
    h.record(records);
    h.check(
        "t",
        "
t-0 replicas=[0, 1, 2] isr=[0, 1, 2] leader=0 epochs=0/0
t-1 replicas=[1, 2, 3] isr=[1, 2, 3] leader=1 epochs=0/0
t-2 replicas=[2, 3, 4] isr=[2, 3, 4] leader=2 epochs=0/0",
    );
    let records = h
        .controller
        .create_partitions("t", 4, Some(&[vec![4, 3, 0]]))
        .unwrap();
    h.record(records);
    h.check(
        "t",
        "
t-0 replicas=[0, 1, 2] isr=[0, 1, 2] leader=0 epochs=0/0
t-1 replicas=[1, 2, 3] isr=[1, 2, 3] leader=1 epochs=0/0
t-2 replicas=[2, 3, 4] isr=[2, 3, 4] leader=2 epochs=0/0
t-3 replicas=[4, 3, 0] isr=[4, 3, 0] leader=4 epochs=0/0",
    );

    let check =
        |h: &mut Harness, count: u32, assignment: Option<&[Vec<BrokerId>]>, expect: &str| {
            let err = h
                .controller
                .create_partitions("t", count, assignment)
                .unwrap_err();
            assert_eq!(format!("{}: {err}", err.code().name()), expect);
        };
    check(
        &mut h,
        4,
        None,
        "INVALID_PARTITIONS: Topic t currently has 4 partition(s), 4 would not be an increase.",
    );
    check(
        &mut h,
        5,
        Some(&[vec![1, 2]]),
        "INVALID_REPLICA_ASSIGNMENT: The assignment for partition 0 has 2 replica(s), but the others have 3.",
    );
    check(
        &mut h,
        6,
        Some(&[vec![1, 2, 3]]),
        "INVALID_REPLICA_ASSIGNMENT: Attempted to add 2 additional partition(s), but 1 assignment(s) were specified.",
    );
    h.crash(0);
    h.crash(1);
    h.crash(2);
    check(
        &mut h,
        5,
        None,
        "INVALID_REPLICATION_FACTOR: Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.",
    );
    let err = h.controller.create_partitions("nope", 2, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
}

#[test]
fn delete_topic_removes_partitions_and_configs() {
    let mut h = Harness::new(&[1], &[]);
    h.create("t", 2, 1, &[("retention.ms", "1000")]);
    let records = h.controller.delete_topic("t").unwrap();
    h.record(records);
    assert!(h.controller.image().topic("t").is_none());
    assert_eq!(
        h.controller.delete_topic("t").unwrap_err().code(),
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    // The name can be used again, with a new id and none of the old configs.
    h.create("t", 1, 1, &[]);
    assert_eq!(
        h.controller.topic_config("t").unwrap().retention_ms,
        604_800_000
    );
    h.check("t", "t-0 replicas=[1] isr=[1] leader=1 epochs=0/0");
}

#[test]
fn topic_configs_override_broker_defaults() {
    let mut h = Harness::new(
        &[1],
        &[
            ("log.retention.ms", "3600000"),
            ("min.insync.replicas", "2"),
        ],
    );
    h.create("t", 1, 1, &[("segment.bytes", "4096")]);
    let config = h.controller.topic_config("t").unwrap();
    assert_eq!(
        (
            config.retention_ms,
            config.segment_bytes,
            config.min_insync_replicas
        ),
        (3_600_000, 4096, 2)
    );

    let changes = [
        ("retention.ms".to_string(), Some("60000".to_string())),
        ("segment.bytes".to_string(), None),
    ];
    let records = h.controller.alter_topic_configs("t", &changes).unwrap();
    h.record(records);
    let config = h.controller.topic_config("t").unwrap();
    assert_eq!(
        (config.retention_ms, config.segment_bytes),
        (60_000, 1_073_741_824)
    );
    let entries = h.controller.describe_topic_configs("t").unwrap();
    let line = |name: &str| {
        let e = entries.iter().find(|e| e.name == name).unwrap();
        format!("{}={} {:?}", e.name, e.value, e.source)
    };
    assert_eq!(line("retention.ms"), "retention.ms=60000 Topic");
    assert_eq!(line("min.insync.replicas"), "min.insync.replicas=2 Broker");
    assert_eq!(line("segment.bytes"), "segment.bytes=1073741824 Default");

    let bad = [("min.insync.replicas".to_string(), Some("0".to_string()))];
    assert_eq!(
        h.controller
            .alter_topic_configs("t", &bad)
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_CONFIG
    );
    let unknown = [("nope".to_string(), None)];
    assert_eq!(
        h.controller
            .alter_topic_configs("t", &unknown)
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_CONFIG
    );
    assert_eq!(
        h.controller
            .alter_topic_configs("x", &[])
            .unwrap_err()
            .code(),
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    h.check_replay();
}

#[test]
fn replaying_a_long_history_reproduces_the_image() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create("a", 3, 2, &[]);
    h.create("b", 2, 3, &[("unclean.leader.election.enable", "true")]);
    h.crash(1);
    h.tick(Millis(9_000));
    h.start(Millis(9_500), 1);
    h.start(Millis(9_600), 2);
    h.start(Millis(9_700), 3);
    let records = h.controller.elect_preferred_leaders(None).unwrap();
    h.record(records);
    let records = h.controller.create_partitions("a", 5, None).unwrap();
    h.record(records);
    let records = h.controller.delete_topic("b").unwrap();
    h.record(records);
    h.check_replay();

    let mut follower = Controller::new(BrokerConfig::default(), 42);
    for record in &h.log {
        follower.replay(record);
    }
    assert_eq!(follower.image(), h.controller.image());
    assert_eq!(follower.image().record_count(), h.log.len() as u64);
    let hosted: usize = [1, 2, 3]
        .iter()
        .map(|b| h.controller.image().replicas_on(*b).count())
        .sum();
    assert_eq!(hosted, 5 * 2, "topic a: five partitions of two replicas");
}

impl Harness {
    fn create_assigned(&mut self, name: &str, assignment: Vec<Vec<BrokerId>>) {
        let request = CreateTopic {
            name: name.into(),
            assignment: Some(assignment),
            ..CreateTopic::default()
        };
        let records = self.controller.create_topic(&request).unwrap();
        self.record(records);
    }
}

#[test]
fn a_controller_taking_over_gives_every_broker_a_fresh_session() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let mut successor = Controller::new(BrokerConfig::default(), 42);
    for record in &h.log {
        successor.replay(record);
    }
    // It has heard from nobody yet: sessions start at its first tick.
    assert_eq!(successor.next_deadline(), Some(Millis(300_000)));
    assert_eq!(successor.tick(Millis(50_000)), vec![]);
    assert_eq!(successor.next_deadline(), Some(Millis(59_000)));
    let epoch = successor.image().broker(1).unwrap().broker_epoch;
    successor
        .broker_heartbeat(Millis(55_000), 1, epoch)
        .unwrap();
    let records = successor.tick(Millis(59_000));
    assert_eq!(
        render(&records),
        "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])"
    );
}
