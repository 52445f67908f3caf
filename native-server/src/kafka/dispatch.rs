//! Routes a decoded request to the file that handles its API.

use kafka_protocol::messages::{RequestHeader, RequestKind, ResponseKind};

use super::broker::Broker;
use super::{api_versions, metadata};

/// Handles one request. Only APIs listed in `versions::SUPPORTED` reach this point.
pub fn handle(
    request: RequestKind,
    header: &RequestHeader,
    broker: &Broker,
) -> Option<ResponseKind> {
    let version = header.request_api_version;
    let response = match request {
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(request) => {
            ResponseKind::Metadata(metadata::handle(request, version, broker))
        }
        other => {
            unreachable!("versions::SUPPORTED lists an API dispatch does not route: {other:?}")
        }
    };
    Some(response)
}
