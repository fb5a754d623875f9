//! An async Kafka producer that behaves like the Java producer: batching per partition,
//! compression, Java/librdkafka/Sarama partitioners, retries with KIP-580 backoff, acks 0/1/all,
//! idempotence, metadata discovery and rebootstrap.
//!
//! What to use, all at the crate root:
//!
//! - [`Producer`], built with [`Producer::builder`] ([`ProducerBuilder`]) from Java's property
//!   names (`.set("linger.ms", "10")`), or from a [`ProducerConfig`].
//! - [`Producer::send`] takes a [`ProducerRecord`] and gives a [`DeliveryFuture`], which
//!   resolves with the [`RecordMetadata`] (partition, offset, timestamp) or a [`ProducerError`].
//! - [`Producer::flush`], [`Producer::close`], and [`Producer::statistics`] ([`Statistics`]).
//! - [`Transport`]: how the producer reaches brokers; [`TcpTransport`] by default, a simulated
//!   network in the harness.
//!
//! Inside, a record goes through the partitioner, into a per-partition batch of the accumulator,
//! and out with the sender task, one connection per broker.
//!
//! Against ktrial's in-process mock cluster (`ktrial-mockbroker`), with a lost answer on the way:
//!
//! ```
//! use std::time::Duration;
//! use ktrial_mockbroker::{ApiKey, FaultRule, MockCluster};
//! use ktrial_producer::{Producer, ProducerRecord};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cluster = MockCluster::builder().brokers(3).topic("orders", 3, 3).start().await?;
//! let producer = Producer::builder()
//!     .bootstrap_servers(cluster.bootstrap_servers())
//!     .set("acks", "all")
//!     .set("linger.ms", "5")
//!     .set("compression.type", "lz4")
//!     .build()
//!     .await?;
//! let record = ProducerRecord::new("orders").partition(1).key(b"k1").value(b"v1");
//! let meta = producer.send(record).await?.await?;
//! assert_eq!((meta.partition, meta.offset), (1, 0));
//!
//! // The next write lands but its answer is lost and the connection closed: the producer
//! // retries, and idempotence (on by default) keeps the log free of duplicates.
//! cluster.add_fault(FaultRule::on(ApiKey::Produce).lose_response_and_close().once())?;
//! let record = ProducerRecord::new("orders").partition(1).key(b"k2").value(b"v2");
//! let meta = producer.send(record).await?.await?;
//! assert_eq!(meta.offset, 1);
//! assert_eq!(cluster.faults()[0].fired, 1);
//!
//! let log = cluster.records("orders", 1)?;
//! let values: Vec<_> = log.iter().map(|r| r.value.as_deref()).collect();
//! assert_eq!(values, [Some(&b"v1"[..]), Some(&b"v2"[..])]);
//! assert_eq!(log[1].key.as_deref(), Some(&b"k2"[..]));
//! producer.close(Duration::from_secs(5)).await?;
//! cluster.shutdown().await;
//! # Ok(())
//! # }
//! ```

// Public for tests/accumulator.rs, which drives it as plain data without a producer.
#[doc(hidden)]
pub mod accumulator;
mod backoff;
mod config;
mod connection;
mod delivery;
mod error;
mod idempotence;
mod metadata;
mod partitioner;
mod producer;
mod sender;
mod shared;
mod stats;
mod transport;

pub use config::{Acks, MAX_IDEMPOTENT_IN_FLIGHT, MetadataRecoveryStrategy, ProducerConfig};
pub use delivery::{DeliveryFuture, RecordMetadata};
pub use error::{ConfigError, ProducerError};
pub use partitioner::PartitionerKind;
pub use producer::{Producer, ProducerBuilder, ProducerRecord};
pub use stats::{HistogramSnapshot, Statistics};
pub use transport::{BrokerStream, ConnectFuture, SleepFuture, TcpTransport, Transport};
