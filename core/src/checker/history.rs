//! The history the checker reads: what clients sent, what was acknowledged, what consumers
//! polled and processed, and what the partitions hold after recovery.
//!
//! Values identify sends: every simulated send carries a value unique in the run, so a value
//! found at two offsets is one send written twice, and an acknowledged value found nowhere is
//! a lost write. A tombstone (a send with a null value) carries no value on the wire: the
//! history still names it by its unique value, and the reads show it as the empty string at
//! its offset, with its key (simulated values are never empty).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Millis;
use crate::assignor::TopicPartition;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    Send {
        producer: String,
        value: String,
        key: Option<String>,
        at: Millis,
        /// A tombstone: the record went out with a null value (`value` only names the send).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        tombstone: bool,
    },
    /// The producer reported the send delivered; `offset` is -1 with acks=0.
    Ack {
        producer: String,
        value: String,
        tp: TopicPartition,
        offset: i64,
        at: Millis,
    },
    /// The producer reported the send failed.
    Fail {
        producer: String,
        value: String,
        at: Millis,
    },
    /// A record `poll` returned to a consumer (one process life: `consumer` names it).
    Poll {
        consumer: String,
        tp: TopicPartition,
        offset: i64,
        value: String,
        at: Millis,
    },
    /// The application finished processing a polled record.
    Process {
        consumer: String,
        tp: TopicPartition,
        offset: i64,
        value: String,
        at: Millis,
    },
    /// The consumer was given `partitions` (its positions start over there).
    Assign {
        consumer: String,
        partitions: Vec<TopicPartition>,
        at: Millis,
    },
    Revoke {
        consumer: String,
        partitions: Vec<TopicPartition>,
        at: Millis,
    },
}

/// A partition's records as read after the run, from its leader up to the high watermark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinalRead {
    pub tp: TopicPartition,
    /// (offset, value), in offset order; a tombstone's value is the empty string.
    pub records: Vec<(i64, String)>,
    /// False when the partition had no leader to read from.
    pub readable: bool,
    /// The key of each keyed record read, by offset.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<i64, String>,
    /// Set when the partition's topic is compacted (`cleanup.policy` contains `compact`):
    /// the checker then accepts records the log cleaner was allowed to remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compaction: Option<Compaction>,
}

/// What the checker needs to know about a compacted partition's read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Compaction {
    /// The topic's `delete.retention.ms`: a tombstone stays readable at least this long after
    /// it was written (Kafka keeps it this long after the cleaning that first kept it).
    pub delete_retention_ms: Millis,
    /// When the read happened.
    pub read_at: Millis,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct History {
    pub ops: Vec<Op>,
    pub final_reads: Vec<FinalRead>,
}

impl History {
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
}
