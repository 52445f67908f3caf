//! The history the checker reads: what clients sent, what was acknowledged, what consumers
//! polled and processed, and what the partitions hold after recovery.
//!
//! Values identify sends: every simulated send carries a value unique in the run, so a value
//! found at two offsets is one send written twice, and an acknowledged value found nowhere is
//! a lost write. A tombstone (a send with a null value) carries no value on the wire: the
//! history still names it by its unique value, and the reads show it as the empty string at
//! its offset, with its key (simulated values are never empty).

use std::collections::{BTreeMap, BTreeSet};

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
        /// The transaction the send belongs to (an id unique in the run), if any; its outcome
        /// is a [`Op::TxnEnd`].
        #[serde(skip_serializing_if = "Option::is_none")]
        txn: Option<String>,
        /// For the output of a consume-transform-produce application: the value of the input
        /// record this send was made from (two visible outputs of one input are a duplicate).
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<String>,
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
        /// The consumer reads with `isolation.level=read_committed`.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        read_committed: bool,
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
    /// The consumer committed `offset` (the next offset to read, as OffsetCommit carries it)
    /// for `tp`. Recorded for the reader of a history; no check judges commits yet.
    Commit {
        consumer: String,
        tp: TopicPartition,
        offset: i64,
        at: Millis,
    },
    /// How transaction `txn` of `producer` ended, as far as the producer knows.
    TxnEnd {
        producer: String,
        txn: String,
        outcome: TxnOutcome,
        at: Millis,
    },
}

/// The end of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxnOutcome {
    /// `commitTransaction` returned.
    Commit,
    /// `abortTransaction` returned, or the producer died (or was fenced) before it asked to
    /// commit: the coordinator can only abort it.
    Abort,
    /// The producer asked to commit and died (or timed out) before the answer: either.
    Unknown,
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
    /// Offsets of `records` that belong to aborted transactions (the log's aborted
    /// transactions index): a read_committed consumer never sees them. Commit and abort
    /// markers are not in `records` at all.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub aborted: BTreeSet<i64>,
}

/// What the checker needs to know about a compacted partition's read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
