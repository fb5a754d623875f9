//! ApiVersions: the APIs and versions this broker serves. An unsupported ApiVersions version is
//! answered at v0 with UNSUPPORTED_VERSION and only ApiVersions' own range (KIP-511,
//! `ApiVersionsRequest.getErrorResponse`); Produce is advertised from v0 although v0-2 are
//! refused, as Kafka 4 does for old librdkafka (KAFKA-18659).

use ktrial_protocol::ResponseError;
use ktrial_protocol::messages::api_versions_response::ApiVersion;
use ktrial_protocol::messages::{ApiKey, ApiVersionsResponse, ResponseKind};

/// One API's advertised and accepted versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportedApi {
    /// The API.
    pub api_key: ApiKey,
    /// The lowest version advertised.
    pub advertised_min: i16,
    /// The lowest version accepted.
    pub accepted_min: i16,
    /// The highest version, advertised and accepted.
    pub max: i16,
}

const fn api(api_key: ApiKey, min: i16, max: i16) -> SupportedApi {
    SupportedApi {
        api_key,
        advertised_min: min,
        accepted_min: min,
        max,
    }
}

/// What this broker serves. Maxima stop before topic-id-only versions (Produce 13, Fetch 13)
/// and the two-phase-commit InitProducerId (v6, KIP-939); InitProducerId v5 only adds an error
/// code for transactions, which are not modelled.
pub const SUPPORTED: &[SupportedApi] = &[
    SupportedApi {
        api_key: ApiKey::Produce,
        advertised_min: 0,
        accepted_min: 3,
        max: 12,
    },
    api(ApiKey::Fetch, 4, 12),
    api(ApiKey::ListOffsets, 1, 10),
    api(ApiKey::Metadata, 0, 12),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::DescribeCluster, 0, 1),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::DescribeGroups, 0, 6),
    api(ApiKey::DeleteGroups, 0, 2),
];

/// The ApiVersions answer.
pub fn handle() -> ResponseKind {
    let api_keys = SUPPORTED
        .iter()
        .map(|s| {
            ApiVersion::default()
                .with_api_key(s.api_key as i16)
                .with_min_version(s.advertised_min)
                .with_max_version(s.max)
        })
        .collect();
    ResponseKind::ApiVersions(ApiVersionsResponse::default().with_api_keys(api_keys))
}

/// An ApiVersions request at a version this broker does not serve: it gets
/// [`unsupported_version`] at v0 (KIP-511) rather than a closed connection.
pub fn is_unsupported(api_key: ApiKey, version: i16) -> bool {
    api_key == ApiKey::ApiVersions
        && super::accepted_versions(api_key)
            .is_none_or(|(min, max)| !(min..=max).contains(&version))
}

/// The answer to an ApiVersions version this broker does not know (to be encoded at v0).
pub fn unsupported_version() -> ResponseKind {
    let own = SUPPORTED
        .iter()
        .find(|s| s.api_key == ApiKey::ApiVersions)
        .map(|s| {
            ApiVersion::default()
                .with_api_key(ApiKey::ApiVersions as i16)
                .with_min_version(s.advertised_min)
                .with_max_version(s.max)
        });
    ResponseKind::ApiVersions(
        ApiVersionsResponse::default()
            .with_error_code(ResponseError::UnsupportedVersion.code())
            .with_api_keys(own.into_iter().collect()),
    )
}
