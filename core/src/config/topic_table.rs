//! Every topic config Kafka 4.x has, in one table: name, type, default, validator, Kafka's
//! documentation, its broker-level synonyms (highest precedence first, as in Kafka's
//! `ServerTopicConfigSynonyms`), whether Partita's engine honours it yet, and how a value lands
//! in [`TopicConfig`]. Parsing, DescribeConfigs, `partita serve --help` and the README's list
//! are all generated from this table.
//!
//! Sources: Kafka's `TopicConfig`, `LogConfig`, `ServerLogConfigs`, `CleanerConfig`,
//! `QuotaConfig`, `RemoteLogManagerConfig`. One deliberate difference: `segment.bytes` (and
//! `log.segment.bytes`) accept down to 14 bytes, Kafka 3's minimum, instead of Kafka 4's 1 MiB,
//! so that the playground and tests can show segments rolling after a few records.

use super::def::{ConfigDef, ConfigType, ConfigValue, Validator};
use super::{CleanupPolicy, CompressionType, TimestampType, TopicConfig};

use ConfigType::{Boolean, Double, Int, List, Long, String};
use Validator::{Any, AtLeast, Between, GzipLevel, ListOf, OneOf, ThrottledReplicas};

/// One topic config.
#[derive(Clone, Copy, Debug)]
pub struct TopicConfigDef {
    pub def: ConfigDef,
    /// The broker configs that set this config's default for every topic, highest precedence
    /// first; empty for configs without a server default (`remote.storage.enable`, ...).
    pub synonyms: &'static [Synonym],
    /// Does the engine act on this config? If not, it is validated, stored and described, and
    /// has no effect yet.
    pub honoured: bool,
    /// Puts a (validated, converted) value into the typed config.
    pub(super) apply: fn(&mut TopicConfig, &ConfigValue),
}

/// A broker config that sets a topic config's default.
#[derive(Clone, Copy, Debug)]
pub struct Synonym {
    pub def: ConfigDef,
    /// Milliseconds per unit of this synonym (3 600 000 for `log.retention.hours`); 1 when it
    /// has the topic config's own unit.
    pub ms_per_unit: i64,
}

impl Synonym {
    /// `value` (of this synonym) in the topic config's unit.
    pub(super) fn in_topic_unit(&self, value: &ConfigValue) -> ConfigValue {
        if self.ms_per_unit == 1 {
            value.clone()
        } else {
            ConfigValue::Long(value.as_i64().saturating_mul(self.ms_per_unit))
        }
    }
}

const fn same(def: ConfigDef) -> Synonym {
    Synonym {
        def,
        ms_per_unit: 1,
    }
}

const HOUR_MS: i64 = 3_600_000;
const LONG_MAX: &str = "9223372036854775807";
const CLEANUP_POLICIES: &[&str] = &["compact", "delete"];
const TIMESTAMP_TYPES: &[&str] = &TimestampType::NAMES;
const COMPRESSION_TYPES: &[&str] = &CompressionType::NAME_LIST;
/// Kafka 3's `LegacyRecord.RECORD_OVERHEAD_V0`; see the module documentation.
pub const SEGMENT_BYTES_MIN: i64 = 14;

