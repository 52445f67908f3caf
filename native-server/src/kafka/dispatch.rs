//! Routes a decoded request to the file that handles its API.

use kafka_protocol::messages::{RequestKind, ResponseKind};

use super::node::Node;
use super::*;

/// Handles one request; `None` when the request wants no response (produce with acks=0).
/// Requests the ACLs refuse whole are answered by `denied` without reaching their handler.
/// Only APIs listed in `versions::SUPPORTED` reach this point. An error means the engine
/// stopped: the connection closes.
pub async fn handle(
    request: RequestKind,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<Option<ResponseKind>> {
    use RequestKind as Req;
    use ResponseKind as Res;
    if let Some(refused) = denied::refusal(&request, version, &client.authz) {
        return Ok(Some(refused));
    }
    let response = match request {
        Req::ApiVersions(_) => Res::ApiVersions(api_versions::handle()),
        Req::Metadata(r) => Res::Metadata(metadata::handle(r, version, client, node).await?),
        Req::Produce(r) => match produce::handle(r, version, client, node).await? {
            Some(response) => Res::Produce(response),
            None => return Ok(None),
        },
        Req::Fetch(r) => Res::Fetch(fetch::handle(r, version, client, node).await?),
        Req::ListOffsets(r) => {
            Res::ListOffsets(list_offsets::handle(r, version, client, node).await?)
        }
        Req::CreateTopics(r) => {
            Res::CreateTopics(create_topics::handle(r, version, client, node).await?)
        }
        Req::DeleteTopics(r) => {
            Res::DeleteTopics(delete_topics::handle(r, version, client, node).await?)
        }
        Req::CreatePartitions(r) => {
            Res::CreatePartitions(create_partitions::handle(r, client, node).await?)
        }
        Req::DescribeConfigs(r) => {
            Res::DescribeConfigs(describe_configs::handle(r, version, client, node).await?)
        }
        Req::AlterConfigs(r) => Res::AlterConfigs(alter_configs::handle(r, client, node).await?),
        Req::IncrementalAlterConfigs(r) => {
            Res::IncrementalAlterConfigs(incremental_alter_configs::handle(r, client, node).await?)
        }
        Req::DescribeCluster(r) => {
            Res::DescribeCluster(describe_cluster::handle(r, client, node).await?)
        }
        Req::OffsetForLeaderEpoch(r) => {
            Res::OffsetForLeaderEpoch(offset_for_leader_epoch::handle(r, client, node).await?)
        }
        Req::InitProducerId(r) => {
            Res::InitProducerId(init_producer_id::handle(r, version, node).await?)
        }
        Req::FindCoordinator(r) => {
            Res::FindCoordinator(find_coordinator::handle(r, version, client, node).await?)
        }
        Req::JoinGroup(r) => Res::JoinGroup(join_group::handle(r, version, client, node).await?),
        Req::SyncGroup(r) => Res::SyncGroup(sync_group::handle(r, version, node).await?),
        Req::Heartbeat(r) => Res::Heartbeat(heartbeat::handle(r, node).await?),
        Req::LeaveGroup(r) => Res::LeaveGroup(leave_group::handle(r, version, node).await?),
        Req::OffsetCommit(r) => {
            Res::OffsetCommit(offset_commit::handle(r, version, client, node).await?)
        }
        Req::OffsetFetch(r) => {
            Res::OffsetFetch(offset_fetch::handle(r, version, client, node).await?)
        }
        Req::DescribeGroups(r) => {
            Res::DescribeGroups(describe_groups::handle(r, version, client, node).await?)
        }
        Req::ListGroups(r) => Res::ListGroups(list_groups::handle(r, version, client, node).await?),
        Req::DeleteGroups(r) => Res::DeleteGroups(delete_groups::handle(r, client, node).await?),
        Req::DeleteRecords(r) => Res::DeleteRecords(delete_records::handle(r, client, node).await?),
        Req::OffsetDelete(r) => Res::OffsetDelete(offset_delete::handle(r, client, node).await?),
        Req::DescribeProducers(r) => {
            Res::DescribeProducers(describe_producers::handle(r, client, node).await?)
        }
        Req::DescribeQuorum(r) => Res::DescribeQuorum(describe_quorum::handle(r, node).await?),
        Req::DescribeTransactions(r) => {
            Res::DescribeTransactions(describe_transactions::handle(r, client, node).await?)
        }
        Req::ListTransactions(r) => {
            Res::ListTransactions(list_transactions::handle(r, client, node).await?)
        }
        Req::DescribeUserScramCredentials(r) => Res::DescribeUserScramCredentials(
            describe_user_scram_credentials::handle(r, node).await?,
        ),
        Req::AlterUserScramCredentials(r) => {
            Res::AlterUserScramCredentials(alter_user_scram_credentials::handle(r, node).await?)
        }
        Req::DescribeLogDirs(r) => {
            Res::DescribeLogDirs(describe_log_dirs::handle(r, version, node).await?)
        }
        Req::AddPartitionsToTxn(r) => {
            Res::AddPartitionsToTxn(add_partitions_to_txn::handle(r, version, client, node).await?)
        }
        Req::AddOffsetsToTxn(r) => {
            Res::AddOffsetsToTxn(txn::handle_add_offsets(r, version, node).await?)
        }
        Req::EndTxn(r) => Res::EndTxn(txn::handle_end_txn(r, version, node).await?),
        Req::TxnOffsetCommit(r) => {
            Res::TxnOffsetCommit(txn_offset_commit::handle(r, version, client, node).await?)
        }
        Req::DescribeAcls(r) => Res::DescribeAcls(acls::describe(r, version, client, node).await?),
        Req::CreateAcls(r) => Res::CreateAcls(acls::create(r, version, client, node).await?),
        Req::DeleteAcls(r) => Res::DeleteAcls(acls::delete(r, version, client, node).await?),
        other => {
            unreachable!("versions::SUPPORTED lists an API dispatch does not route: {other:?}")
        }
    };
    Ok(Some(response))
}
