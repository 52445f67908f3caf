//! ListGroups: every group, optionally only those in given states (v4+); while the node loads
//! an offsets partition, the groups it has with COORDINATOR_LOAD_IN_PROGRESS, as Kafka does.
//! With ACLs: all groups with Describe on the cluster, else those the caller may Describe.

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use partita_core::group::GroupState;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: ListGroupsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<ListGroupsResponse> {
    // A state this broker does not know matches no group.
    let filter: Vec<Option<GroupState>> = request
        .states_filter
        .iter()
        .map(|s| GroupState::from_name(s.as_str()))
        .collect();
    let states: Vec<GroupState> = filter.iter().flatten().copied().collect();
    let unknown_only = !filter.is_empty() && states.is_empty();
    let (listed, loading) = node
        .engine
        .call(move |state| {
            let loading = state.node.loading_groups();
            (state.coordinator().list_groups(&states), loading)
        })
        .await?;
    let every_group = client.authz.cluster(AclOperation::Describe);
    let groups = if unknown_only { Vec::new() } else { listed }
        .into_iter()
        .filter(|g| every_group || client.authz.group(AclOperation::Describe, &g.group_id))
        .map(|g| {
            let group = ListedGroup::default()
                .with_group_id(GroupId(str_bytes(g.group_id)))
                .with_protocol_type(str_bytes(g.protocol_type));
            let group = if version >= 4 {
                group.with_group_state(str_bytes(g.state.name()))
            } else {
                group
            };
            if version >= 5 {
                group.with_group_type(str_bytes("classic"))
            } else {
                group
            }
        })
        .collect();
    let error = if loading {
        partita_core::ErrorCode::COORDINATOR_LOAD_IN_PROGRESS.code()
    } else {
        0
    };
    Ok(ListGroupsResponse::default()
        .with_error_code(error)
        .with_groups(groups))
}
