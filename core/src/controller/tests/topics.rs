//! Topic administration: creation (placement, defaults, errors), growth, deletion, configs.

use super::Harness;
use crate::config::BrokerConfig;
use crate::controller::*;
use crate::{ErrorCode, Millis};

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
        "Invalid value soon for configuration retention.ms: Not a number of type LONG",
    );
    check(
        &mut h,
        CreateTopic {
            configs: vec![("retention.weeks".into(), "1".into())],
            ..topic("t")
        },
        ErrorCode::INVALID_CONFIG,
        "Unknown topic config name: retention.weeks",
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
    let entries = h.controller.describe_topic_configs("t", 1).unwrap();
    let line = |name: &str| {
        let e = entries.iter().find(|e| e.name == name).unwrap();
        format!(
            "{}={} {}",
            e.name,
            e.value.as_deref().unwrap(),
            e.source.name()
        )
    };
    assert_eq!(
        line("retention.ms"),
        "retention.ms=60000 DYNAMIC_TOPIC_CONFIG"
    );
    assert_eq!(
        line("min.insync.replicas"),
        "min.insync.replicas=2 STATIC_BROKER_CONFIG"
    );
    assert_eq!(
        line("segment.bytes"),
        "segment.bytes=1073741824 DEFAULT_CONFIG"
    );

    let bad = [("min.insync.replicas".to_string(), Some("0".to_string()))];
    assert_eq!(
        h.controller
            .alter_topic_configs("t", &bad)
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_CONFIG
    );
    // As in Kafka: deleting a config that is not set changes nothing and is no error;
    // setting an unknown one is.
    let unknown = [("nope".to_string(), None)];
    assert_eq!(h.controller.alter_topic_configs("t", &unknown), Ok(vec![]));
    let unknown = [("nope".to_string(), Some("1".to_string()))];
    assert_eq!(
        h.controller
            .alter_topic_configs("t", &unknown)
            .unwrap_err()
            .to_string(),
        "Unknown topic config name: nope"
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
