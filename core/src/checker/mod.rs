//! A Jepsen-style checker over a run's [`History`]: the anomaly kinds of Jepsen's Kafka and
//! Redpanda analyses, plus the engine invariants the simulator saw broken.
//!
//! - `lost-write`: a send the producer was told succeeded is not in the log after recovery.
//!   On a compacted partition (`cleanup.policy=compact`) a missing record is not lost when the
//!   log cleaner was allowed to remove it: a later record with the same key survives in the
//!   final read, or a later tombstone for that key was itself removed once
//!   `delete.retention.ms` had passed since it was sent; a tombstone missing is allowed on the
//!   same terms. Anything else missing is lost, compacted topic or not.
//! - `duplicate`: one send (its unique value) at two offsets.
//! - `nonmonotonic-poll`: within one assignment, a consumer's polls of a partition went back
//!   or repeated an offset.
//! - `poll-skip`: within one assignment, a consumer's polls jumped over offsets that hold
//!   records.
//! - `inconsistent-offsets`: one offset of a partition seen with two different values (across
//!   consumers' reads and the final read).
//! - transactions (`transactions.rs`): `aborted-read`, `partial-read`, `txn-lost-write`,
//!   `ctp-duplicate` (see there). A read_committed consumer passing over the records of an
//!   aborted transaction is not a `poll-skip`.
//! - `invariant`: an engine invariant broke (high watermark above log end offset, ISR outside
//!   the replicas, a high watermark moving back).

mod history;
pub mod jsonl;
mod transactions;

pub use history::{Compaction, FinalRead, History, Op, TxnOutcome};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::Millis;
use crate::assignor::TopicPartition;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    LostWrite,
    Duplicate,
    NonmonotonicPoll,
    PollSkip,
    InconsistentOffsets,
    AbortedRead,
    PartialRead,
    TxnLostWrite,
    CtpDuplicate,
    Invariant,
}

impl AnomalyKind {
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::LostWrite => "lost-write",
            AnomalyKind::Duplicate => "duplicate",
            AnomalyKind::NonmonotonicPoll => "nonmonotonic-poll",
            AnomalyKind::PollSkip => "poll-skip",
            AnomalyKind::InconsistentOffsets => "inconsistent-offsets",
            AnomalyKind::AbortedRead => "aborted-read",
            AnomalyKind::PartialRead => "partial-read",
            AnomalyKind::TxnLostWrite => "txn-lost-write",
            AnomalyKind::CtpDuplicate => "ctp-duplicate",
            AnomalyKind::Invariant => "invariant",
        }
    }
}

/// One anomaly, with what it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub detail: String,
}

/// One line: the kind, where (`topic-partition@offset`), the value, the detail, e.g.
/// `lost-write t-0@7 value "k3": acknowledged but never read`.
impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind.name())?;
        match (&self.topic, self.partition, self.offset) {
            (Some(t), Some(p), Some(o)) => write!(f, " {t}-{p}@{o}")?,
            (Some(t), Some(p), None) => write!(f, " {t}-{p}")?,
            _ => {}
        }
        if let Some(v) = &self.value {
            write!(f, " value {v:?}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl Anomaly {
    fn at(
        kind: AnomalyKind,
        tp: &TopicPartition,
        offset: Option<i64>,
        value: Option<&str>,
        detail: String,
    ) -> Anomaly {
        Anomaly {
            kind,
            topic: Some(tp.topic.clone()),
            partition: Some(tp.partition),
            offset,
            value: value.map(str::to_owned),
            detail,
        }
    }
}

/// Checks `history`; `invariants` are the engine invariant violations the run traced.
pub fn check(history: &History, invariants: &[String]) -> Vec<Anomaly> {
    let mut anomalies = Vec::new();
    let final_log = final_log(history);
    lost_writes(history, &final_log, &mut anomalies);
    duplicates(history, &mut anomalies);
    polls(history, &final_log, &mut anomalies);
    inconsistent_offsets(history, &mut anomalies);
    transactions::check(history, &mut anomalies);
    for description in invariants {
        anomalies.push(Anomaly {
            kind: AnomalyKind::Invariant,
            topic: None,
            partition: None,
            offset: None,
            value: None,
            detail: description.clone(),
        });
    }
    anomalies
}

/// Value by (partition, offset) in the final reads.
type FinalLog = BTreeMap<TopicPartition, BTreeMap<i64, String>>;

fn final_log(history: &History) -> FinalLog {
    history
        .final_reads
        .iter()
        .map(|read| (read.tp.clone(), read.records.iter().cloned().collect()))
        .collect()
}

/// What the checker knows of one send from its `Send` op.
struct SendInfo<'a> {
    key: Option<&'a str>,
    tombstone: bool,
    at: Millis,
}

