//! Following a cluster from the command-line tools, as Kafka's clients do (their
//! `Metadata`/`NetworkClient`): Metadata names every broker and each partition's leader; a
//! partition's Produce, Fetch and ListOffsets go to its leader, a group's requests to its
//! coordinator (FindCoordinator), over one connection per broker that is kept and reused.
//! NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE or a lost connection drop what is known,
//! refresh the metadata and send again, at most [`RETRIES_MAX`] times with an exponential
//! backoff ([`backoff`]: Kafka's `retry.backoff.ms` 100 up to `retry.backoff.max.ms` 1000,
//! KIP-580).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, bail};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, MetadataRequest, MetadataResponse};
use partita_core::ErrorCode;

use super::{check, is_code};
use crate::cli::LoginArgs;
use crate::client::{KafkaClient, connection_lost};
use crate::kafka::topic_name;

const METADATA_VERSION: i16 = 12;
const LIST_OFFSETS_VERSION: i16 = 7;
/// How many times a request is sent again after a retriable error before the tool gives up.
pub const RETRIES_MAX: u32 = 30;
/// How many times Metadata is asked again for a topic still unknown when the tool lets the
/// broker create it (produce, consume): about 7 s with the backoff, where Kafka's producer
/// waits up to `max.block.ms`.
const AUTO_CREATE_RETRIES: u32 = 10;
const BACKOFF_MS: u64 = 100;
const BACKOFF_MAX_MS: u64 = 1_000;

/// The pause before retry number `attempt` (1-based): 100 ms doubled per attempt, at most 1 s.
pub fn backoff(attempt: u32) -> Duration {
    let doubled = BACKOFF_MS.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    Duration::from_millis(doubled.min(BACKOFF_MAX_MS))
}

/// Whether `error` is worth a metadata refresh and another try: the partition's leader moved
/// or is being elected, or the connection to it is gone (see [`retriable_code`]).
pub fn retriable(error: &anyhow::Error) -> bool {
    connection_lost(error)
        || error
            .downcast_ref::<super::KafkaCodeError>()
            .is_some_and(|e| retriable_code(e.code))
}

