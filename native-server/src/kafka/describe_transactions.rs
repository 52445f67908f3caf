//! DescribeTransactions (API 65, KIP-664): each asked transactional id's state (producer id
//! and epoch, Kafka's state name, timeout, start time, partitions), answered by the node that
//! coordinates it (`Node::describe_transaction`: NOT_COORDINATOR from any other node,
//! TRANSACTIONAL_ID_NOT_FOUND for an id it does not know). Clients find the coordinator with
//! FindCoordinator (key type 1) first, as for every transactional request.

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TransactionalId,
};
use partita_core::ErrorCode;
use partita_core::txn::TransactionDescription;

use super::ClientInfo;
use super::convert::{by_topic, str_bytes, topic_name};
use super::node::Node;
use partita_core::acl::AclOperation;

pub async fn handle(
    request: DescribeTransactionsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeTransactionsResponse> {
    // With ACLs, Describe on each transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
    let authz = client.authz.clone();
    let ids: Vec<String> = request
        .transactional_ids
        .iter()
        .map(|id| id.to_string())
        .collect();
    let found = {
        let ids = ids.clone();
        node.engine
            .call(move |state| {
                ids.iter()
                    .map(|id| {
                        if authz.transactional_id(AclOperation::Describe, id) {
                            state.node.describe_transaction(id)
                        } else {
                            Err(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .await?
    };
    let states = ids
        .into_iter()
        .zip(found)
        .map(|(id, found)| transaction_state(id, found))
        .collect();
    Ok(DescribeTransactionsResponse::default().with_transaction_states(states))
}

fn transaction_state(
    id: String,
    found: Result<TransactionDescription, ErrorCode>,
) -> TransactionState {
    let state = TransactionState::default().with_transactional_id(TransactionalId(str_bytes(id)));
    match found {
        Err(error) => state.with_error_code(error.code()),
        Ok(txn) => {
            let topics = by_topic(
                txn.partitions
                    .iter()
                    .map(|tp| (tp.topic.clone(), tp.partition)),
                |topic, partitions| {
                    TopicData::default()
                        .with_topic(topic_name(topic))
                        .with_partitions(partitions)
                },
            );
            state
                .with_producer_id(ProducerId(txn.producer_id))
                .with_producer_epoch(txn.producer_epoch)
                .with_transaction_state(str_bytes(txn.state.name()))
                // Validated against transaction.max.timeout.ms (an i32 on the wire) at
                // InitProducerId.
                .with_transaction_timeout_ms(i32::try_from(txn.timeout_ms).unwrap_or(i32::MAX))
                .with_transaction_start_time_ms(txn.start_time_ms)
                .with_topics(topics)
        }
    }
}
