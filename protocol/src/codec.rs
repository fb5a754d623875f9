//! One entry point each way for whole frames: the broker side decodes requests and encodes
//! responses, the client side encodes requests and decodes responses. Headers are read and written
//! at the version the API and its version call for (ApiVersions responses always use header v0,
//! KIP-511); bodies are the typed messages of [`crate::messages`].

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, InitProducerIdRequest, OffsetCommitRequest, OffsetFetchRequest, RequestHeader,
    RequestKind, ResponseHeader, ResponseKind,
};
use kafka_protocol::protocol::{Decodable, Encodable, Message, VersionRange};

use crate::ProtocolError;
use crate::frame::SIZE_PREFIX_BYTES;

/// A decoded request: its header, its API and its typed body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The request header (API key, version, correlation id, client id).
    pub header: RequestHeader,
    /// The API, already checked to be known.
    pub api_key: ApiKey,
    /// The typed body.
    pub body: RequestKind,
}

impl Request {
    /// The API version the client used.
    pub fn version(&self) -> i16 {
        self.header.request_api_version
    }
}

/// The API key, version and correlation id at the front of a request frame, read without parsing
/// the rest; enough to answer or log a request whose body cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPrefix {
    /// The API key as sent (possibly unknown).
    pub api_key: i16,
    /// The API version as sent.
    pub api_version: i16,
    /// The correlation id to echo.
    pub correlation_id: i32,
}

/// Reads the fixed first 8 bytes of a request frame (without its size prefix).
pub fn peek_request_prefix(frame: &[u8]) -> Result<RequestPrefix, ProtocolError> {
    let Some(fixed) = frame.first_chunk::<8>() else {
        return Err(ProtocolError::Truncated {
            what: "request header",
        });
    };
    Ok(RequestPrefix {
        api_key: i16::from_be_bytes([fixed[0], fixed[1]]),
        api_version: i16::from_be_bytes([fixed[2], fixed[3]]),
        correlation_id: i32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
    })
}

/// The versions of `api_key` this library can decode and encode, requests and responses alike:
/// what a broker may advertise in ApiVersions.
///
/// `ApiKey::valid_versions` of kafka-protocol 0.18 follows the response schemas, which for
/// OffsetCommit, OffsetFetch and InitProducerId go one version beyond the request schemas (v10,
/// v10, v6); advertising those would invite requests that cannot be decoded.
///
/// ```
/// use ktrial_protocol::codec::supported_versions;
/// use ktrial_protocol::messages::ApiKey;
/// assert_eq!(supported_versions(ApiKey::Produce).max, 13);
/// assert_eq!(supported_versions(ApiKey::InitProducerId).max, 5);
/// ```
pub fn supported_versions(api_key: ApiKey) -> VersionRange {
    let range = api_key.valid_versions();
    let request = match api_key {
        ApiKey::OffsetCommit => OffsetCommitRequest::VERSIONS,
        ApiKey::OffsetFetch => OffsetFetchRequest::VERSIONS,
        ApiKey::InitProducerId => InitProducerIdRequest::VERSIONS,
        _ => range,
    };
    VersionRange {
        min: range.min.max(request.min),
        max: range.max.min(request.max),
    }
}

/// Decodes a whole request frame (the bytes after the size prefix) into header and typed body.
///
/// An unknown API key or a version this library cannot decode is reported with the correlation
/// id, so that a broker can answer as Kafka does (for ApiVersions: `UNSUPPORTED_VERSION` at v0).
pub fn decode_request(frame: Bytes) -> Result<Request, ProtocolError> {
    let prefix = peek_request_prefix(&frame)?;
    let api_key = ApiKey::try_from(prefix.api_key).map_err(|_| ProtocolError::UnknownApiKey {
        api_key: prefix.api_key,
        correlation_id: prefix.correlation_id,
    })?;
    let range = supported_versions(api_key);
    if prefix.api_version < range.min || prefix.api_version > range.max {
        return Err(ProtocolError::UnsupportedVersion {
            api_key: prefix.api_key,
            version: prefix.api_version,
            correlation_id: prefix.correlation_id,
        });
    }
    let mut buf = frame;
    let header_version = api_key.request_header_version(prefix.api_version);
    let header =
        RequestHeader::decode(&mut buf, header_version).map_err(|e| ProtocolError::Malformed {
            what: format!("{api_key:?} v{} request header", prefix.api_version),
            detail: e.to_string(),
        })?;
    let body = RequestKind::decode(api_key, &mut buf, prefix.api_version).map_err(|e| {
        ProtocolError::Malformed {
            what: format!("{api_key:?} v{} request body", prefix.api_version),
            detail: format!("{e:#}"),
        }
    })?;
    Ok(Request {
        header,
        api_key,
        body,
    })
}

/// Encodes a response, size prefix included, for the request `api_version` it answers.
pub fn encode_response(
    correlation_id: i32,
    api_version: i16,
    body: &ResponseKind,
) -> Result<Bytes, ProtocolError> {
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let header_version = body.header_version(api_version);
    framed(|buf| {
        header
            .encode(buf, header_version)
            .map_err(|e| encode_error("response header", e))?;
        body.encode(buf, api_version)
            .map_err(|e| encode_error(&format!("response v{api_version}"), e))
    })
}

/// Encodes a request, size prefix included, at `header.request_api_version`.
pub fn encode_request(header: &RequestHeader, body: &RequestKind) -> Result<Bytes, ProtocolError> {
    let api_key =
        ApiKey::try_from(header.request_api_key).map_err(|_| ProtocolError::UnknownApiKey {
            api_key: header.request_api_key,
            correlation_id: header.correlation_id,
        })?;
    let version = header.request_api_version;
    let header_version = api_key.request_header_version(version);
    framed(|buf| {
        header
            .encode(buf, header_version)
            .map_err(|e| encode_error("request header", e))?;
        body.encode(buf, version)
            .map_err(|e| encode_error(&format!("{api_key:?} v{version} request"), e))
    })
}

/// Decodes a whole response frame (the bytes after the size prefix) for a request of `api_key`
/// at `api_version`.
pub fn decode_response(
    api_key: ApiKey,
    api_version: i16,
    frame: Bytes,
) -> Result<(ResponseHeader, ResponseKind), ProtocolError> {
    let mut buf = frame;
    let header_version = api_key.response_header_version(api_version);
    let header =
        ResponseHeader::decode(&mut buf, header_version).map_err(|e| ProtocolError::Malformed {
            what: format!("{api_key:?} v{api_version} response header"),
            detail: e.to_string(),
        })?;
    let body = ResponseKind::decode(api_key, &mut buf, api_version).map_err(|e| {
        ProtocolError::Malformed {
            what: format!("{api_key:?} v{api_version} response body"),
            detail: format!("{e:#}"),
        }
    })?;
    Ok((header, body))
}

fn framed(
    write: impl FnOnce(&mut BytesMut) -> Result<(), ProtocolError>,
) -> Result<Bytes, ProtocolError> {
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    write(&mut buf)?;
    let len = buf.len() - SIZE_PREFIX_BYTES;
    let len = i32::try_from(len).map_err(|_| ProtocolError::TooLarge {
        what: "encoded frame",
        len: len as u64,
        limit: i32::MAX as u64,
    })?;
    buf[..SIZE_PREFIX_BYTES].copy_from_slice(&len.to_be_bytes());
    Ok(buf.freeze())
}

fn encode_error(what: &str, e: anyhow::Error) -> ProtocolError {
    ProtocolError::Encode {
        what: what.to_string(),
        detail: format!("{e:#}"),
    }
}
