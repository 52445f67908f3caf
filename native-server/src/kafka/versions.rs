//! The APIs and versions this broker speaks: one table, read by ApiVersions and by dispatch.

use kafka_protocol::messages::ApiKey;

/// `(api, lowest version, highest version)`.
pub const SUPPORTED: &[(ApiKey, i16, i16)] =
    &[(ApiKey::ApiVersions, 0, 4), (ApiKey::Metadata, 0, 12)];

/// The versions of `api` this broker speaks, or `None` if it does not speak it at all.
pub fn supported(api: ApiKey) -> Option<(i16, i16)> {
    SUPPORTED
        .iter()
        .find(|(key, _, _)| *key == api)
        .map(|&(_, min, max)| (min, max))
}
