//! The errors of the mock broker's own API (starting, reading what landed, waiting).

use ktrial_protocol::{ProtocolError, ResponseError};

/// What went wrong outside the Kafka protocol (which answers with error codes instead).
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A listener could not be bound or accepted from.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A topic given to the builder could not be created.
    #[error("cannot create topic {topic}: {error}")]
    Topic {
        /// The topic.
        topic: String,
        /// Kafka's reason.
        error: ResponseError,
    },
    /// The topic or partition does not exist.
    #[error("unknown topic or partition {topic}-{partition}")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// A stored batch could not be decoded (it was validated on append, so this is a bug).
    #[error("stored records cannot be decoded: {0}")]
    Records(#[from] ProtocolError),
    /// A wait ended before its condition held.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// A fault rule or event does not fit the cluster.
    #[error("invalid fault plan: {0}")]
    Faults(#[from] crate::faults::InvalidRule),
    /// A cluster event could not be applied.
    #[error("cluster event failed: {0}")]
    Event(#[from] crate::model::EventError),
    /// A setting out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}