fn sends(history: &History) -> BTreeMap<&str, SendInfo<'_>> {
    history
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Send {
                value,
                key,
                at,
                tombstone,
                ..
            } => Some((
                value.as_str(),
                SendInfo {
                    key: key.as_deref(),
                    tombstone: *tombstone,
                    at: *at,
                },
            )),
            _ => None,
        })
        .collect()
}

/// The acknowledged tombstones per partition and key: (offset, when sent).
type AckedTombstones<'a> = BTreeMap<(&'a TopicPartition, &'a str), Vec<(i64, Millis)>>;

fn acked_tombstones<'a>(
    history: &'a History,
    sends: &BTreeMap<&str, SendInfo<'a>>,
) -> AckedTombstones<'a> {
    let mut out: AckedTombstones<'a> = BTreeMap::new();
    for op in &history.ops {
        if let Op::Ack {
            value, tp, offset, ..
        } = op
            && let Some(send) = sends.get(value.as_str())
            && let (true, Some(key)) = (send.tombstone, send.key)
        {
            out.entry((tp, key)).or_default().push((*offset, send.at));
        }
    }
    out
}

fn lost_writes(history: &History, final_log: &FinalLog, out: &mut Vec<Anomaly>) {
    let reads: BTreeMap<&TopicPartition, &FinalRead> = history
        .final_reads
        .iter()
        .filter(|r| r.readable)
        .map(|r| (&r.tp, r))
        .collect();
    let present: BTreeSet<&str> = final_log
        .values()
        .flat_map(|records| records.values().map(String::as_str))
        .filter(|value| !value.is_empty())
        .collect();
    let sends = sends(history);
    let tombstones = acked_tombstones(history, &sends);
    for op in &history.ops {
        let Op::Ack {
            value, tp, offset, ..
        } = op
        else {
            continue;
        };
        // A partition with no leader after recovery cannot be judged: nothing is readable.
        let Some(read) = reads.get(tp) else {
            continue;
        };
        let send = sends.get(value.as_str());
        let found = match send {
            // A tombstone has no value to look for: it is the null record of its key at its offset.
            Some(send) if send.tombstone => {
                final_log
                    .get(tp)
                    .and_then(|r| r.get(offset))
                    .is_some_and(String::is_empty)
                    && read.keys.get(offset).map(String::as_str) == send.key
            }
            _ => present.contains(value.as_str()),
        };
        if found {
            continue;
        }
        let key = send.and_then(|s| s.key);
        let mut detail = format!("acknowledged at offset {offset}, absent after recovery");
        if let (Some(compaction), Some(send), Some(key)) = (read.compaction, send, key) {
            if compacted_away(read, &compaction, &tombstones, send, key, *offset) {
                continue;
            }
            detail.push_str(&format!(
                "; no later record of key {key:?} survives and no later tombstone of it was old enough to remove"
            ));
        }
        out.push(Anomaly::at(
            AnomalyKind::LostWrite,
            tp,
            Some(*offset),
            Some(value),
            detail,
        ));
    }
}

/// Whether the log cleaner of a compacted partition may have removed the record of `key`
/// acknowledged at `offset` (-1 with acks=0: then any survivor of its key counts as later).
fn compacted_away(
    read: &FinalRead,
    compaction: &Compaction,
    tombstones: &AckedTombstones<'_>,
    send: &SendInfo<'_>,
    key: &str,
    offset: i64,
) -> bool {
    let later = |other: i64| offset < 0 || other > offset;
    // Superseded: a later record of the key (a value or a tombstone) is still there.
    if read.keys.iter().any(|(&at, k)| k == key && later(at)) {
        return true;
    }
    let removable = |sent: Millis| compaction.read_at >= sent.plus(compaction.delete_retention_ms);
    // A tombstone itself goes once delete.retention.ms has passed.
    if send.tombstone && removable(send.at) {
        return true;
    }
    // A later tombstone of the key removed the record, and then went itself.
    tombstones
        .get(&(&read.tp, key))
        .is_some_and(|acked| acked.iter().any(|&(at, sent)| later(at) && removable(sent)))
}

