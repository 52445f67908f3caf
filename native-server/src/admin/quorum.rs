//! `partita quorum --describe --status|--replication`: what kafka-metadata-quorum.sh describe
//! prints (its `MetadataQuorumCommand`), from DescribeQuorum (API 55) asked of the active
//! controller, and the cluster id from DescribeCluster.

use anyhow::Context;
use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::describe_quorum_response::ReplicaState;
use kafka_protocol::messages::{DescribeClusterRequest, DescribeQuorumRequest};

use super::{check, table};
use crate::cli::QuorumArgs;
use crate::client::KafkaClient;
use crate::kafka::convert::topic_name;
use crate::kafka::describe_quorum::METADATA_TOPIC;

const DESCRIBE_QUORUM_VERSION: i16 = 1;
const DESCRIBE_CLUSTER_VERSION: i16 = 0;
/// Kafka's `Uuid.ZERO_UUID` as it prints (no directory ids without KIP-853).
const ZERO_UUID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// The quorum as its leader reports it.
struct Quorum {
    leader_id: i32,
    leader_epoch: i32,
    high_watermark: i64,
    voters: Vec<ReplicaState>,
    observers: Vec<ReplicaState>,
}

pub fn run(args: QuorumArgs) -> anyhow::Result<()> {
    let quorum = super::retry_not_controller(&args.bootstrap_server, &args.login, describe)?;
    let output = if args.replication {
        replication(&quorum)
    } else {
        let mut client = super::connect_bootstrap(&args.bootstrap_server, &args.login)?;
        let cluster = client.call(&DescribeClusterRequest::default(), DESCRIBE_CLUSTER_VERSION)?;
        check(
            cluster.error_code,
            "describing the cluster",
            cluster.error_message.as_deref(),
        )?;
        status(cluster.cluster_id.as_str(), &quorum)
    };
    print!("{output}");
    Ok(())
}

fn describe(client: &mut KafkaClient) -> anyhow::Result<Quorum> {
    let request = DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(topic_name(METADATA_TOPIC))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ]);
    let response = client.call(&request, DESCRIBE_QUORUM_VERSION)?;
    check(
        response.error_code,
        "describing the quorum",
        response.error_message.as_deref(),
    )?;
    let partition = response
        .topics
        .into_iter()
        .flat_map(|t| t.partitions)
        .next()
        .context("DescribeQuorum answered no partition")?;
    check(
        partition.error_code,
        "describing the quorum",
        partition.error_message.as_deref(),
    )?;
    Ok(Quorum {
        leader_id: partition.leader_id.0,
        leader_epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
        voters: partition.current_voters,
        observers: partition.observers,
    })
}

impl Quorum {
    fn leader(&self) -> anyhow::Result<&ReplicaState> {
        self.voters
            .iter()
            .find(|v| v.replica_id.0 == self.leader_id)
            .context("the leader is not among the voters")
    }
}

/// `describe --status`.
fn status(cluster_id: &str, quorum: &Quorum) -> String {
    let leader = quorum.leader().ok();
    // The voter furthest behind (the first of them, as Java's `Stream.min`).
    let behind = quorum.voters.iter().reduce(|a, b| {
        if b.log_end_offset < a.log_end_offset {
            b
        } else {
            a
        }
    });
    let (max_lag, max_lag_time) = match (leader, behind) {
        (Some(leader), Some(behind)) => {
            let time = if leader.replica_id == behind.replica_id {
                0
            } else if leader.last_caught_up_timestamp >= 0 && behind.last_caught_up_timestamp >= 0 {
                leader.last_caught_up_timestamp - behind.last_caught_up_timestamp
            } else {
                -1
            };
            (leader.log_end_offset - behind.log_end_offset, time)
        }
        _ => (0, -1),
    };
    let ids = |replicas: &[ReplicaState]| {
        let nodes: Vec<String> = replicas
            .iter()
            .map(|r| format!("{{\"id\": {}}}", r.replica_id.0))
            .collect();
        format!("[{}]", nodes.join(", "))
    };
    format!(
        "ClusterId:              {cluster_id}\n\
         LeaderId:               {}\n\
         LeaderEpoch:            {}\n\
         HighWatermark:          {}\n\
         MaxFollowerLag:         {max_lag}\n\
         MaxFollowerLagTimeMs:   {max_lag_time}\n\
         CurrentVoters:          {}\n\
         CurrentObservers:       {}\n",
        quorum.leader_id,
        quorum.leader_epoch,
        quorum.high_watermark,
        ids(&quorum.voters),
        ids(&quorum.observers),
    )
}

/// `describe --replication`: the leader, then the followers, then the observers.
fn replication(quorum: &Quorum) -> String {
    let leader_end = quorum.leader().map_or(-1, |l| l.log_end_offset);
    let row = |r: &ReplicaState, status: &str| {
        vec![
            r.replica_id.0.to_string(),
            ZERO_UUID.to_string(),
            r.log_end_offset.to_string(),
            (leader_end - r.log_end_offset).to_string(),
            r.last_fetch_timestamp.to_string(),
            r.last_caught_up_timestamp.to_string(),
            status.to_string(),
        ]
    };
    let is_leader = |r: &&ReplicaState| r.replica_id.0 == quorum.leader_id;
    let rows: Vec<Vec<String>> = (quorum
        .voters
        .iter()
        .filter(is_leader)
        .map(|r| row(r, "Leader")))
    .chain(
        (quorum.voters.iter())
            .filter(|r| !is_leader(r))
            .map(|r| row(r, "Follower")),
    )
    .chain(quorum.observers.iter().map(|r| row(r, "Observer")))
    .collect();
    table::render(
        &[
            "NodeId",
            "DirectoryId",
            "LogEndOffset",
            "Lag",
            "LastFetchTimestamp",
            "LastCaughtUpTimestamp",
            "Status",
        ],
        &rows,
    )
}
