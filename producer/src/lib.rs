//! An async Kafka producer that behaves like the Java producer: batching per partition,
//! compression, Java/librdkafka/Sarama partitioners, retries with KIP-580 backoff, acks 0/1/all,
//! idempotence, metadata discovery and rebootstrap.
//!
//! The path of a record: [`Producer::send`] → [`partitioner`] → [`accumulator`] (plain data,
//! driven with an explicit `now`) → the sender task (one connection per broker over a
//! [`Transport`]) → a [`DeliveryFuture`] that resolves with partition, offset and timestamp.
//!
//! ```no_run
//! use ktrial_producer::{Producer, ProducerRecord};
//!
//! # async fn demo() -> Result<(), ktrial_producer::ProducerError> {
//! let producer = Producer::builder()
//!     .bootstrap_servers("localhost:9092")
//!     .set("linger.ms", "10")
//!     .set("compression.type", "lz4")
//!     .build()
//!     .await?;
//! let delivery = producer.send(ProducerRecord::new("t").key(b"k").value(b"v")).await?;
//! let meta = delivery.await?;
//! assert!(meta.offset >= 0);
//! # Ok(())
//! # }
//! ```

pub mod accumulator;
mod backoff;
pub mod config;
mod connection;
mod delivery;
mod error;
mod idempotence;
pub mod metadata;
pub mod partitioner;
mod producer;
mod sender;
mod shared;
mod stats;
pub mod transport;

pub use backoff::Backoff;
pub use config::{Acks, MetadataRecoveryStrategy, ProducerConfig};
pub use delivery::{DeliveryFuture, RecordMetadata};
pub use error::{ConfigError, ProducerError};
pub use idempotence::{Identity, SendBook, SequenceVerdict};
pub use partitioner::PartitionerKind;
pub use producer::{Producer, ProducerBuilder, ProducerRecord, WallClock};
pub use stats::{HistogramSnapshot, Statistics};
pub use transport::{BrokerStream, TcpTransport, Transport};
