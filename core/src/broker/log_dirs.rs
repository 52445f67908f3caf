//! DescribeLogDirs: the size and offset lag of each hosted partition's log, for the one log
//! directory a broker has (Kafka's `ReplicaManager.describeLogDirs`). The directory itself and
//! its disk's total and usable bytes are the shell's to add.

use crate::assignor::TopicPartition;

use super::{Broker, StorageFactory};

/// One partition's log, as DescribeLogDirs reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaLogInfo {
    pub tp: TopicPartition,
    /// Bytes in its segments.
    pub size_bytes: u64,
    /// How far the log end is below the high watermark (Kafka's `getLogEndOffsetLag` for a
    /// current, not future, log): 0 on a leader and on a follower that has caught up.
    pub offset_lag: i64,
}

impl<F: StorageFactory> Broker<F> {
    /// The logs of the hosted partitions among `partitions` (every hosted one for `None`), in
    /// topic and partition order; partitions not hosted here are left out, as Kafka does.
    pub fn describe_log_dirs(&self, partitions: Option<&[TopicPartition]>) -> Vec<ReplicaLogInfo> {
        let mut logs: Vec<ReplicaLogInfo> = self
            .partitions()
            .filter(|(tp, _)| partitions.is_none_or(|wanted| wanted.contains(tp)))
            .map(|(tp, snapshot)| ReplicaLogInfo {
                tp: tp.clone(),
                size_bytes: snapshot.size_bytes,
                offset_lag: (snapshot.high_watermark - snapshot.log_end_offset).max(0),
            })
            .collect();
        logs.sort_by(|a, b| a.tp.cmp(&b.tp));
        logs
    }
}