const CLEANUP_POLICY_DOC: &str = "This config designates the retention policy to use on log segments. The \"delete\" policy (which is the default) will discard old segments when their retention time or size limit has been reached. The \"compact\" policy will enable <a href=\"#compaction\">log compaction</a>, which retains the latest value for each key. It is also possible to specify both policies in a comma-separated list (e.g. \"delete,compact\"). In this case, old segments will be discarded per the retention time and size configuration, while retained segments will be compacted.";
const COMPRESSION_TYPE_DOC: &str = "Specify the final compression type for a given topic. This configuration accepts the standard compression codecs ('gzip', 'snappy', 'lz4', 'zstd'). It additionally accepts 'uncompressed' which is equivalent to no compression; and 'producer' which means retain the original compression codec set by the producer.";
const MIN_INSYNC_REPLICAS_DOC: &str = "Specifies the <i>minimum</i> number of in-sync replicas (including the leader) required for a write to succeed when a producer sets <code>acks</code> to \"all\" (or \"-1\"). In the <code>acks=all</code> case, every in-sync replica must acknowledge a write for it to be considered successful. E.g., if a topic has <code>replication.factor</code> of 3 and the ISR set includes all three replicas, then all three replicas must acknowledge an <code>acks=all</code> write for it to succeed, even if <code>min.insync.replicas</code> happens to be less than 3. If <code>acks=all</code> and the current ISR set contains fewer than <code>min.insync.replicas</code> members, then the producer will raise an exception (either <code>NotEnoughReplicas</code> or <code>NotEnoughReplicasAfterAppend</code>).<br> Regardless of the <code>acks</code> setting, the messages will not be visible to the consumers until they are replicated to all in-sync replicas and the <code>min.insync.replicas</code> condition is met.<br> When used together, <code>min.insync.replicas</code> and <code>acks</code> allow you to enforce greater durability guarantees. A typical scenario would be to create a topic with a replication factor of 3, set <code>min.insync.replicas</code> to 2, and produce with <code>acks</code> of \"all\". This ensures that a majority of replicas must persist a write before it's considered successful by the producer and it's visible to consumers.";
const MAX_MESSAGE_BYTES_DOC: &str =
    "The largest record batch size allowed by Kafka (after compression if compression is enabled).";
const TIMESTAMP_BEFORE_DOC: &str = "This configuration sets the allowable timestamp difference between the broker's timestamp and the message timestamp. The message timestamp can be earlier than or equal to the broker's timestamp, with the maximum allowable difference determined by the value set in this configuration. If message.timestamp.type=CreateTime, the message will be rejected if the difference in timestamps exceeds this specified threshold. This configuration is ignored if message.timestamp.type=LogAppendTime.";
const TIMESTAMP_AFTER_DOC: &str = "This configuration sets the allowable timestamp difference between the message timestamp and the broker's timestamp. The message timestamp can be later than or equal to the broker's timestamp, with the maximum allowable difference determined by the value set in this configuration. If message.timestamp.type=CreateTime, the message will be rejected if the difference in timestamps exceeds this specified threshold. This configuration is ignored if message.timestamp.type=LogAppendTime.";

