//! The replication invariants, checked after every round of messages in every test:
//!
//! 1. Committed prefixes agree: any two running replicas hold the same batches below the
//!    smaller of their high watermarks.
//! 2. A follower fetching from a leader in that leader's current epoch holds a prefix of the
//!    leader's log: no replica keeps a record that differs from its leader's at the same
//!    offset once it has truncated.
//! 3. Nothing acknowledged to an acks=all producer is lost: while the controller's leader
//!    runs, its log holds every such batch, at the offset it was acknowledged with, with the
//!    values that were sent.

use std::collections::BTreeMap;

use crate::ErrorCode;
use crate::batch::{BatchHeader, decode_records};
use crate::broker::FollowerPhase;
use crate::broker::produce::ACKS_ALL;
use crate::log::Log;
use crate::storage::Storage;

use super::cluster::Cluster;

/// Every batch of `log`, by base offset, as stored.
pub(super) fn batches<S: Storage>(log: &Log<S>) -> BTreeMap<i64, Vec<u8>> {
    let mut batches = BTreeMap::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, usize::MAX).expect("log reads");
        assert!(
            !read.records.is_empty(),
            "a read below the log end returns a batch"
        );
        let mut position = 0;
        while position < read.records.len() {
            let header =
                BatchHeader::parse(&read.records[position..]).expect("stored batches parse");
            let end = position + header.size_bytes();
            batches.insert(header.base_offset, read.records[position..end].to_vec());
            offset = header.next_offset();
            position = end;
        }
    }
    batches
}

/// The values of the records in one stored batch.
pub(super) fn values(batch: &[u8]) -> Vec<String> {
    decode_records(batch)
        .expect("stored batches decode")
        .into_iter()
        .map(|r| String::from_utf8(r.value.expect("test records have values")).expect("utf-8"))
        .collect()
}

pub(super) fn check(cluster: &Cluster) {
    let tp = Cluster::tp();
    let running: Vec<_> = cluster
        .nodes
        .iter()
        .filter_map(|(id, n)| n.broker.as_ref().map(|b| (*id, b)))
        .filter_map(|(id, b)| b.partitions.get(&tp).map(|p| (id, p)))
        .collect();
    let logs: BTreeMap<_, _> = running
        .iter()
        .map(|(id, p)| (*id, batches(&p.log)))
        .collect();
    for (a, pa) in &running {
        for (b, pb) in &running {
            let committed = pa.high_watermark().min(pb.high_watermark());
            // Offsets both still hold: a log start may have moved (DeleteRecords, retention).
            let start = pa.log.log_start_offset().max(pb.log.log_start_offset());
            let below = |log: &BTreeMap<i64, Vec<u8>>| -> Vec<(i64, Vec<u8>)> {
                log.range(start..committed.max(start))
                    .map(|(o, b)| (*o, b.clone()))
                    .collect()
            };
            assert!(
                below(&logs[a]) == below(&logs[b]),
                "brokers {a} and {b} disagree below their common high watermark {committed}"
            );
        }
    }
    for (f, pf) in &running {
        let Some(follower) = pf.follower.filter(|f| f.phase == FollowerPhase::Fetching) else {
            continue;
        };
        let Some((l, pl)) = running.iter().find(|(id, _)| *id == follower.leader) else {
            continue;
        };
        if !pl.is_leader() || pl.state.leader_epoch != follower.leader_epoch {
            continue;
        }
        assert!(
            pf.log.log_end_offset() <= pl.log.log_end_offset(),
            "follower {f} is ahead of leader {l}"
        );
        let start = pl.log.log_start_offset();
        for (offset, batch) in logs[f].range(start..) {
            assert_eq!(
                logs[l].get(offset),
                Some(batch),
                "follower {f} holds a batch at {offset} that leader {l} does not"
            );
        }
    }
    let leader = cluster
        .controller
        .image()
        .partition("t", 0)
        .map(|s| s.leader);
    let Some((l, _)) = running
        .iter()
        .find(|(id, p)| Some(*id) == leader && p.is_leader())
    else {
        return;
    };
    for sent in cluster.sent.values().filter(|s| s.acks == ACKS_ALL) {
        let Some(answer) = sent.response.as_ref().map(|r| &r.partitions[0]) else {
            continue;
        };
        if answer.error != ErrorCode::NONE {
            continue;
        }
        let batch = logs[l].get(&answer.base_offset);
        assert!(
            batch.is_some_and(|b| values(b) == sent.values),
            "acknowledged batch {:?} at offset {} is missing from leader {l}",
            sent.values,
            answer.base_offset
        );
    }
}
