//! DescribeCluster: the cluster id, the controller and the live brokers.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use partita_core::acl::{CLUSTER_NAME, ResourceType};

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: DescribeClusterRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeClusterResponse> {
    // KIP-430: the caller's operations (every one without an authorizer, none without
    // Describe on the cluster); else the schema's default (i32::MIN), as Kafka leaves it.
    // Anyone may ask, as Kafka's `handleDescribeCluster` lets them.
    let operations = if request.include_cluster_authorized_operations {
        client.authz.operations(ResourceType::Cluster, CLUSTER_NAME)
    } else {
        i32::MIN
    };
    let cluster_id = str_bytes(node.cluster_id.clone());
    node.engine
        .call(move |state| {
            let brokers = state
                .image()
                .brokers()
                .filter(|b| !b.fenced)
                .map(|b| {
                    DescribeClusterBroker::default()
                        .with_broker_id(BrokerId(b.broker_id))
                        .with_host(str_bytes(b.host.clone()))
                        .with_port(i32::from(b.port))
                })
                .collect();
            DescribeClusterResponse::default()
                .with_cluster_id(cluster_id)
                .with_controller_id(BrokerId(
                    state
                        .node
                        .active_controller()
                        .unwrap_or(state.node.config().controller_id),
                ))
                .with_brokers(brokers)
                .with_cluster_authorized_operations(operations)
        })
        .await
}