/// Every topic config, sorted by name (the order DescribeConfigs lists them in).
pub static TOPIC_CONFIGS: [TopicConfigDef; 34] = [
    TopicConfigDef {
        def: ConfigDef::new(
            "cleanup.policy",
            List,
            "delete",
            ListOf(CLEANUP_POLICIES),
            CLEANUP_POLICY_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "log.cleanup.policy",
            List,
            "delete",
            ListOf(CLEANUP_POLICIES),
            CLEANUP_POLICY_DOC,
        ))],
        honoured: false,
        apply: |c, v| c.cleanup_policy = CleanupPolicy::from_list(v.as_list()),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "compression.gzip.level",
            Int,
            "-1",
            GzipLevel,
            "The compression level to use if compression.type is set to <code>gzip</code>.",
        ),
        synonyms: &[same(ConfigDef::new(
            "compression.gzip.level",
            Int,
            "-1",
            GzipLevel,
            "The compression level to use if compression.type is set to 'gzip'.",
        ))],
        honoured: false,
        apply: |c, v| c.compression_gzip_level = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "compression.lz4.level",
            Int,
            "9",
            Between(1, 17),
            "The compression level to use if compression.type is set to <code>lz4</code>.",
        ),
        synonyms: &[same(ConfigDef::new(
            "compression.lz4.level",
            Int,
            "9",
            Between(1, 17),
            "The compression level to use if compression.type is set to 'lz4'.",
        ))],
        honoured: false,
        apply: |c, v| c.compression_lz4_level = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "compression.type",
            String,
            "producer",
            OneOf(COMPRESSION_TYPES),
            COMPRESSION_TYPE_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "compression.type",
            String,
            "producer",
            OneOf(COMPRESSION_TYPES),
            COMPRESSION_TYPE_DOC,
        ))],
        honoured: false,
        apply: |c, v| c.compression_type = CompressionType::from_name(v.as_str()),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "compression.zstd.level",
            Int,
            "3",
            Between(-131_072, 22),
            "The compression level to use if compression.type is set to <code>zstd</code>.",
        ),
        synonyms: &[same(ConfigDef::new(
            "compression.zstd.level",
            Int,
            "3",
            Between(-131_072, 22),
            "The compression level to use if compression.type is set to 'zstd'.",
        ))],
        honoured: false,
        apply: |c, v| c.compression_zstd_level = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "delete.retention.ms",
            Long,
            "86400000",
            AtLeast(0),
            "The amount of time to retain delete tombstone markers for <a href=\"#compaction\">log compacted</a> topics. This setting also gives a bound on the time in which a consumer must complete a read if they begin from offset 0 to ensure that they get a valid snapshot of the final stage (otherwise delete tombstones may be collected before they complete their scan).",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.cleaner.delete.retention.ms",
            Long,
            "86400000",
            AtLeast(0),
            "The amount of time to retain tombstone message markers for log compacted topics. This setting also gives a bound on the time in which a consumer must complete a read if they begin from offset 0 to ensure that they get a valid snapshot of the final stage (otherwise  tombstones messages may be collected before a consumer completes their scan).",
        ))],
        honoured: true,
        apply: |c, v| c.delete_retention_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "file.delete.delay.ms",
            Long,
            "60000",
            AtLeast(0),
            "The time to wait before deleting a file from the filesystem",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.segment.delete.delay.ms",
            Long,
            "60000",
            AtLeast(0),
            "The amount of time to wait before deleting a file from the filesystem. If the value is 0 and there is no file to delete, the system will wait 1 millisecond. Low value will cause busy waiting",
        ))],
        honoured: false,
        apply: |c, v| c.file_delete_delay_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "flush.messages",
            Long,
            LONG_MAX,
            AtLeast(1),
            "This setting allows specifying an interval at which we will force an fsync of data written to the log. For example if this was set to 1 we would fsync after every message; if it were 5 we would fsync after every five messages. In general we recommend you not set this and use replication for durability and allow the operating system's background flush capabilities as it is more efficient. This setting can be overridden on a per-topic basis (see <a href=\"#topicconfigs\">the per-topic configuration section</a>).",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.flush.interval.messages",
            Long,
            LONG_MAX,
            AtLeast(1),
            "The number of messages accumulated on a log partition before messages are flushed to disk.",
        ))],
        honoured: true,
        apply: |c, v| c.flush_messages = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "flush.ms",
            Long,
            LONG_MAX,
            AtLeast(0),
            "This setting allows specifying a time interval at which we will force an fsync of data written to the log. For example if this was set to 1000 we would fsync after 1000 ms had passed. In general we recommend you not set this and use replication for durability and allow the operating system's background flush capabilities as it is more efficient.",
        ),
        synonyms: &[
            same(ConfigDef::null(
                "log.flush.interval.ms",
                Long,
                Any,
                "The maximum time in ms that a message in any topic is kept in memory before flushed to disk. If not set, the value in log.flush.scheduler.interval.ms is used",
            )),
            same(ConfigDef::new(
                "log.flush.scheduler.interval.ms",
                Long,
                LONG_MAX,
                Any,
                "The frequency in ms that the log flusher checks whether any log needs to be flushed to disk",
            )),
        ],
        honoured: true,
        apply: |c, v| c.flush_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "follower.replication.throttled.replicas",
            List,
            "",
            ThrottledReplicas,
            "A list of replicas for which log replication should be throttled on the follower side. The list should describe a set of replicas in the form [PartitionId]:[BrokerId],[PartitionId]:[BrokerId]:... or alternatively the wildcard '*' can be used to throttle all replicas for this topic.",
        ),
        synonyms: &[],
        honoured: false,
        apply: |c, v| c.follower_replication_throttled_replicas = v.as_list().to_vec(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "index.interval.bytes",
            Int,
            "4096",
            AtLeast(0),
            "This setting controls how frequently Kafka adds entries to its offset index and, conditionally, to its time index. The default setting ensures that we index a message roughly every 4096 bytes. More frequent indexing allows reads to jump closer to the exact position in the log but results in larger index files. You probably don't need to change this.<p> Note: the time index will be inserted only when the timestamp is greater than the last indexed timestamp.</p>",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.index.interval.bytes",
            Int,
            "4096",
            AtLeast(0),
            "The interval with which we add an entry to the offset index.",
        ))],
        honoured: false,
        apply: |c, v| c.index_interval_bytes = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "leader.replication.throttled.replicas",
            List,
            "",
            ThrottledReplicas,
            "A list of replicas for which log replication should be throttled on the leader side. The list should describe a set of replicas in the form [PartitionId]:[BrokerId],[PartitionId]:[BrokerId]:... or alternatively the wildcard '*' can be used to throttle all replicas for this topic.",
        ),
        synonyms: &[],
        honoured: false,
        apply: |c, v| c.leader_replication_throttled_replicas = v.as_list().to_vec(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "local.retention.bytes",
            Long,
            "-2",
            AtLeast(-2),
            "The maximum size of local log segments that can grow for a partition before it deletes the old segments. Default value is -2, it represents <code>retention.bytes</code> value to be used. The effective value should always be less than or equal to <code>retention.bytes</code> value.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.local.retention.bytes",
            Long,
            "-2",
            AtLeast(-2),
            "The maximum size of local log segments that can grow for a partition before it gets eligible for deletion. Default value is -2, it represents `log.retention.bytes` value to be used. The effective value should always be less than or equal to `log.retention.bytes` value.",
        ))],
        honoured: false,
        apply: |c, v| c.local_retention_bytes = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "local.retention.ms",
            Long,
            "-2",
            AtLeast(-2),
            "The number of milliseconds to keep the local log segment before it gets deleted. Default value is -2, it represents <code>retention.ms</code> value is to be used. The effective value should always be less than or equal to <code>retention.ms</code> value.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.local.retention.ms",
            Long,
            "-2",
            AtLeast(-2),
            "The number of milliseconds to keep the local log segments before it gets eligible for deletion. Default value is -2, it represents `log.retention.ms` value is to be used. The effective value should always be less than or equal to `log.retention.ms` value.",
        ))],
        honoured: false,
        apply: |c, v| c.local_retention_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "max.compaction.lag.ms",
            Long,
            LONG_MAX,
            AtLeast(1),
            "The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that are being compacted.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.cleaner.max.compaction.lag.ms",
            Long,
            LONG_MAX,
            AtLeast(1),
            "The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that are being compacted.",
        ))],
        honoured: true,
        apply: |c, v| c.max_compaction_lag_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "max.message.bytes",
            Int,
            "1048588",
            AtLeast(0),
            MAX_MESSAGE_BYTES_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "message.max.bytes",
            Int,
            "1048588",
            AtLeast(0),
            "The largest record batch size allowed by Kafka (after compression if compression is enabled).This can be set per topic with the topic level <code>max.message.bytes</code> config.",
        ))],
        honoured: true,
        apply: |c, v| c.max_message_bytes = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "message.downconversion.enable",
            Boolean,
            "true",
            Any,
            "Down-conversion is not possible in Apache Kafka 4.0 and newer, hence this configuration is no-op and it is deprecated for removal in Apache Kafka 5.0.",
        ),
        synonyms: &[],
        honoured: false,
        apply: |c, v| c.message_downconversion_enable = v.as_bool(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "message.timestamp.after.max.ms",
            Long,
            "3600000",
            AtLeast(0),
            TIMESTAMP_AFTER_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "log.message.timestamp.after.max.ms",
            Long,
            "3600000",
            AtLeast(0),
            "This configuration sets the allowable timestamp difference between the message timestamp and the broker's timestamp. The message timestamp can be later than or equal to the broker's timestamp, with the maximum allowable difference determined by the value set in this configuration. If log.message.timestamp.type=CreateTime, the message will be rejected if the difference in timestamps exceeds this specified threshold. This configuration is ignored if log.message.timestamp.type=LogAppendTime.",
        ))],
        honoured: false,
        apply: |c, v| c.message_timestamp_after_max_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "message.timestamp.before.max.ms",
            Long,
            LONG_MAX,
            AtLeast(0),
            TIMESTAMP_BEFORE_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "log.message.timestamp.before.max.ms",
            Long,
            LONG_MAX,
            AtLeast(0),
            "This configuration sets the allowable timestamp difference between the broker's timestamp and the message timestamp. The message timestamp can be earlier than or equal to the broker's timestamp, with the maximum allowable difference determined by the value set in this configuration. If log.message.timestamp.type=CreateTime, the message will be rejected if the difference in timestamps exceeds this specified threshold. This configuration is ignored if log.message.timestamp.type=LogAppendTime.",
        ))],
        honoured: false,
        apply: |c, v| c.message_timestamp_before_max_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "message.timestamp.type",
            String,
            "CreateTime",
            OneOf(TIMESTAMP_TYPES),
            "Define whether the timestamp in the message is message create time or log append time.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.message.timestamp.type",
            String,
            "CreateTime",
            OneOf(TIMESTAMP_TYPES),
            "Define whether the timestamp in the message is message create time or log append time. The value should be either <code>CreateTime</code> or <code>LogAppendTime</code>.",
        ))],
        honoured: true,
        apply: |c, v| c.message_timestamp_type = TimestampType::from_name(v.as_str()),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "min.cleanable.dirty.ratio",
            Double,
            "0.5",
            Between(0, 1),
            "This configuration controls how frequently the log compactor will attempt to clean the log (assuming <a href=\"#compaction\">log compaction</a> is enabled). By default we will avoid cleaning a log where more than 50% of the log has been compacted. This ratio bounds the maximum space wasted in the log by duplicates (at 50% at most 50% of the log could be duplicates). A higher ratio will mean fewer, more efficient cleanings but will mean more wasted space in the log. If the max.compaction.lag.ms or the min.compaction.lag.ms configurations are also specified, then the log compactor considers the log to be eligible for compaction as soon as either: (i) the dirty ratio threshold has been met and the log has had dirty (uncompacted) records for at least the min.compaction.lag.ms duration, or (ii) if the log has had dirty (uncompacted) records for at most the max.compaction.lag.ms period.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.cleaner.min.cleanable.ratio",
            Double,
            "0.5",
            Between(0, 1),
            "The minimum ratio of dirty log to total log for a log to eligible for cleaning. If the log.cleaner.max.compaction.lag.ms or the log.cleaner.min.compaction.lag.ms configurations are also specified, then the log compactor considers the log eligible for compaction as soon as either: (i) the dirty ratio threshold has been met and the log has had dirty (uncompacted) records for at least the log.cleaner.min.compaction.lag.ms duration, or (ii) if the log has had dirty (uncompacted) records for at most the log.cleaner.max.compaction.lag.ms period.",
        ))],
        honoured: true,
        apply: |c, v| c.min_cleanable_dirty_ratio = v.as_f64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "min.compaction.lag.ms",
            Long,
            "0",
            AtLeast(0),
            "The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being compacted.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.cleaner.min.compaction.lag.ms",
            Long,
            "0",
            AtLeast(0),
            "The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being compacted.",
        ))],
        honoured: true,
        apply: |c, v| c.min_compaction_lag_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "min.insync.replicas",
            Int,
            "1",
            AtLeast(1),
            MIN_INSYNC_REPLICAS_DOC,
        ),
        synonyms: &[same(ConfigDef::new(
            "min.insync.replicas",
            Int,
            "1",
            AtLeast(1),
            MIN_INSYNC_REPLICAS_DOC,
        ))],
        honoured: true,
        apply: |c, v| c.min_insync_replicas = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "preallocate",
            Boolean,
            "false",
            Any,
            "True if we should preallocate the file on disk when creating a new log segment.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.preallocate",
            Boolean,
            "false",
            Any,
            "Should pre allocate file when create new segment? If you are using Kafka on Windows, you probably need to set it to true.",
        ))],
        honoured: false,
        apply: |c, v| c.preallocate = v.as_bool(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "remote.log.copy.disable",
            Boolean,
            "false",
            Any,
            "Determines whether tiered data for a topic should become read only, and no more data uploading on a topic. Once this config is set to true, the local retention configuration (i.e. local.retention.ms/bytes) becomes irrelevant, and all data expiration follows the topic-wide retention configuration(i.e. retention.ms/bytes).",
        ),
        synonyms: &[],
        honoured: false,
        apply: |c, v| c.remote_log_copy_disable = v.as_bool(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "remote.log.delete.on.disable",
            Boolean,
            "false",
            Any,
            "Determines whether tiered data for a topic should be deleted after tiered storage is disabled on a topic. This configuration should be enabled when trying to set <code>remote.storage.enable</code> from true to false",
        ),
        synonyms: &[],
        honoured: false,
        apply: |c, v| c.remote_log_delete_on_disable = v.as_bool(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "remote.storage.enable",
            Boolean,
            "false",
            Any,
            "To enable tiered storage for a topic, set this configuration to true. To disable tiered storage for a topic that has it enabled, set this configuration to false. When disabling, you must also set <code>remote.log.delete.on.disable</code> to true.",
        ),
        synonyms: &[],
        // Refused when true: Partita has no tiered storage (see `TopicConfig::check`).
        honoured: true,
        apply: |c, v| c.remote_storage_enable = v.as_bool(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "retention.bytes",
            Long,
            "-1",
            Any,
            "This configuration controls the maximum size a partition (which consists of log segments) can grow to before we will discard old log segments to free up space if we are using the \"delete\" retention policy. By default there is no size limit only a time limit. Since this limit is enforced at the partition level, multiply it by the number of partitions to compute the topic retention in bytes. Additionally, retention.bytes configuration operates independently of \"segment.ms\" and \"segment.bytes\" configurations. Moreover, it triggers the rolling of new segment if the retention.bytes is configured to zero.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.retention.bytes",
            Long,
            "-1",
            Any,
            "The maximum size of the log before deleting it",
        ))],
        honoured: true,
        apply: |c, v| c.retention_bytes = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "retention.ms",
            Long,
            "604800000",
            AtLeast(-1),
            "This configuration controls the maximum time we will retain a log before we will discard old log segments to free up space if we are using the \"delete\" retention policy. This represents an SLA on how soon consumers must read their data. If set to -1, no time limit is applied. Additionally, retention.ms configuration operates independently of \"segment.ms\" and \"segment.bytes\" configurations. Moreover, it triggers the rolling of new segment if the retention.ms condition is satisfied.",
        ),
        synonyms: &[
            same(ConfigDef::null(
                "log.retention.ms",
                Long,
                Any,
                "The number of milliseconds to keep a log file before deleting it (in milliseconds), If not set, the value in log.retention.minutes is used. If set to -1, no time limit is applied.",
            )),
            Synonym {
                def: ConfigDef::null(
                    "log.retention.minutes",
                    Int,
                    Any,
                    "The number of minutes to keep a log file before deleting it (in minutes), secondary to log.retention.ms property. If not set, the value in log.retention.hours is used",
                ),
                ms_per_unit: 60_000,
            },
            Synonym {
                def: ConfigDef::new(
                    "log.retention.hours",
                    Int,
                    "168",
                    Any,
                    "The number of hours to keep a log file before deleting it (in hours), tertiary to log.retention.ms property",
                ),
                ms_per_unit: HOUR_MS,
            },
        ],
        honoured: true,
        apply: |c, v| c.retention_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "segment.bytes",
            Int,
            "1073741824",
            AtLeast(SEGMENT_BYTES_MIN),
            "This configuration controls the segment file size for the log. Retention and cleaning is always done a file at a time so a larger segment size means fewer files but less granular control over retention.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.segment.bytes",
            Int,
            "1073741824",
            AtLeast(SEGMENT_BYTES_MIN),
            "The maximum size of a single log file",
        ))],
        honoured: true,
        apply: |c, v| c.segment_bytes = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "segment.index.bytes",
            Int,
            "10485760",
            AtLeast(4),
            "This configuration controls the size of the index that maps offsets to file positions. We preallocate this index file and shrink it only after log rolls. You generally should not need to change this setting.",
        ),
        synonyms: &[same(ConfigDef::new(
            "log.index.size.max.bytes",
            Int,
            "10485760",
            AtLeast(4),
            "The maximum size in bytes of the offset index",
        ))],
        honoured: false,
        apply: |c, v| c.segment_index_bytes = v.as_i32(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "segment.jitter.ms",
            Long,
            "0",
            AtLeast(0),
            "The maximum random jitter subtracted from the scheduled segment roll time to avoid thundering herds of segment rolling",
        ),
        synonyms: &[
            same(ConfigDef::null(
                "log.roll.jitter.ms",
                Long,
                Any,
                "The maximum jitter to subtract from logRollTimeMillis (in milliseconds). If not set, the value in log.roll.jitter.hours is used",
            )),
            Synonym {
                def: ConfigDef::new(
                    "log.roll.jitter.hours",
                    Int,
                    "0",
                    AtLeast(0),
                    "The maximum jitter to subtract from logRollTimeMillis (in hours), secondary to log.roll.jitter.ms property",
                ),
                ms_per_unit: HOUR_MS,
            },
        ],
        honoured: false,
        apply: |c, v| c.segment_jitter_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "segment.ms",
            Long,
            "604800000",
            AtLeast(1),
            "This configuration controls the period of time after which Kafka will force the log to roll even if the segment file isn't full to ensure that retention can delete or compact old data.",
        ),
        synonyms: &[
            same(ConfigDef::null(
                "log.roll.ms",
                Long,
                Any,
                "The maximum time before a new log segment is rolled out (in milliseconds). If not set, the value in log.roll.hours is used",
            )),
            Synonym {
                def: ConfigDef::new(
                    "log.roll.hours",
                    Int,
                    "168",
                    AtLeast(1),
                    "The maximum time before a new log segment is rolled out (in hours), secondary to log.roll.ms property",
                ),
                ms_per_unit: HOUR_MS,
            },
        ],
        honoured: true,
        apply: |c, v| c.segment_ms = v.as_i64(),
    },
    TopicConfigDef {
        def: ConfigDef::new(
            "unclean.leader.election.enable",
            Boolean,
            "false",
            Any,
            "Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even though doing so may result in data loss.<p>Note: In KRaft mode, when enabling this config dynamically, it needs to wait for the unclean leader electionthread to trigger election periodically (default is 5 minutes). Please run <code>kafka-leader-election.sh</code> with <code>unclean</code> option to trigger the unclean leader election immediately if needed.</p>",
        ),
        synonyms: &[same(ConfigDef::new(
            "unclean.leader.election.enable",
            Boolean,
            "false",
            Any,
            "Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even though doing so may result in data loss<p>Note: In KRaft mode, when enabling this config dynamically, it needs to wait for the unclean leader election thread to trigger election periodically (default is 5 minutes). Please run `kafka-leader-election.sh` with `unclean` option to trigger the unclean leader election immediately if needed.</p>",
        ))],
        honoured: true,
        apply: |c, v| c.unclean_leader_election_enable = v.as_bool(),
    },
];

/// The definition of the topic config `name`, if Kafka has one.
pub fn topic_config_def(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.def.name == name)
}
