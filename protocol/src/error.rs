//! The one error type of the protocol crate: every decode path reports what was wrong, never panics.

/// What went wrong while reading or writing Kafka protocol bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The input ended before `what` was complete.
    #[error("truncated input: {what} needs more bytes than remain")]
    Truncated {
        /// The field or structure being read.
        what: &'static str,
    },
    /// A length read from the input exceeds the limit the caller allows.
    #[error("{what} of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The field or structure being read.
        what: &'static str,
        /// The length that was declared or produced.
        len: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// A length or count that cannot be right (negative, or inconsistent with its container).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// The field or structure being read.
        what: &'static str,
        /// Why it is invalid.
        detail: String,
    },
    /// The CRC-32C stored in a record batch does not match its contents.
    #[error("record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc {
        /// The CRC in the batch header.
        stored: u32,
        /// The CRC of the bytes as received.
        computed: u32,
    },
    /// A record batch with a magic byte other than 2.
    #[error("unsupported record batch magic {0} (only v2 is supported)")]
    UnknownMagic(i8),
    /// Compression bits naming no known codec.
    #[error("unsupported compression type {0}")]
    UnsupportedCompression(u8),
    /// A codec failed to compress or decompress.
    #[error("{codec} {op} failed: {detail}")]
    Compression {
        /// The codec's name.
        codec: &'static str,
        /// `compress` or `decompress`.
        op: &'static str,
        /// The codec's own message.
        detail: String,
    },
    /// A request or response names an API key this library does not know.
    #[error("unknown API key {api_key} (correlation id {correlation_id})")]
    UnknownApiKey {
        /// The key as read.
        api_key: i16,
        /// The request's correlation id, so that the caller can log it.
        correlation_id: i32,
    },
    /// An API version outside the range this library can decode.
    #[error("unsupported version {version} of API key {api_key} (correlation id {correlation_id})")]
    UnsupportedVersion {
        /// The API key.
        api_key: i16,
        /// The version as read.
        version: i16,
        /// The request's correlation id, so that the caller can answer it.
        correlation_id: i32,
    },
    /// A header or body that does not parse at its version.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being decoded (for instance `Produce v9 request body`).
        what: String,
        /// The decoder's message.
        detail: String,
    },
    /// A message that cannot be written at the requested version.
    #[error("cannot encode {what}: {detail}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// The encoder's message.
        detail: String,
    },
}
