//! Fetch: whole batches from each partition, waiting up to `max_wait_ms` for `min_bytes`.
//! Sessions (KIP-227) are not kept: every answer carries session id 0, which tells clients to
//! send full fetch requests.

use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use partita_core::Millis;
use partita_core::assignor::TopicPartition;
use partita_core::broker;
use partita_core::controller::TopicId;

use anyhow::Context;
use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, resolve_topic, topic_name, uuid};
use super::node::Node;
use partita_core::client::{Request, Response};

/// The longest a fetch may wait, whatever the client asks: waits must stay bounded.
const FETCH_MAX_WAIT_MS: u64 = 30_000;

/// With ACLs (Kafka's `KafkaApis.handleFetchRequest`): a consumer needs Read on each topic
/// (else its partitions are TOPIC_AUTHORIZATION_FAILED and not read); a fetch that names a
/// replica (a follower's, on the client listener) needs ClusterAction on the cluster. When no
/// partition is left the answer comes at once.
pub async fn handle(
    request: FetchRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<FetchResponse> {
    let authz = client.authz.clone();
    // v15+ carries the replica id in replica_state.
    let replica_id = if version >= 15 {
        request.replica_state.replica_id.0
    } else {
        request.replica_id.0
    };
    let response = node
        .engine
        .call_later(move |state, reply| {
            let follower_denied = replica_id >= 0 && !authz.cluster(AclOperation::ClusterAction);
            let mut partitions = Vec::new();
            let mut refused = Vec::new();
            for topic in &request.topics {
                let name =
                    resolve_topic(state.image(), &topic.topic, topic.topic_id).unwrap_or_default();
                let allowed = !follower_denied && authz.topic(AclOperation::Read, &name);
                for p in &topic.partitions {
                    let tp = TopicPartition::new(name.clone(), p.partition);
                    if !allowed {
                        refused.push(broker::FetchedPartition::failed(
                            tp,
                            ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                        ));
                        continue;
                    }
                    partitions.push(broker::FetchPartition {
                        tp,
                        fetch_offset: p.fetch_offset,
                        partition_max_bytes: usize::try_from(p.partition_max_bytes).unwrap_or(0),
                        current_leader_epoch: (p.current_leader_epoch >= 0)
                            .then_some(p.current_leader_epoch),
                    });
                }
            }
            if partitions.is_empty() && !refused.is_empty() {
                let _ = reply.send((None, refused));
                return;
            }
            let core_request = broker::FetchRequest {
                replica_id,
                max_wait_ms: Millis(
                    u64::try_from(request.max_wait_ms)
                        .unwrap_or(0)
                        .min(FETCH_MAX_WAIT_MS),
                ),
                min_bytes: usize::try_from(request.min_bytes).unwrap_or(0),
                max_bytes: usize::try_from(request.max_bytes).unwrap_or(0),
                // v4+ (KIP-98); older versions read uncommitted.
                isolation_level: broker::IsolationLevel::from_wire(if version >= 4 {
                    request.isolation_level
                } else {
                    0
                }),
                partitions,
            };
            // The node answers later (a long poll); the refused partitions go after its answer.
            let (tx, rx) = tokio::sync::oneshot::channel();
            state.submit(Request::Fetch(core_request), Some(tx));
            let _ = reply.send((Some(rx), refused));
        })
        .await?;
    let (answer, refused) = response;
    let response = match answer {
        Some(rx) => rx.await.context("the engine dropped the fetch")?,
        None => Response::Fetch(broker::FetchResponse {
            partitions: Vec::new(),
        }),
    };
    let Response::Fetch(mut response) = response else {
        anyhow::bail!("the node answered Fetch with another response");
    };
    let ids = node
        .engine
        .call(|state| {
            state
                .image()
                .topics()
                .map(|t| (t.name.clone(), t.id))
                .collect::<std::collections::HashMap<_, _>>()
        })
        .await?;
    for p in &response.partitions {
        node.metrics.record_fetch(&p.tp.topic, &p.records);
    }
    response.partitions.extend(refused);
    Ok(encode(response, &ids, version))
}

fn encode(
    response: broker::FetchResponse,
    ids: &std::collections::HashMap<String, TopicId>,
    version: i16,
) -> FetchResponse {
    let partitions = response.partitions.into_iter().map(|p| {
        // Null when none (as Kafka sends for read_uncommitted); a list for read_committed.
        let aborted = (!p.aborted_transactions.is_empty()).then(|| {
            p.aborted_transactions
                .iter()
                .map(|txn| {
                    AbortedTransaction::default()
                        .with_producer_id(kafka_protocol::messages::ProducerId(txn.producer_id))
                        .with_first_offset(txn.first_offset)
                })
                .collect()
        });
        let partition = PartitionData::default()
            .with_aborted_transactions(aborted)
            .with_partition_index(p.tp.partition)
            .with_error_code(p.error.code())
            .with_high_watermark(p.high_watermark)
            .with_last_stable_offset(p.last_stable_offset)
            .with_log_start_offset(if version >= 5 { p.log_start_offset } else { -1 })
            .with_records(Some(p.records.into()));
        (p.tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        let topic = FetchableTopicResponse::default().with_partitions(partitions);
        // v13 replaced topic names by topic ids.
        if version >= 13 {
            topic.with_topic_id(ids.get(name).map(|id| uuid(*id)).unwrap_or_default())
        } else {
            topic.with_topic(topic_name(name))
        }
    });
    FetchResponse::default().with_responses(topics)
}
