//! The anomalies of transactions, as Jepsen's Kafka analysis looks for them:
//!
//! - `aborted-read`: a read_committed consumer polled a record of an aborted transaction (the
//!   producer's outcome says abort, or the final read finds the record inside an aborted
//!   transaction).
//! - `partial-read`: a read_committed consumer saw some of a committed transaction's records
//!   but never another of them, whose offset lies between the lowest and the highest offsets
//!   it polled in that partition (below the lowest, it may have picked the partition up past
//!   the record after a rebalance).
//! - `txn-lost-write`: a record of a committed transaction is not readable after the run
//!   (missing, or inside an aborted transaction), in a partition that could be read.
//! - `ctp-duplicate`: two records visible to read_committed after the run (not aborted) were
//!   made by a consume-transform-produce application from the same input record (`source`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Anomaly, AnomalyKind, FinalRead, History, Op, TxnOutcome};
use crate::assignor::TopicPartition;

/// What the history says of each transactional send.
struct TxnSends<'a> {
    /// value -> transaction.
    txn_of: BTreeMap<&'a str, &'a str>,
    /// transaction -> its values.
    values: BTreeMap<&'a str, Vec<&'a str>>,
    outcome: BTreeMap<&'a str, TxnOutcome>,
    /// value -> where it was acknowledged.
    acked: BTreeMap<&'a str, (&'a TopicPartition, i64)>,
}

fn txn_sends(history: &History) -> TxnSends<'_> {
    let mut sends = TxnSends {
        txn_of: BTreeMap::new(),
        values: BTreeMap::new(),
        outcome: BTreeMap::new(),
        acked: BTreeMap::new(),
    };
    for op in &history.ops {
        match op {
            Op::Send {
                value,
                txn: Some(txn),
                ..
            } => {
                sends.txn_of.insert(value, txn);
                sends.values.entry(txn).or_default().push(value);
            }
            Op::TxnEnd { txn, outcome, .. } => {
                sends.outcome.insert(txn, *outcome);
            }
            Op::Ack {
                value, tp, offset, ..
            } => {
                sends.acked.insert(value, (tp, *offset));
            }
            _ => {}
        }
    }
    sends
}

/// Where each value is in the final reads, and whether it is inside an aborted transaction.
fn final_places(history: &History) -> BTreeMap<&str, Vec<(&TopicPartition, i64, bool)>> {
    let mut places: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for read in &history.final_reads {
        for (offset, value) in &read.records {
            let aborted = read.aborted.contains(offset);
            places
                .entry(value.as_str())
                .or_default()
                .push((&read.tp, *offset, aborted));
        }
    }
    places
}

pub(super) fn check(history: &History, out: &mut Vec<Anomaly>) {
    let sends = txn_sends(history);
    let places = final_places(history);
    aborted_reads(history, &sends, &places, out);
    partial_reads(history, &sends, out);
    lost_from_committed(history, &sends, &places, out);
    ctp_duplicates(history, &places, out);
}

fn aborted_reads(
    history: &History,
    sends: &TxnSends<'_>,
    places: &BTreeMap<&str, Vec<(&TopicPartition, i64, bool)>>,
    out: &mut Vec<Anomaly>,
) {
    for op in &history.ops {
        let Op::Poll {
            consumer,
            tp,
            offset,
            value,
            read_committed: true,
            ..
        } = op
        else {
            continue;
        };
        let txn = sends.txn_of.get(value.as_str());
        let told_aborted = txn.is_some_and(|t| sends.outcome.get(t) == Some(&TxnOutcome::Abort));
        let found_aborted = places
            .get(value.as_str())
            .is_some_and(|p| p.iter().any(|&(t, o, a)| t == tp && o == *offset && a));
        if told_aborted || found_aborted {
            let why = match txn {
                Some(t) if told_aborted => format!("transaction {t} was aborted"),
                _ => "the record is inside an aborted transaction".to_string(),
            };
            let detail = format!("{consumer} (read_committed) polled it; {why}");
            out.push(Anomaly::at(
                AnomalyKind::AbortedRead,
                tp,
                Some(*offset),
                Some(value),
                detail,
            ));
        }
    }
}

