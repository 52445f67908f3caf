//! `partita produce`: lines of standard input become messages, batched per partition, keyed
//! ones placed by librdkafka's default partitioner (the core's), keyless ones round-robin.
//!
//! Each partition's batch goes to that partition's leader (`cluster`), the batches of one
//! leader in one Produce request. NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE or a lost
//! connection refresh the metadata and send the batch again (bounded, with backoff), as
//! kafka-console-producer does; a batch sent again after a lost connection may be written
//! twice (at-least-once: the tool is not an idempotent producer). A run that fails says how
//! many records were acknowledged before the failure.

use std::collections::BTreeMap;
use std::io::BufRead;

use anyhow::{Context, bail};
use bytes::Bytes;
use kafka_protocol::messages::ProduceRequest;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use partita_core::batch::BatchBuilder;
use partita_core::partitioner::KeyHash;

use super::check;
use super::cluster::{Cluster, RETRIES_MAX, backoff, retriable, retriable_code};
use crate::cli::ProduceArgs;
use crate::kafka::topic_name;

const PRODUCE_VERSION: i16 = 9;
/// Lines per partition sent in one request.
const BATCH_RECORDS_MAX: usize = 500;
const REQUEST_TIMEOUT_MS: i32 = 30_000;

pub fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let acks: i16 = match args.acks.as_str() {
        "all" | "-1" => -1,
        "1" => 1,
        "0" => 0,
        other => bail!("--acks {other}: expected 0, 1 or all"),
    };
    let mut cluster = Cluster::connect(&args.bootstrap_server, &args.login, true)?;
    let partitions =
        u32::try_from(cluster.topic(&args.topic)?.leaders.len()).context("too many partitions")?;
    let mut producer = Producer {
        cluster,
        topic: args.topic.clone(),
        acks,
        acknowledged: 0,
    };
    let mut pending: BTreeMap<i32, BatchBuilder> = BTreeMap::new();
    let (mut next_keyless, mut read) = (0u32, 0u64);
    let outcome = (|| {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading standard input")?;
            let (key, value) = match &args.key_separator {
                Some(separator) => match line.split_once(separator.as_str()) {
                    Some((key, value)) => (Some(key.to_string()), value.to_string()),
                    None => bail!("line {:?} has no key separator {separator:?}", line),
                },
                None => (None, line),
            };
            let partition = match &key {
                Some(key) => KeyHash::ConsistentRandom
                    .hash_partition(Some(key.as_bytes()), partitions)
                    .expect("keyed"),
                None => {
                    next_keyless = (next_keyless + 1) % partitions;
                    next_keyless
                }
            } as i32;
            let builder = pending.entry(partition).or_default();
            builder.push(
                now_ms(),
                key.as_deref().map(str::as_bytes),
                Some(value.as_bytes()),
                &[],
            );
            read += 1;
            if builder.record_count() >= BATCH_RECORDS_MAX {
                let full = pending.remove(&partition).expect("just used");
                producer.send(vec![Batch::of(partition, full)])?;
            }
        }
        producer.send(
            std::mem::take(&mut pending)
                .into_iter()
                .map(|(p, b)| Batch::of(p, b))
                .collect(),
        )
    })();
    let verb = if acks == 0 { "sent" } else { "acknowledged" };
    outcome.with_context(|| {
        format!(
            "{} of the {read} messages read were {verb} before this failure",
            producer.acknowledged
        )
    })?;
    eprintln!("produced {read} messages to {}", args.topic);
    Ok(())
}

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// One partition's built batch, kept to be sent again.
struct Batch {
    partition: i32,
    records: Bytes,
    count: u64,
}

impl Batch {
    fn of(partition: i32, builder: BatchBuilder) -> Batch {
        let count = builder.record_count() as u64;
        Batch {
            partition,
            records: builder.build().into(),
            count,
        }
    }
}

/// Each partition's error code and message in a Produce response.
type Answers = BTreeMap<i32, (i16, Option<String>)>;

/// Sends batches of one topic to their leaders, counting what was acknowledged.
struct Producer {
    cluster: Cluster,
    topic: String,
    acks: i16,
    /// Records acknowledged so far (with acks=0: sent).
    acknowledged: u64,
}

impl Producer {
    /// Sends every batch to its partition's leader (one request per leader), and again after
    /// a retriable error, at most [`RETRIES_MAX`] times.
    fn send(&mut self, mut batches: Vec<Batch>) -> anyhow::Result<()> {
        let mut attempt = 0;
        while !batches.is_empty() {
            let mut by_leader: BTreeMap<i32, Vec<Batch>> = BTreeMap::new();
            for batch in batches.drain(..) {
                let leader = self.cluster.leader(&self.topic, batch.partition)?;
                by_leader.entry(leader).or_default().push(batch);
            }
            let mut last = None;
            for (leader, group) in by_leader {
                match self.send_to(leader, &group) {
                    Ok(answers) => {
                        // Every acknowledged batch is counted before a failure is returned.
                        let mut failure = None;
                        for batch in group {
                            let (code, message) =
                                answers.get(&batch.partition).cloned().unwrap_or_default();
                            let what = format!("producing to {}-{}", self.topic, batch.partition);
                            if code == 0 {
                                self.acknowledged += batch.count;
                            } else if retriable_code(code) {
                                last = Some(check(code, &what, None).expect_err("non-zero"));
                                batches.push(batch);
                            } else if failure.is_none() {
                                failure = check(code, &what, message.as_deref()).err();
                            }
                        }
                        if let Some(e) = failure {
                            return Err(e);
                        }
                    }
                    Err(e) if retriable(&e) => {
                        self.cluster.disconnect(leader);
                        batches.extend(group);
                        last = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            if let Some(e) = last {
                attempt += 1;
                if attempt > RETRIES_MAX {
                    return Err(e.context(format!("still failing after {RETRIES_MAX} retries")));
                }
                self.cluster.forget(&self.topic);
                std::thread::sleep(backoff(attempt));
            }
        }
        Ok(())
    }

    /// One Produce request to `leader`: each partition's error code and message (none with
    /// acks=0).
    fn send_to(&mut self, leader: i32, batches: &[Batch]) -> anyhow::Result<Answers> {
        let partition_data = batches
            .iter()
            .map(|b| {
                PartitionProduceData::default()
                    .with_index(b.partition)
                    .with_records(Some(b.records.clone()))
            })
            .collect();
        let request = ProduceRequest::default()
            .with_acks(self.acks)
            .with_timeout_ms(REQUEST_TIMEOUT_MS)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(topic_name(&self.topic))
                    .with_partition_data(partition_data),
            ]);
        let client = self.cluster.broker(leader)?;
        if self.acks == 0 {
            client.send_only(&request, PRODUCE_VERSION)?;
            return Ok(BTreeMap::new());
        }
        let response = client.call(&request, PRODUCE_VERSION)?;
        let mut codes = BTreeMap::new();
        for topic_response in response.responses {
            for p in topic_response.partition_responses {
                codes.insert(
                    p.index,
                    (p.error_code, p.error_message.map(|m| m.to_string())),
                );
            }
        }
        if let Some(missing) = batches.iter().find(|b| !codes.contains_key(&b.partition)) {
            bail!(
                "broker {leader} did not answer for {}-{}",
                self.topic,
                missing.partition
            );
        }
        Ok(codes)
    }
}