/// Whether `error` says a group's coordinator is elsewhere, not ready, or unreachable.
pub fn coordinator_moved(error: &anyhow::Error) -> bool {
    is_code(error, ErrorCode::NOT_COORDINATOR)
        || is_code(error, ErrorCode::COORDINATOR_NOT_AVAILABLE)
        || is_code(error, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
        || connection_lost(error)
}

/// Whether a partition's error code in a response asks for a metadata refresh and another
/// try: Kafka's `InvalidMetadataException`s (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,
/// UNKNOWN_TOPIC_OR_PARTITION: a topic just created that the leader has not learnt yet,
/// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) and the produce errors its producer retries
/// (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT).
pub fn retriable_code(code: i16) -> bool {
    matches!(
        ErrorCode::from_code(code),
        Some(
            ErrorCode::NOT_LEADER_OR_FOLLOWER
                | ErrorCode::LEADER_NOT_AVAILABLE
                | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                | ErrorCode::FENCED_LEADER_EPOCH
                | ErrorCode::UNKNOWN_LEADER_EPOCH
                | ErrorCode::NOT_ENOUGH_REPLICAS
                | ErrorCode::REQUEST_TIMED_OUT
        )
    )
}

/// ListOffsets' answer for one partition: (topic, partition), error code, offset.
type OffsetAnswer = ((String, i32), i16, i64);

/// A topic as Metadata describes it.
#[derive(Debug, Clone)]
pub struct TopicInfo {
    /// Each partition's leader (node id), or -1 while it has none, indexed by partition.
    pub leaders: Vec<i32>,
}

/// What the tool knows of the cluster, and its connections.
pub struct Cluster {
    /// `--bootstrap-server`: one `host:port` or a comma-separated list.
    bootstrap: Vec<String>,
    login: LoginArgs,
    /// Whether Metadata may create a topic it names (produce and consume: as Kafka's producer
    /// and consumer do when the broker allows it; the admin tools: never).
    auto_create: bool,
    /// Node id → `host:port`, from the last Metadata.
    brokers: BTreeMap<i32, String>,
    topics: HashMap<String, TopicInfo>,
    /// Group id → its coordinator's node id.
    coordinators: HashMap<String, i32>,
    /// One connection per `host:port`.
    connections: HashMap<String, KafkaClient>,
}

impl Cluster {
    /// Connects to the first bootstrap server that answers and reads the cluster's brokers.
    /// `auto_create`: whether this tool's Metadata requests may create the topics they name.
    pub fn connect(bootstrap: &str, login: &LoginArgs, auto_create: bool) -> anyhow::Result<Self> {
        let mut cluster = Cluster {
            bootstrap: super::bootstrap_servers(bootstrap)?,
            login: login.clone(),
            auto_create,
            brokers: BTreeMap::new(),
            topics: HashMap::new(),
            coordinators: HashMap::new(),
            connections: HashMap::new(),
        };
        cluster.metadata(&[])?;
        Ok(cluster)
    }

    /// The connection to `address`, opened (and logged in) if there is none.
    fn at(&mut self, address: &str) -> anyhow::Result<&mut KafkaClient> {
        if !self.connections.contains_key(address) {
            let client = super::connect(address, &self.login)?;
            self.connections.insert(address.to_string(), client);
        }
        Ok(self.connections.get_mut(address).expect("just inserted"))
    }

    /// The connection to broker `node`.
    pub fn broker(&mut self, node: i32) -> anyhow::Result<&mut KafkaClient> {
        let address = self
            .brokers
            .get(&node)
            .with_context(|| format!("broker {node} is not in the cluster's metadata"))?
            .clone();
        self.at(&address)
    }

    /// Every broker of the last Metadata, as (node id, `host:port`).
    pub fn brokers(&self) -> Vec<(i32, String)> {
        self.brokers
            .iter()
            .map(|(&id, a)| (id, a.clone()))
            .collect()
    }

    /// Forgets the connection to broker `node` (after it failed), so the next request opens
    /// a new one.
    pub fn disconnect(&mut self, node: i32) {
        if let Some(address) = self.brokers.get(&node) {
            self.connections.remove(address);
        }
    }

    /// Any live connection, for requests every broker answers (Metadata, FindCoordinator):
    /// those open first, then the bootstrap servers, then the known brokers. Calls `ask` on
    /// each until one answers without losing its connection.
    fn ask_any<T>(
        &mut self,
        mut ask: impl FnMut(&mut KafkaClient) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut candidates: Vec<String> = self.connections.keys().cloned().collect();
        candidates.sort();
        candidates.extend(self.bootstrap.iter().cloned());
        candidates.extend(self.brokers.values().cloned());
        let mut last = None;
        let mut tried = Vec::new();
        for address in candidates {
            if tried.contains(&address) {
                continue;
            }
            tried.push(address.clone());
            let answer = match self.at(&address) {
                Ok(client) => ask(client),
                Err(e) => Err(e),
            };
            match answer {
                Err(e) if connection_lost(&e) => {
                    self.connections.remove(&address);
                    last = Some(e);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no broker to ask")))
    }

    /// Metadata of `topics` (none: just the brokers) from any live broker; records the
    /// brokers and every answered topic's leaders.
    pub fn metadata(&mut self, topics: &[&str]) -> anyhow::Result<MetadataResponse> {
        let request = MetadataRequest::default()
            .with_topics(Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t))))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(self.auto_create);
        let response = self.ask_any(|client| client.call(&request, METADATA_VERSION))?;
        self.brokers = response
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
            .collect();
        for topic in &response.topics {
            let Some(name) = &topic.name else { continue };
            if topic.error_code != 0 || topic.partitions.is_empty() {
                self.topics.remove(name.as_str());
                continue;
            }
            let mut leaders = vec![-1; topic.partitions.len()];
            for p in &topic.partitions {
                if let Some(slot) = usize::try_from(p.partition_index)
                    .ok()
                    .and_then(|i| leaders.get_mut(i))
                {
                    *slot = if p.error_code == 0 { p.leader_id.0 } else { -1 };
                }
            }
            self.topics.insert(name.to_string(), TopicInfo { leaders });
        }
        Ok(response)
    }

    /// `topic` as Metadata describes it, asked again (with backoff) while its leaders are
    /// being elected (LEADER_NOT_AVAILABLE: just created). An unknown topic is an error
    /// naming it (UNKNOWN_TOPIC_OR_PARTITION), unless this tool auto-creates topics and the
    /// broker does.
    pub fn topic(&mut self, topic: &str) -> anyhow::Result<TopicInfo> {
        if let Some(info) = self.topics.get(topic) {
            return Ok(info.clone());
        }
        let mut attempt = 0;
        loop {
            let response = self.metadata(&[topic])?;
            let found = response
                .topics
                .iter()
                .find(|t| t.name.as_ref().is_some_and(|n| n.as_str() == topic))
                .context("Metadata answered without the topic")?;
            let unknown = found.error_code == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.code();
            if unknown && (!self.auto_create || attempt >= AUTO_CREATE_RETRIES) {
                let how = if self.auto_create {
                    format!(
                        " (asked {} times; does the broker create topics on use?)",
                        attempt + 1
                    )
                } else {
                    String::new()
                };
                return Err(check(
                    found.error_code,
                    &format!("topic {topic} does not exist{how}"),
                    None,
                )
                .expect_err("a non-zero code"));
            }
            // A topic being created on use is unknown, or without leaders, for a moment.
            let electing = unknown
                || found.error_code == ErrorCode::LEADER_NOT_AVAILABLE.code()
                || found.partitions.is_empty();
            if !electing {
                check(found.error_code, &format!("topic {topic}"), None)?;
                return self
                    .topics
                    .get(topic)
                    .cloned()
                    .context("the topic's metadata");
            }
            attempt += 1;
            if attempt > RETRIES_MAX {
                bail!("topic {topic} has no leaders after {RETRIES_MAX} metadata requests");
            }
            std::thread::sleep(backoff(attempt));
        }
    }

    /// The leader of `topic`-`partition`, refreshing the metadata while it has none.
    pub fn leader(&mut self, topic: &str, partition: i32) -> anyhow::Result<i32> {
        let mut attempt = 0;
        loop {
            let info = self.topic(topic)?;
            let leader = usize::try_from(partition)
                .ok()
                .and_then(|i| info.leaders.get(i).copied())
                .with_context(|| {
                    format!(
                        "{topic} has no partition {partition} (it has {})",
                        info.leaders.len()
                    )
                })?;
            if leader >= 0 && self.brokers.contains_key(&leader) {
                return Ok(leader);
            }
            attempt += 1;
            if attempt > RETRIES_MAX {
                bail!("{topic}-{partition} has no leader after {RETRIES_MAX} metadata requests");
            }
            self.forget(topic);
            std::thread::sleep(backoff(attempt));
        }
    }

    /// Drops what is known of `topic`'s leaders: the next request asks Metadata again.
    pub fn forget(&mut self, topic: &str) {
        self.topics.remove(topic);
    }

    /// The connection to `group`'s coordinator (FindCoordinator, asked once per group and
    /// again after [`Cluster::forget_coordinator`]).
    pub fn coordinator(&mut self, group: &str) -> anyhow::Result<&mut KafkaClient> {
        let node = match self.coordinators.get(group) {
            Some(&node) => node,
            None => {
                let (node, address) = self.ask_any(|client| {
                    super::groups::find_coordinator(client, group, super::groups::GROUP_KEY_TYPE)
                })?;
                self.brokers.entry(node).or_insert(address);
                self.coordinators.insert(group.to_string(), node);
                node
            }
        };
        self.broker(node)
    }

    /// Forgets `group`'s coordinator and its connection (NOT_COORDINATOR, a lost connection).
    pub fn forget_coordinator(&mut self, group: &str) {
        if let Some(node) = self.coordinators.remove(group) {
            self.disconnect(node);
        }
    }

    /// Runs `call` on `group`'s coordinator; when the coordinator moved or is loading
    /// (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS) or its
    /// connection was lost, finds it again and retries, at most [`RETRIES_MAX`] times, as
    /// Kafka's AdminClient does for coordinator requests. `call` must be safe to repeat.
    pub fn with_coordinator<T>(
        &mut self,
        group: &str,
        mut call: impl FnMut(&mut KafkaClient) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut attempt = 0;
        loop {
            match self.coordinator(group).and_then(&mut call) {
                Err(e) if attempt < RETRIES_MAX && coordinator_moved(&e) => {
                    attempt += 1;
                    self.forget_coordinator(group);
                    std::thread::sleep(backoff(attempt));
                }
                other => return other,
            }
        }
    }

    /// ListOffsets of each of `partitions` at `timestamp` (-1: the log end, i.e. the high
    /// watermark; -2: the log start), each asked of its partition's leader; retried on
    /// another leader, or a lost connection, as [`retriable`] says. Another error code fails
    /// the call, naming the partition.
    pub fn list_offsets(
        &mut self,
        partitions: &[(String, i32)],
        timestamp: i64,
    ) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
        let mut found = BTreeMap::new();
        let mut pending: Vec<(String, i32)> = partitions.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            let mut by_leader: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
            for (topic, partition) in pending.drain(..) {
                let leader = self.leader(&topic, partition)?;
                by_leader
                    .entry(leader)
                    .or_default()
                    .push((topic, partition));
            }
            let mut last = None;
            for (leader, asked) in by_leader {
                match self.list_offsets_of(leader, &asked, timestamp) {
                    Ok(answers) => {
                        for ((topic, partition), code, offset) in answers {
                            let what = format!("offsets of {topic}-{partition}");
                            if code == 0 {
                                found.insert((topic, partition), offset);
                            } else if retriable_code(code) {
                                self.forget(&topic);
                                last = Some(check(code, &what, None).expect_err("non-zero"));
                                pending.push((topic, partition));
                            } else {
                                check(code, &what, None)?;
                            }
                        }
                    }
                    Err(e) if retriable(&e) => {
                        self.disconnect(leader);
                        for (topic, _) in &asked {
                            self.forget(topic);
                        }
                        pending.extend(asked);
                        last = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            if !pending.is_empty() {
                attempt += 1;
                if attempt > RETRIES_MAX {
                    let e = last.unwrap_or_else(|| anyhow::anyhow!("no leader answered"));
                    return Err(e.context(format!(
                        "ListOffsets still failing after {RETRIES_MAX} retries"
                    )));
                }
                std::thread::sleep(backoff(attempt));
            }
        }
        Ok(found)
    }

    /// One ListOffsets to `leader`: each asked partition's answer.
    fn list_offsets_of(
        &mut self,
        leader: i32,
        asked: &[(String, i32)],
        timestamp: i64,
    ) -> anyhow::Result<Vec<OffsetAnswer>> {
        let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (topic, partition) in asked {
            by_topic.entry(topic).or_default().push(*partition);
        }
        let topics = by_topic
            .iter()
            .map(|(topic, partitions)| {
                ListOffsetsTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(
                        partitions
                            .iter()
                            .map(|&p| {
                                ListOffsetsPartition::default()
                                    .with_partition_index(p)
                                    .with_current_leader_epoch(-1)
                                    .with_timestamp(timestamp)
                            })
                            .collect(),
                    )
            })
            .collect();
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(topics);
        let response = self.broker(leader)?.call(&request, LIST_OFFSETS_VERSION)?;
        Ok(response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| {
                    (
                        (t.name.to_string(), p.partition_index),
                        p.error_code,
                        p.offset,
                    )
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100_ms_up_to_a_second() {
        let pauses: Vec<u64> = (1..=6).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn leader_moves_and_lost_connections_are_retried_other_errors_not() {
        let code = |c: ErrorCode| check(c.code(), "x", None).unwrap_err();
        assert!(retriable(&code(ErrorCode::NOT_LEADER_OR_FOLLOWER)));
        assert!(retriable(&code(ErrorCode::LEADER_NOT_AVAILABLE)));
        assert!(!retriable(&code(ErrorCode::TOPIC_AUTHORIZATION_FAILED)));
        let refused =
            anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
                .context("connecting to 127.0.0.1:1");
        assert!(retriable(&refused));
        assert!(!retriable(&anyhow::anyhow!("a malformed answer")));
        assert!(retriable_code(ErrorCode::NOT_LEADER_OR_FOLLOWER.code()));
        assert!(!retriable_code(ErrorCode::OFFSET_OUT_OF_RANGE.code()));
        assert!(!retriable_code(ErrorCode::MESSAGE_TOO_LARGE.code()));
    }
}
