//! Topic and dynamic broker configs: the list operations, the legacy replace-all, which broker
//! configs may change at run time, and that the records alone reproduce them.

use super::*;
use crate::ErrorCode;

fn set(key: &str, value: &str) -> (String, AlterConfigOp) {
    (key.to_string(), AlterConfigOp::Set(value.to_string()))
}

#[test]
fn topic_list_configs_take_append_and_subtract() {
    let mut h = Harness::new(&[1], &[]);
    h.create("t", 1, 1, &[]);
    let append = [(
        "cleanup.policy".to_string(),
        AlterConfigOp::Append("compact".into()),
    )];
    let records = h
        .controller
        .incremental_alter_topic_configs("t", &append)
        .unwrap();
    h.record(records);
    assert_eq!(
        h.controller.image().topic("t").unwrap().configs["cleanup.policy"],
        "delete,compact"
    );
    let subtract = [(
        "cleanup.policy".to_string(),
        AlterConfigOp::Subtract("delete".into()),
    )];
    let records = h
        .controller
        .incremental_alter_topic_configs("t", &subtract)
        .unwrap();
    h.record(records);
    assert_eq!(
        h.controller.topic_config("t").unwrap().cleanup_policy,
        crate::config::CleanupPolicy::Compact
    );
    let not_a_list = [(
        "retention.ms".to_string(),
        AlterConfigOp::Subtract("1".into()),
    )];
    let err = h
        .controller
        .incremental_alter_topic_configs("t", &not_a_list)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Can't SUBTRACT to key retention.ms because its type is not LIST."
    );
    assert_eq!(err.code(), ErrorCode::INVALID_CONFIG);
    h.check_replay();
}

#[test]
fn legacy_alter_replaces_every_override() {
    let mut h = Harness::new(&[1], &[]);
    h.create(
        "t",
        1,
        1,
        &[("segment.ms", "60000"), ("retention.ms", "5000")],
    );
    let configs = [("retention.ms".to_string(), "9000".to_string())].into();
    let records = h
        .controller
        .legacy_alter_topic_configs("t", &configs)
        .unwrap();
    h.record(records);
    let overrides = &h.controller.image().topic("t").unwrap().configs;
    assert_eq!(overrides, &configs);
    h.check_replay();
}

#[test]
fn dynamic_broker_configs_layer_over_static_ones() {
    let mut h = Harness::new(&[1, 2], &[("log.retention.hours", "2")]);
    h.create("t", 1, 1, &[]);
    assert_eq!(
        h.controller.broker_config(1).topic_defaults.retention_ms,
        7_200_000
    );

    let records = h
        .controller
        .incremental_alter_broker_configs("", &[set("log.retention.ms", "5000")])
        .unwrap();
    h.record(records);
    let records = h
        .controller
        .incremental_alter_broker_configs("2", &[set("log.retention.ms", "3000")])
        .unwrap();
    h.record(records);
    assert_eq!(
        h.controller.broker_config(1).topic_defaults.retention_ms,
        5000
    );
    assert_eq!(
        h.controller.broker_config(2).topic_defaults.retention_ms,
        3000
    );
    assert_eq!(
        h.controller.topic_config("t").unwrap().retention_ms,
        5000,
        "the cluster default"
    );
    assert_eq!(
        h.controller.topic_config_on("t", 2).unwrap().retention_ms,
        3000
    );

    let entries = h.controller.describe_broker_configs("2");
    let retention = entries
        .iter()
        .find(|e| e.name == "log.retention.ms")
        .unwrap();
    let sources: Vec<&str> = retention.synonyms.iter().map(|s| s.source.name()).collect();
    assert_eq!(
        sources,
        [
            "DYNAMIC_BROKER_CONFIG",
            "DYNAMIC_DEFAULT_BROKER_CONFIG",
            "STATIC_BROKER_CONFIG",
            "DEFAULT_CONFIG"
        ]
    );
    assert_eq!(h.controller.describe_broker_configs("").len(), 1);

    let records = h
        .controller
        .legacy_alter_broker_configs("2", &Default::default())
        .unwrap();
    h.record(records);
    assert_eq!(
        h.controller.broker_config(2).topic_defaults.retention_ms,
        5000,
        "replaced by nothing"
    );
    h.check_replay();
}

#[test]
fn only_dynamic_broker_configs_change_at_run_time() {
    let mut h = Harness::new(&[1], &[]);
    let refuse = |h: &mut Harness, resource: &str, ops: &[(String, AlterConfigOp)]| {
        let err = h
            .controller
            .incremental_alter_broker_configs(resource, ops)
            .unwrap_err();
        (err.code(), err.to_string())
    };
    assert_eq!(
        refuse(
            &mut h,
            "1",
            &[set("num.partitions", "3"), set("log.retention.hours", "1")]
        ),
        (
            ErrorCode::INVALID_REQUEST,
            "Cannot update these configs dynamically: Set(log.retention.hours, num.partitions)"
                .to_string()
        )
    );
    assert_eq!(
        refuse(&mut h, "1", &[set("log.retention.ms", "soon")]),
        (
            ErrorCode::INVALID_REQUEST,
            "Invalid value soon for configuration log.retention.ms: Not a number of type LONG"
                .to_string()
        )
    );
    assert_eq!(
        refuse(
            &mut h,
            "1",
            &[(
                "log.retention.ms".to_string(),
                AlterConfigOp::Append("1".into())
            )]
        )
        .1,
        "Config value append is not allowed for config key: log.retention.ms"
    );
    assert_eq!(
        refuse(&mut h, "one", &[set("log.retention.ms", "1")]).1,
        "Node id must be an integer, but it is: one"
    );
    assert_eq!(
        refuse(&mut h, "1", &[set("no.such.config", "1")]).1,
        "Unknown broker config name: no.such.config"
    );
    let records = h
        .controller
        .incremental_alter_broker_configs(
            "1",
            &[(
                "log.cleanup.policy".to_string(),
                AlterConfigOp::Append("compact".into()),
            )],
        )
        .unwrap();
    h.record(records);
    assert_eq!(
        h.controller.image().broker_configs("1")["log.cleanup.policy"],
        "delete,compact"
    );
    h.check_replay();
}
