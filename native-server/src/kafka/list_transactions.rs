//! ListTransactions (API 66, KIP-664; v1 adds the duration filter, KIP-994): the
//! transactional ids this node coordinates, filtered by state names, producer ids and how
//! long the transaction has been open (`Node::list_transactions`). Each broker answers for
//! its own ids; a tool lists a cluster's by asking every broker (Kafka's admin client does).
//! v2's transactional id pattern (KIP-1152) is not offered.

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
};
use partita_core::txn::ListTransactionsFilter;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;
use partita_core::acl::AclOperation;

pub async fn handle(
    request: ListTransactionsRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<ListTransactionsResponse> {
    // With ACLs, only the transactional ids the caller may Describe are listed (Kafka's
    // `handleListTransactionsRequest`).
    let authz = &client.authz;
    let filter = ListTransactionsFilter {
        states: request
            .state_filters
            .iter()
            .map(|s| s.to_string())
            .collect(),
        producer_ids: request.producer_id_filters.iter().map(|p| p.0).collect(),
        // v0 has no duration filter: the codec leaves its default, -1 (keep all).
        duration_ms: request.duration_filter,
    };
    let listed = node
        .engine
        .call(move |state| state.node.list_transactions(&filter, crate::engine::now()))
        .await?;
    Ok(match listed {
        Err(error) => ListTransactionsResponse::default().with_error_code(error.code()),
        Ok(listing) => ListTransactionsResponse::default()
            .with_unknown_state_filters(
                listing
                    .unknown_state_filters
                    .into_iter()
                    .map(str_bytes)
                    .collect(),
            )
            .with_transaction_states(
                listing
                    .transactions
                    .into_iter()
                    .filter(|t| authz.transactional_id(AclOperation::Describe, &t.transactional_id))
                    .map(|t| {
                        TransactionState::default()
                            .with_transactional_id(TransactionalId(str_bytes(t.transactional_id)))
                            .with_producer_id(ProducerId(t.producer_id))
                            .with_transaction_state(str_bytes(t.state.name()))
                    })
                    .collect(),
            ),
    })
}
