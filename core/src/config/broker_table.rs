//! The broker's own configs (those that are not a topic config's default), in one table like
//! `topic_table`: definition, whether Kafka lets it change without a restart (its
//! `DynamicBrokerConfig.AllDynamicConfigs`), whether the engine honours it, and how a value
//! lands in [`BrokerConfig`]. The topic configs' broker-level synonyms (`log.retention.ms`,
//! `log.cleaner.delete.retention.ms`, ...) are in `topic_table`.
//!
//! Sources: Kafka's `ServerLogConfigs`, `ReplicationConfigs`, `KRaftConfigs`, `CleanerConfig`.

use super::BrokerConfig;
use super::def::{ConfigDef, ConfigType, ConfigValue, Validator};

use ConfigType::{Boolean, Double, Int, Long};
use Validator::{Any, AtLeast, Between};

/// One broker config.
#[derive(Clone, Copy, Debug)]
pub struct BrokerConfigDef {
    pub def: ConfigDef,
    /// Can it be changed at run time (IncrementalAlterConfigs on a broker or the cluster
    /// default)? Otherwise it is read-only, as in Kafka.
    pub dynamic: bool,
    /// Does the engine act on it yet?
    pub honoured: bool,
    pub(super) apply: fn(&mut BrokerConfig, &ConfigValue),
}

/// A non-negative number as `u64` (validators keep these at least 0 or 1).
fn unsigned(value: &ConfigValue) -> u64 {
    u64::try_from(value.as_i64()).unwrap_or(0)
}

