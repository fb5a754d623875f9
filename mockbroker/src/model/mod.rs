//! The cluster model: plain data, no I/O, driven by requests and an explicit `now` (a tokio
//! [`Instant`](tokio::time::Instant), so simulated time drives it in the harness).
//!
//! - [`cluster`]: brokers, topics, producer ids, replication delays, the wall clock.
//! - [`partition`]: replicas, leader and epoch, ISR, follower log ends, high watermark.
//! - [`events`]: elections, brokers down and up, stalls, latency; scheduled events; notices.
//! - [`log`]: a partition's batches with broker-assigned offsets.
//! - [`producer_state`]: idempotent-producer epochs, sequences and the duplicate cache.
//! - [`produce`]: validation, append and the acks semantics.
//! - [`read`]: Fetch and ListOffsets.
//! - [`stored_record`]: decoded records for tests.

pub mod cluster;
pub mod config;
pub mod events;
pub mod log;
pub mod partition;
pub mod produce;
pub mod producer_state;
pub mod read;
pub mod stored_record;

pub use cluster::{BrokerId, BrokerInfo, Cluster, Topic, WallClock};
pub use config::{ClusterConfig, ConfigEntry, InvalidConfigValue, TimestampType, TopicConfig};
pub use events::{EventError, Notice, NoticeKind};
pub use partition::{Partition, Truncation};
pub use produce::{PartitionProduce, PartitionResponse, ProduceOutcome};
pub use read::FetchedPartition;
pub use stored_record::{BatchInfo, StoredRecord};

impl Cluster {
    /// Every record of a partition's leader log, decoded.
    pub fn records(
        &self,
        topic: &str,
        partition: i32,
    ) -> Option<Result<Vec<StoredRecord>, ktrial_protocol::ProtocolError>> {
        let p = self.partition(topic, partition)?;
        Some(stored_record::decode_log(
            p.log(),
            self.config.max_uncompressed_batch_bytes,
        ))
    }
}
