//! DescribeLogDirs: the broker's one log directory (`--data-dir`), each hosted partition's
//! size and offset lag (from the core broker, `broker/log_dirs.rs`), and, from v4, the disk's
//! total and usable bytes, as Kafka's `ReplicaManager.describeLogDirs` answers.

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};
use partita_core::ErrorCode;
use partita_core::assignor::TopicPartition;

use super::convert::{by_topic, str_bytes, topic_name};
use super::node::Node;

pub async fn handle(
    request: DescribeLogDirsRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<DescribeLogDirsResponse> {
    // Null topics: every partition.
    let wanted: Option<Vec<TopicPartition>> = request.topics.map(|topics| {
        topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|&p| TopicPartition::new(t.topic.to_string(), p))
            })
            .collect()
    });
    let (data_dir, logs) = node
        .engine
        .call(move |state| {
            let logs = state.broker().describe_log_dirs(wanted.as_deref());
            (state.data_dir().to_path_buf(), logs)
        })
        .await?;
    let log_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let partitions = logs.into_iter().map(|log| {
        let partition = DescribeLogDirsPartition::default()
            .with_partition_index(log.tp.partition)
            .with_partition_size(log.size_bytes as i64)
            .with_offset_lag(log.offset_lag)
            .with_is_future_key(false);
        (log.tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        DescribeLogDirsTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    let mut result = DescribeLogDirsResult::default()
        .with_log_dir(str_bytes(log_dir.display().to_string()))
        .with_topics(topics);
    match rustix::fs::statvfs(&log_dir) {
        Ok(stats) if version >= 4 => {
            // Java's FileStore.getTotalSpace and getUsableSpace.
            let bytes = |blocks: u64| {
                i64::try_from(blocks.saturating_mul(stats.f_frsize)).unwrap_or(i64::MAX)
            };
            result = result
                .with_total_bytes(bytes(stats.f_blocks))
                .with_usable_bytes(bytes(stats.f_bavail));
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!("cannot read the disk space of {}: {e}", log_dir.display());
            result = DescribeLogDirsResult::default()
                .with_log_dir(str_bytes(log_dir.display().to_string()))
                .with_error_code(ErrorCode::KAFKA_STORAGE_ERROR.code());
        }
    }
    Ok(DescribeLogDirsResponse::default().with_results(vec![result]))
}
