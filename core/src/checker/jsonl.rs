//! The history file format: JSON lines any client can write, read into a [`History`].
//!
//! One JSON object per line, its `"type"` naming the operation; blank lines and lines starting
//! with `#` are skipped. `at` (milliseconds since the run began) is optional everywhere and
//! defaults to 0. Values must be unique per send in the run (the checker identifies sends by
//! value), so a writer puts an id in every value.
//!
//! ```text
//! {"type":"send","producer":"p1","value":"p1-7","key":"k3","at":12}
//! {"type":"ack","producer":"p1","value":"p1-7","topic":"t","partition":0,"offset":41,"at":15}
//! {"type":"fail","producer":"p1","value":"p1-8","error":"_MSG_TIMED_OUT","at":30015}
//! {"type":"assign","consumer":"c1","partitions":[{"topic":"t","partition":0}],"at":20}
//! {"type":"poll","consumer":"c1","topic":"t","partition":0,"offset":41,"value":"p1-7","at":22}
//! {"type":"process","consumer":"c1","topic":"t","partition":0,"offset":41,"value":"p1-7"}
//! {"type":"commit","consumer":"c1","topic":"t","partition":0,"offset":42,"at":25}
//! {"type":"revoke","consumer":"c1","partitions":[{"topic":"t","partition":0}],"at":40}
//! {"type":"final","topic":"t","partition":0,"readable":true,"records":[[41,"p1-7"]]}
//! ```
//!
//! Transactions (KIP-98) add a `txn` (an id of the transaction, unique in the run) to each
//! `send` made in one, a `txn` line with its outcome, `read_committed` on the polls of a
//! consumer with `isolation.level=read_committed`, `source` on a consume-transform-produce
//! output (the value of the input record it was made from), and `aborted` on a `final` line
//! (the offsets of its records that belong to aborted transactions; markers are not records):
//!
//! ```text
//! {"type":"send","producer":"ctp","value":"ctp-3","txn":"ctp#1.2","source":"p1-7"}
//! {"type":"txn","producer":"ctp","txn":"ctp#1.2","outcome":"commit","at":40}
//! {"type":"poll","consumer":"c2","topic":"out","partition":0,"offset":5,"value":"ctp-3","read_committed":true}
//! {"type":"final","topic":"out","partition":0,"records":[[3,"ctp-1"],[5,"ctp-3"]],"aborted":[3]}
//! ```
//!
//! `outcome` is `commit` (commitTransaction returned), `abort` (abortTransaction returned, or
//! the producer died before asking to commit) or `unknown` (it asked to commit and died
//! before the answer).
//!
//! - `ack.offset` is the offset the broker returned (-1 when the client does not know it: with
//!   acks=0, as librdkafka reports, and for librdkafka's implicit acknowledgement of a batch
//!   whose request failed but a later batch of the partition succeeded).
//! - `ack.log_append_time_ms` (optional) is the timestamp the leader stamped the record with,
//!   when the topic has `message.timestamp.type=LogAppendTime`; the checker ignores it.
//! - `commit.offset` is the next offset to consume, as OffsetCommit carries it.
//! - `final` is what the partition holds after the run, read from its leader from the log start
//!   offset up to the high watermark: `records` is `[offset, value]` pairs; `readable: false`
//!   when no leader answered (the checker then cannot judge writes acknowledged there).
//!   Several `final` lines for one partition add up. For a compacted topic, `keys` (offset to
//!   key, e.g. `{"41":"k3"}`) and `compaction` (`{"delete_retention_ms":..,"read_at":..}`)
//!   let the checker accept records the cleaner was allowed to remove; a `send` with
//!   `"tombstone":true` went out with a null value (read back as `""`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Compaction, FinalRead, History, Op, TxnOutcome};
use crate::Millis;
use crate::assignor::TopicPartition;

