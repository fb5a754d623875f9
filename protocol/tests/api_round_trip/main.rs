//! Round trips through the codec's entry points (encode -> decode -> equal) for every API ktrial
//! uses, at every version this library supports (lowest and highest included), with populated
//! messages; plus the exact header bytes where Kafka's header-version rules are subtle.
#![allow(clippy::unwrap_used)]

mod requests;
mod responses;

use bytes::{Bytes, BytesMut};
use ktrial_protocol::codec::{
    decode_request, decode_response, encode_request, encode_response, supported_versions,
};
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsResponse, GroupId, MetadataRequest, RequestHeader, RequestKind,
    ResponseKind, TopicName,
};
use ktrial_protocol::{Encodable, ProtocolError, StrBytes, Uuid};

/// The APIs the mock broker serves and the producer sends.
const APIS: [ApiKey; 20] = [
    ApiKey::ApiVersions,
    ApiKey::Metadata,
    ApiKey::Produce,
    ApiKey::InitProducerId,
    ApiKey::ListOffsets,
    ApiKey::Fetch,
    ApiKey::CreateTopics,
    ApiKey::DeleteTopics,
    ApiKey::DescribeConfigs,
    ApiKey::DescribeCluster,
    ApiKey::FindCoordinator,
    ApiKey::JoinGroup,
    ApiKey::SyncGroup,
    ApiKey::Heartbeat,
    ApiKey::LeaveGroup,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::ListGroups,
    ApiKey::DescribeGroups,
    ApiKey::DeleteGroups,
];

/// Applies a builder step only when `cond` holds: fields a version lacks keep their default.
pub trait When: Sized {
    /// `f(self)` if `cond`, else `self`.
    fn when(self, cond: bool, f: impl FnOnce(Self) -> Self) -> Self {
        if cond { f(self) } else { self }
    }
}

impl<T> When for T {}

/// A message string.
pub fn str(s: &'static str) -> StrBytes {
    StrBytes::from_static_str(s)
}

/// A topic name.
pub fn topic(name: &'static str) -> TopicName {
    str(name).into()
}

/// A group id.
pub fn group(name: &'static str) -> GroupId {
    str(name).into()
}

/// A recognisable topic id.
pub fn topic_id(n: u128) -> Uuid {
    Uuid::from_u128(0x5ca1_ab1e_0000_0000_0000_0000_0000_0000 | n)
}

/// Stand-in record bytes: the codec carries them opaquely.
pub fn records() -> Bytes {
    Bytes::from_static(b"\x00\x00\x00\x00\x00\x00\x00\x00not-a-real-batch")
}

/// Every version this library supports for `api`: the lowest and highest, as the issue asks,
/// and the ones between, where fields come and go (it costs nothing).
fn versions(api: ApiKey) -> std::ops::RangeInclusive<i16> {
    let range = supported_versions(api);
    range.min..=range.max
}

fn header(api: ApiKey, version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(str("round-trip-client")))
}

/// The frame after its size prefix, checked to announce exactly the bytes that follow.
fn without_size_prefix(frame: Bytes) -> Bytes {
    let size = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(size as usize, frame.len() - 4, "size prefix");
    frame.slice(4..)
}

#[test]
fn every_request_round_trips_at_every_supported_version() {
    for api in APIS {
        for version in versions(api) {
            let body = requests::sample(api, version);
            let header = header(api, version, 1_000 + i32::from(version));
            let frame = encode_request(&header, &body)
                .unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
            let frame = without_size_prefix(frame);
            let request =
                decode_request(frame).unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
            assert_eq!(request.api_key, api);
            assert_eq!(request.header, header, "{api:?} v{version} header");
            assert_eq!(request.body, body, "{api:?} v{version} body");
        }
    }
}

#[test]
fn every_response_round_trips_at_every_supported_version() {
    for api in APIS {
        for version in versions(api) {
            let body = responses::sample(api, version);
            let correlation_id = 2_000 + i32::from(version);
            let frame = encode_response(correlation_id, version, &body)
                .unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
            let frame = without_size_prefix(frame);
            let (header, decoded) = decode_response(api, version, frame)
                .unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
            assert_eq!(header.correlation_id, correlation_id);
            assert_eq!(decoded, body, "{api:?} v{version} body");
        }
    }
}

/// The samples must really differ between versions where the schema does, or the round trips
/// above would test the same bytes again and again.
#[test]
fn samples_use_the_version_specific_fields() {
    let RequestKind::Produce(v3) = requests::sample(ApiKey::Produce, 3) else {
        panic!("not produce")
    };
    let RequestKind::Produce(v13) = requests::sample(ApiKey::Produce, 13) else {
        panic!("not produce")
    };
    assert_eq!(v3.topic_data[0].name.0.as_str(), "orders");
    assert!(v3.topic_data[0].topic_id.is_nil());
    assert_eq!(v13.topic_data[0].topic_id, topic_id(1));
    assert!(v13.topic_data[0].name.0.is_empty());
}

