//! The Kafka wire protocol, sans-IO.
//!
//! Everything here is plain bytes in, plain values out: no sockets, no runtime. The broker and the
//! producer wrap it in their own I/O.
//!
//! - [`frame`]: splitting a byte stream into length-prefixed frames, with a size limit.
//! - [`codec`]: one entry point each way for requests and responses (headers at the right version,
//!   typed bodies from the `kafka-protocol` crate, re-exported in [`messages`]).
//! - [`records`]: RecordBatch v2, an incremental builder and a validating zero-copy decoder.
//! - [`compression`]: gzip, snappy (xerial-framed and raw), lz4 (frame) and zstd, with bounded
//!   decompression.
//! - [`varint`]: zigzag varints as Kafka writes them.
//!
//! ```
//! use ktrial_protocol::codec::{decode_request, encode_request};
//! use ktrial_protocol::messages::{ApiKey, MetadataRequest, RequestHeader, RequestKind};
//!
//! let header = RequestHeader::default()
//!     .with_request_api_key(ApiKey::Metadata as i16)
//!     .with_request_api_version(12)
//!     .with_correlation_id(7);
//! let frame = encode_request(&header, &RequestKind::Metadata(MetadataRequest::default()))?;
//! // A frame starts with its length; the broker side reads the rest.
//! let request = decode_request(frame.slice(4..))?;
//! assert_eq!(request.header.correlation_id, 7);
//! assert!(matches!(request.body, RequestKind::Metadata(_)));
//! # Ok::<(), ktrial_protocol::ProtocolError>(())
//! ```

pub mod codec;
pub mod compression;
mod error;
pub mod frame;
pub mod records;
pub mod varint;

pub use error::ProtocolError;

/// Typed API messages (requests, responses, headers, [`messages::ApiKey`]) from `kafka-protocol`.
pub mod messages {
    pub use kafka_protocol::messages::*;
}

/// Kafka error codes by name, with their retriability.
pub use kafka_protocol::error::ResponseError;
/// The string type used by message fields.
pub use kafka_protocol::protocol::StrBytes;
/// A `(min, max)` version range of an API.
pub use kafka_protocol::protocol::VersionRange;
/// The encode and decode traits of message bodies.
pub use kafka_protocol::protocol::{Decodable, Encodable};
/// Topic ids (`Uuid`) as message fields carry them.
pub use uuid::Uuid;