/// A line that is not a history operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// One line of the file, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Line {
    Send {
        producer: String,
        value: String,
        #[serde(default)]
        key: Option<String>,
        /// Sent with a null value (`value` only names the send).
        #[serde(default)]
        tombstone: bool,
        #[serde(default)]
        txn: Option<String>,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        at: u64,
    },
    Ack {
        producer: String,
        value: String,
        topic: String,
        partition: i32,
        offset: i64,
        /// The broker's LogAppendTime for the record, ms since the epoch (ProduceResponse's
        /// `log_append_time_ms`), when the topic stamps records on append
        /// (`message.timestamp.type=LogAppendTime`); the leader's wall clock. Not judged by
        /// the checker: `partita chaos --faults clock` tests read it to see a skewed clock.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_append_time_ms: Option<i64>,
        #[serde(default)]
        at: u64,
    },
    Fail {
        producer: String,
        value: String,
        /// The client's error, for the reader; the checker does not use it.
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        at: u64,
    },
    Poll {
        consumer: String,
        topic: String,
        partition: i32,
        offset: i64,
        value: String,
        #[serde(default)]
        read_committed: bool,
        #[serde(default)]
        at: u64,
    },
    Process {
        consumer: String,
        topic: String,
        partition: i32,
        offset: i64,
        value: String,
        #[serde(default)]
        at: u64,
    },
    Assign {
        consumer: String,
        partitions: Vec<TopicPartition>,
        #[serde(default)]
        at: u64,
    },
    Revoke {
        consumer: String,
        partitions: Vec<TopicPartition>,
        #[serde(default)]
        at: u64,
    },
    Commit {
        consumer: String,
        topic: String,
        partition: i32,
        offset: i64,
        #[serde(default)]
        at: u64,
    },
    Final {
        topic: String,
        partition: i32,
        #[serde(default = "readable_by_default")]
        readable: bool,
        #[serde(default)]
        records: Vec<(i64, String)>,
        /// The key of each keyed record, by offset (JSON object keys are the offsets).
        #[serde(default)]
        keys: BTreeMap<String, String>,
        /// Set for a compacted topic: its delete.retention.ms and when the read happened.
        #[serde(default)]
        compaction: Option<Compaction>,
        /// Offsets of records in aborted transactions.
        #[serde(default)]
        aborted: BTreeSet<i64>,
    },
    Txn {
        producer: String,
        txn: String,
        outcome: TxnOutcome,
        #[serde(default)]
        at: u64,
    },
}

fn readable_by_default() -> bool {
    true
}

/// Reads a whole history file. The first bad line is the error.
pub fn parse(text: &str) -> Result<History, ParseError> {
    let mut history = History::default();
    let mut finals: BTreeMap<TopicPartition, FinalRead> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let line: Line = serde_json::from_str(trimmed).map_err(|e| ParseError {
            line: index + 1,
            message: e.to_string(),
        })?;
        if let Line::Final { keys, .. } = &line
            && let Some(bad) = keys.keys().find(|k| k.parse::<i64>().is_err())
        {
            return Err(ParseError {
                line: index + 1,
                message: format!("keys: {bad:?} is not an offset"),
            });
        }
        match line.into_op() {
            Ok(op) => history.push(op),
            Err(read) => {
                let read = *read;
                let entry = finals.entry(read.tp.clone()).or_insert(FinalRead {
                    tp: read.tp,
                    records: Vec::new(),
                    readable: true,
                    keys: BTreeMap::new(),
                    compaction: None,
                    aborted: BTreeSet::new(),
                });
                entry.readable &= read.readable;
                entry.records.extend(read.records);
                entry.keys.extend(read.keys);
                entry.compaction = entry.compaction.or(read.compaction);
                entry.aborted.extend(read.aborted);
            }
        }
    }
    for (_, mut read) in finals {
        read.records.sort();
        history.final_reads.push(read);
    }
    Ok(history)
}

