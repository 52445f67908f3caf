//! The Metadata answer a broker gives from its copy of the metadata image, with Kafka's rules
//! (KRaftMetadataCache): only unfenced brokers are listed; a partition's leader is the image's
//! leader, or -1 with LEADER_NOT_AVAILABLE when it has none or the leader is not registered;
//! its offline replicas are those on fenced or unregistered brokers.

use crate::ErrorCode;
use crate::client::{MetadataResponse, PartitionMetadata};
use crate::controller::{BrokerId, MetadataImage, NO_LEADER, TopicId};

/// A broker clients may connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerEndpoint {
    pub node_id: BrokerId,
    pub host: String,
    pub port: u16,
}

/// One partition as Metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionAnswer {
    pub error: ErrorCode,
    /// -1 when the partition has no leader.
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    /// The replicas on brokers that are fenced or not registered (Kafka's
    /// `KRaftMetadataCache.getOfflineReplicas`), in replica order; Metadata v5+.
    pub offline_replicas: Vec<BrokerId>,
}

/// One topic asked for (or every topic): found, or the error to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicAnswer {
    pub name: String,
    pub error: ErrorCode,
    /// `None` when the topic is unknown.
    pub id: Option<TopicId>,
    pub partitions: Vec<PartitionAnswer>,
}

/// What Metadata answers: the live brokers, the controller, the topics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataAnswer {
    pub brokers: Vec<BrokerEndpoint>,
    /// The active controller's id, as brokers advertise it to clients.
    pub controller_id: BrokerId,
    pub topics: Vec<TopicAnswer>,
}

impl MetadataAnswer {
    /// The simulated clients' view: broker ids, and leader and epoch per partition of every
    /// topic found.
    pub fn to_client(&self) -> MetadataResponse {
        MetadataResponse {
            brokers: self.brokers.iter().map(|b| b.node_id).collect(),
            topics: self
                .topics
                .iter()
                .filter(|t| t.id.is_some())
                .map(|t| {
                    let partitions = t
                        .partitions
                        .iter()
                        .map(|p| PartitionMetadata {
                            leader: p.leader,
                            leader_epoch: p.leader_epoch,
                        })
                        .collect();
                    (t.name.clone(), partitions)
                })
                .collect(),
        }
    }
}

/// The answer for `topics` (every topic when `None`); `errors` gives the code of topics that
/// are missing for a known reason (a refused auto-creation), else UNKNOWN_TOPIC_OR_PARTITION.
pub fn answer(
    image: &MetadataImage,
    controller_id: BrokerId,
    topics: Option<&[String]>,
    errors: &[(String, ErrorCode)],
) -> MetadataAnswer {
    let brokers = image
        .brokers()
        .filter(|b| !b.fenced)
        .map(|b| BrokerEndpoint {
            node_id: b.broker_id,
            host: b.host.clone(),
            port: b.port,
        })
        .collect();
    let names: Vec<String> = match topics {
        Some(names) => names.to_vec(),
        None => image.topics().map(|t| t.name.clone()).collect(),
    };
    let topics = names
        .into_iter()
        .map(|name| match image.topic(&name) {
            Some(topic) => TopicAnswer {
                name,
                error: ErrorCode::NONE,
                id: Some(topic.id),
                partitions: topic
                    .partitions
                    .iter()
                    .map(|p| {
                        let has_leader = p.leader != NO_LEADER && image.broker(p.leader).is_some();
                        PartitionAnswer {
                            error: if has_leader {
                                ErrorCode::NONE
                            } else {
                                ErrorCode::LEADER_NOT_AVAILABLE
                            },
                            leader: if has_leader { p.leader } else { NO_LEADER },
                            leader_epoch: p.leader_epoch,
                            replicas: p.replicas.clone(),
                            isr: p.isr.clone(),
                            offline_replicas: p
                                .replicas
                                .iter()
                                .copied()
                                .filter(|&r| image.broker(r).is_none_or(|b| b.fenced))
                                .collect(),
                        }
                    })
                    .collect(),
            },
            None => {
                let error = errors
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, |(_, code)| *code);
                TopicAnswer {
                    name,
                    error,
                    id: None,
                    partitions: Vec::new(),
                }
            }
        })
        .collect();
    MetadataAnswer {
        brokers,
        controller_id,
        topics,
    }
}
