//! Metadata: the brokers of the cluster and the topics asked for.

use kafka_protocol::messages::metadata_response::{MetadataResponseBroker, MetadataResponseTopic};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse};
use kafka_protocol::protocol::StrBytes;
use partita_core::ErrorCode;

use super::broker::Broker;

pub fn handle(request: MetadataRequest, _version: i16, broker: &Broker) -> MetadataResponse {
    let this_broker = MetadataResponseBroker::default()
        .with_node_id(BrokerId(broker.node_id))
        .with_host(StrBytes::from_string(broker.advertised.ip().to_string()))
        .with_port(i32::from(broker.advertised.port()));
    // No topic exists yet: a request for all topics lists none, a request for named topics
    // answers each with UNKNOWN_TOPIC_OR_PARTITION.
    let topics = request
        .topics
        .unwrap_or_default()
        .into_iter()
        .map(|topic| {
            MetadataResponseTopic::default()
                .with_name(topic.name)
                .with_topic_id(topic.topic_id)
                .with_error_code(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.code())
        })
        .collect();
    MetadataResponse::default()
        .with_brokers(vec![this_broker])
        .with_cluster_id(Some(StrBytes::from_string(broker.cluster_id.clone())))
        .with_controller_id(BrokerId(broker.node_id))
        .with_topics(topics)
}
