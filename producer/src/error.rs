//! The producer's errors: configuration problems, and why a record was not delivered.

use std::time::Duration;

use ktrial_protocol::{ProtocolError, ResponseError};

/// A configuration that cannot be used; every variant names the property at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A property name the producer does not know.
    #[error("unknown producer property `{key}`")]
    UnknownKey {
        /// The property name as given.
        key: String,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value `{value}` for `{key}`: {reason}")]
    InvalidValue {
        /// The property name.
        key: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two settings that contradict each other (the Java producer's `ConfigException`).
    #[error("conflicting settings: {0}")]
    Conflict(String),
}

/// Why a record was not delivered, or why the producer cannot do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProducerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The record alone is larger than `max.request.size` or `buffer.memory`.
    #[error("record of {size} bytes is larger than {limit_name} ({limit} bytes)")]
    RecordTooLarge {
        /// The record's size in a batch, with batch overhead.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
        /// The property that sets the limit.
        limit_name: &'static str,
    },
    /// `try_send` found the buffer full, or `send` waited `max.block.ms` for space.
    #[error("buffer memory exhausted (waited {waited:?})")]
    BufferExhausted {
        /// How long the call waited for space.
        waited: Duration,
    },
    /// Topic metadata did not arrive within `max.block.ms`.
    #[error("topic `{topic}` not present in metadata after {waited:?}{}", last_error.map(|e| format!(" (last error: {e:?})")).unwrap_or_default())]
    MetadataTimeout {
        /// The topic.
        topic: String,
        /// How long the call waited.
        waited: Duration,
        /// The last error the cluster reported for the topic, if any.
        last_error: Option<ResponseError>,
    },
    /// The record names a partition the topic does not have.
    #[error("partition {partition} of topic `{topic}` does not exist (the topic has {count})")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
        /// How many partitions the topic has.
        count: i32,
    },
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error("delivery timed out after {0:?}")]
    DeliveryTimeout(Duration),
    /// The broker answered with a non-retriable error, or retries ran out.
    #[error("broker error {error:?} (code {code}) after {attempts} attempt(s)")]
    Broker {
        /// The error, when the code is known.
        error: Option<ResponseError>,
        /// The raw Kafka error code.
        code: i16,
        /// How many times the batch was sent.
        attempts: u32,
    },
    /// A wire-level failure (malformed response, oversized frame).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The producer was closed before the record could be delivered.
    #[error("producer closed before delivery")]
    Closed,
}

impl From<ProtocolError> for ProducerError {
    fn from(e: ProtocolError) -> Self {
        ProducerError::Protocol(e.to_string())
    }
}

impl ProducerError {
    /// The error for a broker error code.
    pub(crate) fn broker(code: i16, attempts: u32) -> Self {
        ProducerError::Broker {
            error: ResponseError::try_from_code(code),
            code,
            attempts,
        }
    }
}