fn duplicates(history: &History, out: &mut Vec<Anomaly>) {
    // Every place a value was seen: the final log and every poll.
    let mut seen: BTreeMap<&str, BTreeSet<(&TopicPartition, i64)>> = BTreeMap::new();
    for read in &history.final_reads {
        for (offset, value) in &read.records {
            seen.entry(value).or_default().insert((&read.tp, *offset));
        }
    }
    for op in &history.ops {
        if let Op::Poll {
            tp, offset, value, ..
        } = op
        {
            seen.entry(value).or_default().insert((tp, *offset));
        }
    }
    for (value, places) in seen {
        // Tombstones (the empty value) carry no identity to compare.
        if places.len() > 1 && !value.is_empty() {
            let (tp, offset) = *places.iter().next().expect("more than one");
            let offsets: Vec<String> = places
                .iter()
                .map(|(t, o)| format!("{}-{}@{o}", t.topic, t.partition))
                .collect();
            let detail = format!("one send at {}", offsets.join(", "));
            out.push(Anomaly::at(
                AnomalyKind::Duplicate,
                tp,
                Some(offset),
                Some(value),
                detail,
            ));
        }
    }
}

/// Per consumer life and partition, polls between two assignments must go up by one offset
/// at a time, except over offsets that hold nothing in the final log.
fn polls(history: &History, final_log: &FinalLog, out: &mut Vec<Anomaly>) {
    let aborted: BTreeMap<&TopicPartition, &BTreeSet<i64>> = history
        .final_reads
        .iter()
        .map(|r| (&r.tp, &r.aborted))
        .collect();
    let mut last: BTreeMap<(&str, &TopicPartition), i64> = BTreeMap::new();
    for op in &history.ops {
        match op {
            Op::Assign {
                consumer,
                partitions,
                ..
            }
            | Op::Revoke {
                consumer,
                partitions,
                ..
            } => {
                for tp in partitions {
                    last.remove(&(consumer.as_str(), tp));
                }
            }
            Op::Poll {
                consumer,
                tp,
                offset,
                value,
                read_committed,
                ..
            } => {
                if let Some(previous) = last.insert((consumer.as_str(), tp), *offset) {
                    if *offset <= previous {
                        let detail = format!("{consumer} polled {offset} after {previous}");
                        out.push(Anomaly::at(
                            AnomalyKind::NonmonotonicPoll,
                            tp,
                            Some(*offset),
                            Some(value),
                            detail,
                        ));
                    } else if *offset > previous + 1 {
                        // read_committed passes over aborted transactions' records.
                        let passable = |o: &i64| {
                            *read_committed && aborted.get(tp).is_some_and(|a| a.contains(o))
                        };
                        let skipped = final_log.get(tp).is_some_and(|records| {
                            records
                                .range(previous + 1..*offset)
                                .any(|(o, _)| !passable(o))
                        });
                        if skipped {
                            let detail = format!(
                                "{consumer} polled {offset} after {previous}, skipping records"
                            );
                            out.push(Anomaly::at(
                                AnomalyKind::PollSkip,
                                tp,
                                Some(*offset),
                                Some(value),
                                detail,
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn inconsistent_offsets(history: &History, out: &mut Vec<Anomaly>) {
    let mut values: BTreeMap<(&TopicPartition, i64), BTreeSet<&str>> = BTreeMap::new();
    for read in &history.final_reads {
        for (offset, value) in &read.records {
            values.entry((&read.tp, *offset)).or_default().insert(value);
        }
    }
    for op in &history.ops {
        if let Op::Poll {
            tp, offset, value, ..
        } = op
        {
            values.entry((tp, *offset)).or_default().insert(value);
        }
    }
    for ((tp, offset), seen) in values {
        if seen.len() > 1 {
            let detail = format!("values {:?}", seen);
            out.push(Anomaly::at(
                AnomalyKind::InconsistentOffsets,
                tp,
                Some(offset),
                None,
                detail,
            ));
        }
    }
}

/// How many anomalies of each kind.
pub fn count_by_kind(anomalies: &[Anomaly]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for a in anomalies {
        *counts.entry(a.kind.name()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_tests;
