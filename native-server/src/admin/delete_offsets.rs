//! `partita groups --delete-offsets --group G --topic T[:P,Q]`: deletes a group's committed
//! offsets (OffsetDelete, KIP-496), printing what `kafka-consumer-groups.sh --delete-offsets`
//! prints: a first line for the request as a whole (on stderr when it failed), then one row
//! per partition with its status. Unlike kafka-consumer-groups.sh, the exit status is 1 when
//! anything failed.

use anyhow::{Context, bail};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::{GroupId, OffsetDeleteRequest};
use partita_core::ErrorCode;

use crate::client::KafkaClient;
use crate::kafka::{str_bytes, topic_name};

const OFFSET_DELETE_VERSION: i16 = 0;

/// Deletes `group`'s offsets of `topic_arg` (`T`: every partition; `T:P,Q`: those) through
/// `coordinator`; returns what to print on stdout, or an error after printing the table.
pub fn run(coordinator: &mut KafkaClient, group: &str, topic_arg: &str) -> anyhow::Result<String> {
    // A partition of -1 stands for "the topic's partitions could not be listed".
    let mut results: Vec<(String, i32, ErrorCode)> = Vec::new();
    let partitions = match topic_arg.split_once(':') {
        Some((topic, list)) => (topic.to_string(), parse_partitions(topic_arg, list)?),
        None => match partitions_of(coordinator, topic_arg)? {
            Some(count) => (topic_arg.to_string(), (0..count).collect()),
            None => {
                results.push((
                    topic_arg.to_string(),
                    -1,
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                ));
                (topic_arg.to_string(), Vec::new())
            }
        },
    };
    let mut top_level = ErrorCode::NONE;
    if !partitions.1.is_empty() {
        let request = OffsetDeleteRequest::default()
            .with_group_id(GroupId(str_bytes(group)))
            .with_topics(vec![
                OffsetDeleteRequestTopic::default()
                    .with_name(topic_name(&partitions.0))
                    .with_partitions(
                        partitions
                            .1
                            .iter()
                            .map(|&p| {
                                OffsetDeleteRequestPartition::default().with_partition_index(p)
                            })
                            .collect(),
                    ),
            ]);
        let response = coordinator.call(&request, OFFSET_DELETE_VERSION)?;
        top_level = error_code(response.error_code);
        if top_level != ErrorCode::NONE {
            // The whole request failed: every partition fails with it, as the admin client
            // reports it.
            results.extend(
                partitions
                    .1
                    .iter()
                    .map(|&p| (partitions.0.clone(), p, top_level)),
            );
        } else {
            for topic in &response.topics {
                for p in &topic.partitions {
                    let code = error_code(p.error_code);
                    results.push((topic.name.to_string(), p.partition_index, code));
                }
            }
        }
    }
    // The admin client fails the whole operation with the first partition's error.
    if top_level == ErrorCode::NONE {
        top_level = results
            .iter()
            .map(|r| r.2)
            .find(|&code| code != ErrorCode::NONE)
            .unwrap_or(ErrorCode::NONE);
    }
    results.sort_by_key(|(topic, partition, _)| format!("{topic}{partition}"));
    let mut out = String::new();
    let failure = match top_level {
        ErrorCode::NONE => {
            out.push_str(&format!(
                "Request succeed for deleting offsets with topic {topic_arg} group {group}\n"
            ));
            None
        }
        ErrorCode::INVALID_GROUP_ID => Some(format!("'{group}' is not valid.")),
        ErrorCode::GROUP_ID_NOT_FOUND => Some(format!("'{group}' does not exist.")),
        ErrorCode::NON_EMPTY_GROUP => Some(format!(
            "Deleting offsets of a consumer group '{group}' is forbidden if the group is not empty."
        )),
        ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION => {
            Some("Encounter some partition level error, see the follow-up details:".to_string())
        }
        other => Some(format!("Encounter some unknown error: {}", other.name())),
    };
    if let Some(failure) = &failure {
        eprintln!("\nError: {failure}");
    }
    out.push_str(&row("TOPIC", "PARTITION", "STATUS"));
    for (topic, partition, code) in &results {
        let partition = if *partition >= 0 {
            partition.to_string()
        } else {
            "Not Provided".to_string()
        };
        let status = match code {
            ErrorCode::NONE => "Successful".to_string(),
            code => format!("Error: :{}", exception(*code)),
        };
        out.push_str(&row(topic, &partition, &status));
    }
    out.push('\n');
    if failure.is_some() {
        print!("{out}");
        bail!("deleting offsets of group {group}: {}", top_level.name());
    }
    Ok(out)
}

/// One line of the table, starting with its line break as kafka-consumer-groups.sh prints it
/// (`%n%-30s %-15s %-15s`).
fn row(topic: &str, partition: &str, status: &str) -> String {
    format!("\n{topic:<30} {partition:<15} {status:<15}")
}

fn error_code(code: i16) -> ErrorCode {
    ErrorCode::from_code(code).unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR)
}

/// The exception the Java admin client reports for `code`, as the tool prints it.
fn exception(code: ErrorCode) -> String {
    let (class, message) = match code {
        ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC => (
            "GroupSubscribedToTopicException",
            "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.",
        ),
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION => (
            "UnknownTopicOrPartitionException",
            "This server does not host this topic-partition.",
        ),
        ErrorCode::GROUP_ID_NOT_FOUND => {
            ("GroupIdNotFoundException", "The group id does not exist.")
        }
        ErrorCode::NON_EMPTY_GROUP => ("GroupNotEmptyException", "The group is not empty."),
        ErrorCode::INVALID_GROUP_ID => (
            "InvalidGroupIdException",
            "The configured groupId is invalid.",
        ),
        other => return other.name().to_string(),
    };
    format!("org.apache.kafka.common.errors.{class}: {message}")
}

fn parse_partitions(arg: &str, list: &str) -> anyhow::Result<Vec<i32>> {
    list.split(',')
        .map(|p| {
            p.trim()
                .parse()
                .with_context(|| format!("{p:?} in --topic {arg} is not a partition number"))
        })
        .collect()
}

/// How many partitions `topic` has; `None` when it does not exist. Never creates it.
fn partitions_of(client: &mut KafkaClient, topic: &str) -> anyhow::Result<Option<i32>> {
    Ok(super::topic_metadata(client, topic)?.map(|found| found.partitions.len() as i32))
}
