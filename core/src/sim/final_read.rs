//! The read after a run: every partition from its leader, up to the high watermark, straight
//! from the leader's disk (a read that changes nothing in the simulation).

use std::collections::{BTreeMap, BTreeSet};

use super::simulation::Simulation;
use crate::assignor::TopicPartition;
use crate::batch::{decode_records, split_batches};
use crate::checker::{Compaction, FinalRead};
use crate::log::{AbortedFilter, BatchKind, Log, LogConfig};

/// Reads at most this many bytes per step; the log returns at least one batch each time.
const READ_CHUNK_BYTES: usize = 1 << 20;

pub fn read_all(sim: &Simulation) -> Vec<FinalRead> {
    sim.partitions()
        .into_iter()
        .map(|tp| read_partition(sim, tp))
        .collect()
}

fn read_partition(sim: &Simulation, tp: TopicPartition) -> FinalRead {
    let unreadable = |tp| FinalRead {
        tp,
        records: Vec::new(),
        readable: false,
        keys: Default::default(),
        compaction: None,
        aborted: Default::default(),
    };
    let image = sim.image();
    let Some(state) = image.partition(&tp.topic, tp.partition as u32) else {
        return unreadable(tp);
    };
    let Some(leader) = sim.brokers.get(&state.leader) else {
        return unreadable(tp);
    };
    let Some(broker) = leader.broker() else {
        return unreadable(tp);
    };
    let Some(snapshot) = broker.partition(&tp) else {
        return unreadable(tp);
    };
    let Some(storage) = leader.disk.snapshot(&tp) else {
        return unreadable(tp);
    };
    let Ok((log, _)) = Log::open(storage, LogConfig::default()) else {
        return unreadable(tp);
    };
    let high_watermark = snapshot.high_watermark;
    let compaction = broker
        .log_config(&tp)
        .filter(|config| config.compact)
        .map(|config| Compaction {
            delete_retention_ms: config.delete_retention_ms,
            read_at: sim.now(),
        });
    let mut records = Vec::new();
    let mut keys = BTreeMap::new();
    let mut aborted = BTreeSet::new();
    let mut offset = log.log_start_offset();
    // Markers are not records; records of aborted transactions are, marked as such.
    let Ok(aborted_txns) = log.aborted_transactions(offset, high_watermark) else {
        return unreadable(tp);
    };
    let mut filter = AbortedFilter::new(aborted_txns);
    while offset < high_watermark {
        let Ok(read) = log.read_bounded(offset, READ_CHUNK_BYTES, high_watermark) else {
            break;
        };
        if read.records.is_empty() {
            break;
        }
        let Ok(batches) = split_batches(&read.records) else {
            break;
        };
        for (range, summary) in batches {
            offset = summary.header.next_offset();
            let kind = filter.classify(&summary.header, &read.records[range.clone()]);
            if matches!(kind, BatchKind::Control { .. }) {
                continue;
            }
            for record in decode_records(&read.records[range]).unwrap_or_default() {
                if record.offset < high_watermark {
                    if kind == BatchKind::Aborted {
                        aborted.insert(record.offset);
                    }
                    if let Some(key) = &record.key {
                        keys.insert(record.offset, String::from_utf8_lossy(key).into_owned());
                    }
                    // A tombstone (null value) reads as the empty string.
                    let value = record
                        .value
                        .map(|v| String::from_utf8_lossy(&v).into_owned())
                        .unwrap_or_default();
                    records.push((record.offset, value));
                }
            }
        }
    }
    FinalRead {
        tp,
        records,
        readable: true,
        keys,
        compaction,
        aborted,
    }
}