fn partial_reads(history: &History, sends: &TxnSends<'_>, out: &mut Vec<Anomaly>) {
    // Per read_committed consumer life: the values it saw, and the lowest and highest offsets
    // it polled per partition. A record below the lowest was not skipped: the consumer picked
    // the partition up (after a rebalance) at a committed offset past it.
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut reached: BTreeMap<(&str, &TopicPartition), (i64, i64)> = BTreeMap::new();
    for op in &history.ops {
        if let Op::Poll {
            consumer,
            tp,
            offset,
            value,
            read_committed: true,
            ..
        } = op
        {
            seen.entry(consumer).or_default().insert(value);
            let (low, high) = reached.entry((consumer, tp)).or_insert((*offset, *offset));
            *low = (*low).min(*offset);
            *high = (*high).max(*offset);
        }
    }
    for (consumer, values) in &seen {
        let mut judged = BTreeSet::new();
        for value in values {
            let Some(txn) = sends.txn_of.get(value) else {
                continue;
            };
            if sends.outcome.get(txn) != Some(&TxnOutcome::Commit) || !judged.insert(*txn) {
                continue;
            }
            for other in &sends.values[txn] {
                let Some(&(tp, offset)) = sends.acked.get(other) else {
                    continue;
                };
                let passed = reached
                    .get(&(*consumer, tp))
                    .is_some_and(|&(low, high)| low <= offset && offset < high);
                if passed && !values.contains(other) {
                    let detail = format!(
                        "{consumer} saw {value} of committed transaction {txn} and read {}-{} past {offset}, but not {other}",
                        tp.topic, tp.partition
                    );
                    out.push(Anomaly::at(
                        AnomalyKind::PartialRead,
                        tp,
                        Some(offset),
                        Some(other),
                        detail,
                    ));
                }
            }
        }
    }
}

fn lost_from_committed(
    history: &History,
    sends: &TxnSends<'_>,
    places: &BTreeMap<&str, Vec<(&TopicPartition, i64, bool)>>,
    out: &mut Vec<Anomaly>,
) {
    let readable: BTreeMap<&TopicPartition, &FinalRead> =
        history.final_reads.iter().map(|r| (&r.tp, r)).collect();
    let all_readable = history.final_reads.iter().all(|r| r.readable);
    for (txn, values) in &sends.values {
        if sends.outcome.get(txn) != Some(&TxnOutcome::Commit) {
            continue;
        }
        for value in values {
            let acked = sends.acked.get(value);
            // Judged only where the partition could be read.
            let judged = match acked {
                Some((tp, _)) => readable.get(tp).is_some_and(|r| r.readable),
                None => all_readable && !history.final_reads.is_empty(),
            };
            if !judged {
                continue;
            }
            let found = places.get(value).map(Vec::as_slice).unwrap_or_default();
            if found.iter().any(|&(_, _, aborted)| !aborted) {
                continue;
            }
            let detail = if found.is_empty() {
                format!("transaction {txn} committed; the record is not in the log")
            } else {
                format!("transaction {txn} committed; the record is inside an aborted transaction")
            };
            let (tp, offset) = match (acked, found.first()) {
                (Some((tp, offset)), _) => (*tp, Some(*offset)),
                (None, Some((tp, offset, _))) => (*tp, Some(*offset)),
                (None, None) => {
                    out.push(Anomaly {
                        kind: AnomalyKind::TxnLostWrite,
                        topic: None,
                        partition: None,
                        offset: None,
                        value: Some(value.to_string()),
                        detail,
                    });
                    continue;
                }
            };
            out.push(Anomaly::at(
                AnomalyKind::TxnLostWrite,
                tp,
                offset,
                Some(value),
                detail,
            ));
        }
    }
}

fn ctp_duplicates(
    history: &History,
    places: &BTreeMap<&str, Vec<(&TopicPartition, i64, bool)>>,
    out: &mut Vec<Anomaly>,
) {
    // Input value -> the visible outputs made from it.
    let mut outputs: BTreeMap<&str, Vec<(&str, &TopicPartition, i64)>> = BTreeMap::new();
    for op in &history.ops {
        let Op::Send {
            value,
            source: Some(source),
            ..
        } = op
        else {
            continue;
        };
        for &(tp, offset, aborted) in places.get(value.as_str()).into_iter().flatten() {
            if !aborted {
                outputs.entry(source).or_default().push((value, tp, offset));
            }
        }
    }
    for (source, visible) in outputs {
        if visible.len() < 2 {
            continue;
        }
        let (_, tp, offset) = visible[0];
        let list: Vec<String> = visible
            .iter()
            .map(|(v, t, o)| format!("{v} at {}-{}@{o}", t.topic, t.partition))
            .collect();
        let detail = format!("input {source} produced {}", list.join(", "));
        out.push(Anomaly::at(
            AnomalyKind::CtpDuplicate,
            tp,
            Some(offset),
            Some(source),
            detail,
        ));
    }
}