/// Every API key, not only those ktrial uses: at the lowest and highest supported version the
/// body decoder accepts the version (a header-only frame then fails for want of bytes, or
/// decodes an empty body), and one version beyond is refused as unsupported, with the
/// correlation id so that a broker can answer it, rather than reported as malformed.
#[test]
fn supported_versions_are_exactly_the_decodable_ones() {
    let header_only = |api: ApiKey, version: i16, correlation_id: i32| {
        let mut buf = BytesMut::new();
        header(api, version, correlation_id)
            .encode(&mut buf, api.request_header_version(version))
            .unwrap();
        buf.freeze()
    };
    for api in ApiKey::iter() {
        let range = supported_versions(api);
        for version in [range.min, range.max] {
            match decode_request(header_only(api, version, 9)) {
                Ok(request) => assert_eq!(request.api_key, api),
                Err(ProtocolError::Malformed { what, detail }) => {
                    assert!(what.ends_with("request body"), "{api:?} v{version}: {what}");
                    assert!(
                        !detail.contains("version not supported"),
                        "{api:?} v{version}: {detail}"
                    );
                }
                Err(e) => panic!("{api:?} v{version}: {e}"),
            }
        }
        let beyond = range.max + 1;
        assert_eq!(
            decode_request(header_only(api, beyond, 77)).unwrap_err(),
            ProtocolError::UnsupportedVersion {
                api_key: api as i16,
                version: beyond,
                correlation_id: 77,
            },
            "{api:?} v{beyond}"
        );
    }
}

/// ApiVersions responses use header v0 at every version, flexible ones included (KIP-511): the
/// bytes after the size prefix are the correlation id, then the body, with no tagged-field byte.
#[test]
fn api_versions_responses_use_header_v0_at_every_version() {
    let range = supported_versions(ApiKey::ApiVersions);
    for version in range.min..=range.max {
        let body = responses::sample(ApiKey::ApiVersions, version);
        let ResponseKind::ApiVersions(inner) = &body else {
            panic!("not ApiVersions")
        };
        let frame = encode_response(0x0102_0304, version, &body).unwrap();
        let mut expected = BytesMut::new();
        expected.extend_from_slice(&[1, 2, 3, 4]);
        ApiVersionsResponse::encode(inner, &mut expected, version).unwrap();
        assert_eq!(&frame[4..], &expected[..], "v{version}");
        // The body's first field, error_code 0, follows the correlation id directly.
        assert_eq!(&frame[8..10], &[0, 0], "v{version}");
    }
}

/// Other flexible responses use header v1: correlation id, then an empty tagged-field section.
#[test]
fn flexible_responses_use_header_v1() {
    let body = responses::sample(ApiKey::Metadata, 12);
    let frame = encode_response(7, 12, &body).unwrap();
    assert_eq!(&frame[4..9], &[0, 0, 0, 7, 0]);
    let ResponseKind::Metadata(inner) = &body else {
        panic!("not Metadata")
    };
    let mut expected = BytesMut::new();
    inner.encode(&mut expected, 12).unwrap();
    assert_eq!(&frame[9..], &expected[..]);
    // Metadata v8 is not flexible: header v0, the body right after the correlation id.
    let frame = encode_response(7, 8, &responses::sample(ApiKey::Metadata, 8)).unwrap();
    assert_eq!(&frame[4..8], &[0, 0, 0, 7]);
    assert_eq!(&frame[8..12], &5i32.to_be_bytes(), "throttle_time_ms first");
}

/// A flexible request uses header v2: api key, version, correlation id, client id as a classic
/// nullable string (not compact, `RequestHeader.json`), then an empty tagged-field section; a
/// non-flexible request uses header v1, without the tagged fields.
#[test]
fn request_headers_are_v2_when_flexible_and_v1_otherwise() {
    let client = |version| {
        RequestHeader::default()
            .with_request_api_key(ApiKey::Metadata as i16)
            .with_request_api_version(version)
            .with_correlation_id(0x0a0b_0c0d)
            .with_client_id(Some(str("abc")))
    };
    let body = RequestKind::Metadata(MetadataRequest::default());
    let flexible = encode_request(&client(12), &body).unwrap();
    assert_eq!(
        &flexible[4..20],
        &[
            0, 3, 0, 12, 0x0a, 0x0b, 0x0c, 0x0d, 0, 3, b'a', b'b', b'c', 0, 1, 1
        ]
    );
    // After the tag byte 0: topics as a compact array of zero entries (varint 1), then
    // allow_auto_topic_creation (default true).
    let classic = encode_request(&client(8), &body).unwrap();
    assert_eq!(
        &classic[4..17],
        &[0, 3, 0, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0, 3, b'a', b'b', b'c']
    );
    // Then topics as a classic array of zero entries (int32 0).
    assert_eq!(&classic[17..21], &[0, 0, 0, 0]);
}
