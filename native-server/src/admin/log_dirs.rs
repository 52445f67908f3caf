//! `partita log-dirs --describe [--topic-list a,b] [--broker-list 1,2]`: each broker's log
//! directories with the size and offset lag of every partition in them (DescribeLogDirs),
//! printed as `kafka-log-dirs.sh --describe` prints them: two lines of progress, then one
//! line of JSON with Kafka's key order.

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use kafka_protocol::messages::DescribeLogDirsRequest;
use partita_core::ErrorCode;

use crate::cli::LogDirsArgs;
use crate::client::KafkaClient;

const DESCRIBE_LOG_DIRS_VERSION: i16 = 4;

pub fn run(args: LogDirsArgs) -> anyhow::Result<()> {
    let mut client = super::connect_bootstrap(&args.bootstrap_server, &args.login)?;
    let brokers = super::brokers(&mut client)?;
    let have = client.addr().to_string();
    let known: BTreeSet<i32> = brokers.iter().map(|(id, _)| *id).collect();
    let asked: BTreeSet<i32> = match &args.broker_list {
        None => known.clone(),
        Some(list) => list
            .split(',')
            .map(|id| {
                id.trim()
                    .parse()
                    .with_context(|| format!("{id:?} is not a broker id"))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let missing: Vec<String> = asked.difference(&known).map(i32::to_string).collect();
    if !missing.is_empty() {
        let current: Vec<String> = known.iter().map(i32::to_string).collect();
        bail!(
            "ERROR: The given brokers do not exist from --broker-list: {}. Current existent brokers: {}",
            missing.join(","),
            current.join(",")
        );
    }
    let topics: BTreeSet<String> = args
        .topic_list
        .as_deref()
        .map(|list| list.split(',').map(|t| t.trim().to_string()).collect())
        .unwrap_or_default();
    println!("Querying brokers for log directories information");
    let mut described = Vec::new();
    for (id, address) in brokers.iter().filter(|(id, _)| asked.contains(id)) {
        let mut broker = super::connect_to_broker(address, &have, &args.login)?;
        let broker = broker.as_mut().unwrap_or(&mut client);
        described.push(format!(
            "{{\"broker\":{id},\"logDirs\":[{}]}}",
            describe_broker(broker, &topics)?.join(",")
        ));
    }
    let ids: Vec<String> = asked.iter().map(i32::to_string).collect();
    println!(
        "Received log directory information from brokers {}",
        ids.join(",")
    );
    println!("{{\"brokers\":[{}],\"version\":1}}", described.join(","));
    Ok(())
}

/// One JSON object per log directory of the broker, partitions of `topics` only (all when
/// empty), as kafka-log-dirs.sh prints them.
fn describe_broker(
    client: &mut KafkaClient,
    topics: &BTreeSet<String>,
) -> anyhow::Result<Vec<String>> {
    // Null topics: every partition (the admin client's describeLogDirs asks so and filters).
    let response = client.call(
        &DescribeLogDirsRequest::default().with_topics(None),
        DESCRIBE_LOG_DIRS_VERSION,
    )?;
    super::check(response.error_code, "describing log directories", None)?;
    let mut dirs = Vec::new();
    for dir in &response.results {
        let mut partitions = Vec::new();
        for topic in &dir.topics {
            if !topics.is_empty() && !topics.contains(topic.name.as_str()) {
                continue;
            }
            for p in &topic.partitions {
                partitions.push(format!(
                    "{{\"partition\":{},\"size\":{},\"offsetLag\":{},\"isFuture\":{}}}",
                    json_string(&format!("{}-{}", topic.name.as_str(), p.partition_index)),
                    p.partition_size,
                    p.offset_lag,
                    p.is_future_key
                ));
            }
        }
        // The Java tool prints the exception class of a failed directory.
        let error = match ErrorCode::from_code(dir.error_code) {
            Some(ErrorCode::NONE) => "null".to_string(),
            Some(ErrorCode::KAFKA_STORAGE_ERROR) => {
                json_string("org.apache.kafka.common.errors.KafkaStorageException")
            }
            Some(other) => json_string(other.name()),
            None => json_string(&format!("error code {}", dir.error_code)),
        };
        dirs.push(format!(
            "{{\"partitions\":[{}],\"error\":{error},\"logDir\":{}}}",
            partitions.join(","),
            json_string(dir.log_dir.as_str())
        ));
    }
    Ok(dirs)
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}
