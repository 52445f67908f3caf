//! Routes a decoded request to the file that handles its API.

use kafka_protocol::messages::{RequestHeader, RequestKind, ResponseKind};

use super::node::Node;
use super::{api_versions, create_topics, delete_topics, fetch, list_offsets, metadata, produce};

/// Handles one request; `None` when the request wants no response (produce with acks=0).
/// Only APIs listed in `versions::SUPPORTED` reach this point. An error means the engine
/// stopped: the connection closes.
pub async fn handle(
    request: RequestKind,
    header: &RequestHeader,
    node: &Node,
) -> anyhow::Result<Option<ResponseKind>> {
    let version = header.request_api_version;
    let response = match request {
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(request) => {
            ResponseKind::Metadata(metadata::handle(request, version, node).await?)
        }
        RequestKind::Produce(request) => match produce::handle(request, version, node).await? {
            Some(response) => ResponseKind::Produce(response),
            None => return Ok(None),
        },
        RequestKind::Fetch(request) => {
            ResponseKind::Fetch(fetch::handle(request, version, node).await?)
        }
        RequestKind::ListOffsets(request) => {
            ResponseKind::ListOffsets(list_offsets::handle(request, version, node).await?)
        }
        RequestKind::CreateTopics(request) => {
            ResponseKind::CreateTopics(create_topics::handle(request, version, node).await?)
        }
        RequestKind::DeleteTopics(request) => {
            ResponseKind::DeleteTopics(delete_topics::handle(request, version, node).await?)
        }
        other => {
            unreachable!("versions::SUPPORTED lists an API dispatch does not route: {other:?}")
        }
    };
    Ok(Some(response))
}