impl Line {
    /// The operation, or the final read a `final` line is.
    fn into_op(self) -> Result<Op, Box<FinalRead>> {
        let tp = TopicPartition::new;
        Ok(match self {
            Line::Send {
                producer,
                value,
                key,
                tombstone,
                txn,
                source,
                at,
            } => Op::Send {
                producer,
                value,
                key,
                at: Millis(at),
                tombstone,
                txn,
                source,
            },
            Line::Ack {
                producer,
                value,
                topic,
                partition,
                offset,
                at,
                log_append_time_ms: _,
            } => Op::Ack {
                producer,
                value,
                tp: tp(topic, partition),
                offset,
                at: Millis(at),
            },
            Line::Fail {
                producer,
                value,
                at,
                ..
            } => Op::Fail {
                producer,
                value,
                at: Millis(at),
            },
            Line::Poll {
                consumer,
                topic,
                partition,
                offset,
                value,
                read_committed,
                at,
            } => Op::Poll {
                consumer,
                tp: tp(topic, partition),
                offset,
                value,
                at: Millis(at),
                read_committed,
            },
            Line::Process {
                consumer,
                topic,
                partition,
                offset,
                value,
                at,
            } => Op::Process {
                consumer,
                tp: tp(topic, partition),
                offset,
                value,
                at: Millis(at),
            },
            Line::Assign {
                consumer,
                partitions,
                at,
            } => Op::Assign {
                consumer,
                partitions,
                at: Millis(at),
            },
            Line::Revoke {
                consumer,
                partitions,
                at,
            } => Op::Revoke {
                consumer,
                partitions,
                at: Millis(at),
            },
            Line::Commit {
                consumer,
                topic,
                partition,
                offset,
                at,
            } => Op::Commit {
                consumer,
                tp: tp(topic, partition),
                offset,
                at: Millis(at),
            },
            Line::Txn {
                producer,
                txn,
                outcome,
                at,
            } => Op::TxnEnd {
                producer,
                txn,
                outcome,
                at: Millis(at),
            },
            Line::Final {
                topic,
                partition,
                readable,
                records,
                keys,
                compaction,
                aborted,
            } => {
                return Err(Box::new(FinalRead {
                    aborted,
                    tp: tp(topic, partition),
                    records,
                    readable,
                    keys: keys
                        .into_iter()
                        .map(|(offset, key)| (offset.parse().expect("checked in parse"), key))
                        .collect(),
                    compaction,
                }));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{AnomalyKind, check};

    const CLEAN: &str = r#"
# two sends, both acknowledged, polled and still there after the run
{"type":"send","producer":"p","value":"v1","key":"k","at":1}
{"type":"send","producer":"p","value":"v2"}
{"type":"ack","producer":"p","value":"v1","topic":"t","partition":0,"offset":0,"at":2}
{"type":"ack","producer":"p","value":"v2","topic":"t","partition":0,"offset":1,"at":3}
{"type":"assign","consumer":"c","partitions":[{"topic":"t","partition":0}]}
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":0,"value":"v1"}
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":1,"value":"v2"}
{"type":"commit","consumer":"c","topic":"t","partition":0,"offset":2}
{"type":"final","topic":"t","partition":0,"records":[[0,"v1"]]}
{"type":"final","topic":"t","partition":0,"records":[[1,"v2"]]}
"#;

    #[test]
    fn a_clean_history_reads_and_checks_clean() {
        let history = parse(CLEAN).unwrap();
        assert_eq!(history.ops.len(), 8);
        assert_eq!(history.final_reads.len(), 1);
        assert_eq!(history.final_reads[0].records.len(), 2);
        assert!(matches!(history.ops[7], Op::Commit { offset: 2, .. }));
        assert_eq!(check(&history, &[]), vec![]);
    }

    #[test]
    fn an_acknowledged_write_missing_at_the_end_is_lost() {
        let text = CLEAN.replace(r#"[[1,"v2"]]"#, "[]");
        let history = parse(&text).unwrap();
        let anomalies = check(&history, &[]);
        let lost: Vec<_> = anomalies
            .iter()
            .filter(|a| a.kind == AnomalyKind::LostWrite)
            .collect();
        assert_eq!(lost.len(), 1, "{anomalies:?}");
        assert_eq!(lost[0].value.as_deref(), Some("v2"));
        assert_eq!(lost[0].offset, Some(1));
    }

    #[test]
    fn an_unreadable_partition_is_not_judged() {
        let text = CLEAN.replace(
            r#"{"type":"final","topic":"t","partition":0,"records":[[1,"v2"]]}"#,
            r#"{"type":"final","topic":"t","partition":0,"readable":false}"#,
        );
        let history = parse(&text).unwrap();
        assert!(!history.final_reads[0].readable);
        assert_eq!(check(&history, &[]), vec![]);
    }

    #[test]
    fn keys_compaction_and_tombstones_are_read() {
        let history = parse(concat!(
            r#"{"type":"send","producer":"p","value":"v1","key":"k","tombstone":true}"#,
            "\n",
            r#"{"type":"final","topic":"t","partition":0,"records":[[3,""]],"keys":{"3":"k"},"#,
            r#""compaction":{"delete_retention_ms":100,"read_at":50}}"#,
        ))
        .unwrap();
        assert!(matches!(
            history.ops[0],
            Op::Send {
                tombstone: true,
                ..
            }
        ));
        let read = &history.final_reads[0];
        assert_eq!(read.keys.get(&3).map(String::as_str), Some("k"));
        assert_eq!(read.compaction.unwrap().delete_retention_ms, Millis(100));
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let err = parse("\n{\"type\":\"send\",\"producer\":\"p\",\"value\":\"v\"}\n{oops}\n")
            .unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse(r#"{"type":"teleport","value":"v"}"#).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("teleport"), "{err}");
        let err = parse(r#"{"type":"ack","producer":"p","value":"v","topic":"t"}"#).unwrap_err();
        assert!(err.message.contains("partition"), "{err}");
    }
}
