//! Who leads what, asked of the cluster when a fault starts: a fault aimed at "the leader of
//! partition 2" or "the active controller" hits whichever node Metadata names then.

use std::time::Duration;

use kafka_protocol::messages::MetadataRequest;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{TopicName, metadata_response::MetadataResponse};
use kafka_protocol::protocol::StrBytes;

use crate::client::KafkaClient;

const METADATA_VERSION: i16 = 12;
/// A paused node accepts connections and never answers: ask the next one after this.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// One partition of the test topic as Metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionView {
    /// Node id, -1 when it has none.
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// The cluster as one node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The active controller's node id, -1 when unknown.
    pub controller: i32,
    /// By partition index.
    pub partitions: Vec<PartitionView>,
}

/// Asks the nodes at `addrs` (host:port), in order, for `topic`'s metadata; the first answer
/// that names an active controller and leads every partition of the topic, else the last
/// answer at all, else `None`.
pub fn ask(addrs: &[String], topic: &str) -> Option<View> {
    let mut fallback = None;
    for addr in addrs {
        let Ok(view) = ask_one(addr, topic) else {
            continue;
        };
        if view.controller >= 0
            && !view.partitions.is_empty()
            && view.partitions.iter().all(|p| p.leader >= 0)
        {
            return Some(view);
        }
        fallback = Some(view);
    }
    fallback
}

fn ask_one(addr: &str, topic: &str) -> anyhow::Result<View> {
    let mut client = KafkaClient::connect_with_timeout(addr, ASK_TIMEOUT)?;
    let request = MetadataRequest::default()
        .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(
            TopicName(StrBytes::from_string(topic.to_string())),
        ))]))
        .with_allow_auto_topic_creation(false);
    let response: MetadataResponse = client.call(&request, METADATA_VERSION)?;
    let mut partitions: Vec<(i32, PartitionView)> = response
        .topics
        .iter()
        .filter(|t| t.error_code == 0)
        .flat_map(|t| t.partitions.iter())
        .map(|p| {
            (
                p.partition_index,
                PartitionView {
                    leader: p.leader_id.0,
                    replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                    isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                },
            )
        })
        .collect();
    partitions.sort_by_key(|(index, _)| *index);
    Ok(View {
        controller: response.controller_id.0,
        partitions: partitions.into_iter().map(|(_, p)| p).collect(),
    })
}