/// The broker's own configs, sorted by name.
pub static BROKER_CONFIGS: [BrokerConfigDef; 29] = [
    BrokerConfigDef {
        def: ConfigDef::new(
            "auto.create.topics.enable",
            Boolean,
            "true",
            Any,
            "Enable auto creation of topic on the server.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.auto_create_topics_enable = v.as_bool(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "auto.leader.rebalance.enable",
            Boolean,
            "true",
            Any,
            "Enables auto leader balancing. A background thread checks the distribution of partition leaders at regular intervals, configurable by leader.imbalance.check.interval.seconds. If the leader imbalance exceeds leader.imbalance.per.broker.percentage, leader rebalance to the preferred leader for partitions is triggered.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.auto_leader_rebalance_enable = v.as_bool(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "broker.heartbeat.interval.ms",
            Int,
            "2000",
            AtLeast(1),
            "The length of time in milliseconds between broker heartbeats. Used when running in KRaft mode.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.broker_heartbeat_interval_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "broker.session.timeout.ms",
            Int,
            "9000",
            AtLeast(1),
            "The length of time in milliseconds that a broker lease lasts if no heartbeats are made. Used when running in KRaft mode.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.broker_session_timeout_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "default.replication.factor",
            Int,
            "1",
            Between(1, i16::MAX as i64),
            "The replication factor for automatically created topics, and for topics created with -1 as the replication factor",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.default_replication_factor = u16::try_from(v.as_i32()).unwrap_or(1),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "leader.imbalance.check.interval.seconds",
            Long,
            "300",
            AtLeast(1),
            "The frequency with which the partition rebalance check is triggered by the controller",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.leader_imbalance_check_interval_seconds = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.backoff.ms",
            Long,
            "15000",
            AtLeast(0),
            "The amount of time to sleep when there are no logs to clean",
        ),
        dynamic: true,
        honoured: true,
        apply: |c, v| c.log_cleaner_backoff_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.dedupe.buffer.size",
            Long,
            "134217728",
            Any,
            "The total memory used for log deduplication across all cleaner threads",
        ),
        dynamic: true,
        honoured: true,
        apply: |c, v| c.log_cleaner_dedupe_buffer_size = v.as_i64(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.enable",
            Boolean,
            "true",
            Any,
            "Enable the log cleaner process to run on the server. Should be enabled if using any topics with a cleanup.policy=compact including the internal offsets topic. If disabled those topics will not be compacted and continually grow in size.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.log_cleaner_enable = v.as_bool(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.io.buffer.load.factor",
            Double,
            "0.9",
            Any,
            "Log cleaner dedupe buffer load factor. The percentage full the dedupe buffer can become. A higher value will allow more log to be cleaned at once but will lead to more hash collisions",
        ),
        dynamic: true,
        honoured: true,
        apply: |c, v| c.log_cleaner_io_buffer_load_factor = v.as_f64(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.io.buffer.size",
            Int,
            "524288",
            AtLeast(0),
            "The total memory used for log cleaner I/O buffers across all cleaner threads",
        ),
        dynamic: true,
        honoured: true,
        apply: |c, v| c.log_cleaner_io_buffer_size = v.as_i32(),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.io.max.bytes.per.second",
            Double,
            "1.7976931348623157E308",
            Any,
            "The log cleaner will be throttled so that the sum of its read and write i/o will be less than this value on average",
        ),
        dynamic: true,
        // No throttle: a cleaning step reads at most half of log.cleaner.io.buffer.size per
        // broker tick instead.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.cleaner.threads",
            Int,
            "1",
            AtLeast(0),
            "The number of background threads to use for log cleaning",
        ),
        dynamic: true,
        // One cleaner per broker, run on the engine's thread a bounded step at a time.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "log.retention.check.interval.ms",
            Long,
            "300000",
            AtLeast(1),
            "The frequency in milliseconds that the log cleaner checks whether any log is eligible for deletion",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.log_retention_check_interval_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "num.io.threads",
            Int,
            "8",
            AtLeast(1),
            "The number of threads that the server uses for processing requests, which may include disk I/O",
        ),
        dynamic: true,
        // Accepted so a Kafka server.properties starts; one tokio runtime and one engine thread serve every connection.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "num.network.threads",
            Int,
            "3",
            AtLeast(1),
            "The number of threads that the server uses for receiving requests from the network and sending responses to the network. Noted: each listener (except for controller listener) creates its own thread pool.",
        ),
        dynamic: true,
        // Accepted so a Kafka server.properties starts; one tokio runtime and one engine thread serve every connection.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "num.partitions",
            Int,
            "1",
            AtLeast(1),
            "The default number of log partitions per topic",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.num_partitions = u32::try_from(v.as_i32()).unwrap_or(1),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "num.recovery.threads.per.data.dir",
            Int,
            "2",
            AtLeast(1),
            "The number of threads per data directory to be used for log recovery at startup and flushing at shutdown",
        ),
        dynamic: true,
        // Accepted so a Kafka server.properties starts; logs are recovered one after another on the engine thread.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "offsets.topic.num.partitions",
            Int,
            "50",
            AtLeast(1),
            "The number of partitions for the offset commit topic (should not change after deployment)",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.offsets_topic_num_partitions = u32::try_from(v.as_i32()).unwrap_or(50),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "offsets.topic.replication.factor",
            Int,
            "3",
            Between(1, i16::MAX as i64),
            "The replication factor for the offsets topic (set higher to ensure availability). Partita caps it at the brokers alive when the topic is created (Kafka refuses to create it until that many brokers are alive)",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.offsets_topic_replication_factor = u16::try_from(v.as_i32()).unwrap_or(3),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "offsets.topic.segment.bytes",
            Int,
            "104857600",
            AtLeast(1),
            "The offsets topic segment bytes should be kept relatively small in order to facilitate faster log compaction and cache loads",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.offsets_topic_segment_bytes = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "replica.lag.time.max.ms",
            Long,
            "30000",
            AtLeast(1),
            "If a follower hasn't sent any fetch requests or hasn't consumed up to the leaders log end offset for at least this time, the leader will remove the follower from isr",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.replica_lag_time_max_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "socket.receive.buffer.bytes",
            Int,
            "102400",
            Any,
            "The SO_RCVBUF buffer of the socket server sockets. If the value is -1, the OS default will be used.",
        ),
        dynamic: false,
        // Accepted so a Kafka server.properties starts; the OS default buffers are used.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "socket.send.buffer.bytes",
            Int,
            "102400",
            Any,
            "The SO_SNDBUF buffer of the socket server sockets. If the value is -1, the OS default will be used.",
        ),
        dynamic: false,
        // Accepted so a Kafka server.properties starts; the OS default buffers are used.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "transaction.remove.expired.transaction.cleanup.interval.ms",
            Int,
            "3600000",
            AtLeast(1),
            "The interval at which to remove transactions that have expired due to <code>transactional.id.expiration.ms</code> passing",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.transaction_remove_expired_transaction_cleanup_interval_ms = unsigned(v),
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "transaction.state.log.min.isr",
            Int,
            "2",
            AtLeast(1),
            "The minimum number of replicas that must acknowledge a write to transaction topic in order to be considered successful.",
        ),
        dynamic: false,
        // Accepted so a Kafka server.properties starts; __transaction_state always has Kafka's defaults: 50 partitions, replication factor 3 and min.insync.replicas 2, each capped at the brokers alive when it is created.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "transaction.state.log.num.partitions",
            Int,
            "50",
            AtLeast(1),
            "The number of partitions for the transaction topic (should not change after deployment).",
        ),
        dynamic: false,
        // Accepted so a Kafka server.properties starts; __transaction_state always has Kafka's defaults: 50 partitions, replication factor 3 and min.insync.replicas 2, each capped at the brokers alive when it is created.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "transaction.state.log.replication.factor",
            Int,
            "3",
            Between(1, i16::MAX as i64),
            "The replication factor for the transaction topic (set higher to ensure availability). Internal topic creation will fail until the cluster size meets this replication factor requirement.",
        ),
        dynamic: false,
        // Accepted so a Kafka server.properties starts; __transaction_state always has Kafka's defaults: 50 partitions, replication factor 3 and min.insync.replicas 2, each capped at the brokers alive when it is created.
        honoured: false,
        apply: |_, _| {},
    },
    BrokerConfigDef {
        def: ConfigDef::new(
            "transactional.id.expiration.ms",
            Int,
            "604800000",
            AtLeast(1),
            "The time in ms that the transaction coordinator will wait without receiving any transaction status updates for the current transaction before expiring its transactional id. Transactional IDs will not expire while a the transaction is still ongoing.",
        ),
        dynamic: false,
        honoured: true,
        apply: |c, v| c.transactional_id_expiration_ms = unsigned(v),
    },
];
