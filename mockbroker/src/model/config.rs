//! Cluster and topic settings, with Kafka's defaults and Kafka's names in the docs.

use core::time::Duration;

/// Settings of the whole cluster (`server.properties` of every broker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The cluster id reported in Metadata and DescribeCluster.
    pub cluster_id: String,
    /// `auto.create.topics.enable`: Metadata and Produce create unknown topics.
    pub auto_create_topics: bool,
    /// `num.partitions`: partitions of an auto-created topic.
    pub default_partitions: i32,
    /// `default.replication.factor`: replicas of an auto-created topic (capped at the broker count).
    pub default_replication_factor: i16,
    /// `min.insync.replicas` for topics that do not set their own.
    pub min_insync_replicas: usize,
    /// `replica.lag.time.max.ms`: a follower that has not caught up for longer leaves the ISR.
    pub replica_lag_time_max: Duration,
    /// `message.max.bytes`: the largest record batch a Produce may carry.
    pub message_max_bytes: usize,
    /// The most bytes a compressed batch may expand to when the broker validates its records.
    pub max_uncompressed_batch_bytes: usize,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            cluster_id: "ktrial-mock-cluster".to_string(),
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: 1,
            min_insync_replicas: 1,
            replica_lag_time_max: Duration::from_millis(30_000),
            message_max_bytes: 1_048_588,
            max_uncompressed_batch_bytes: 64 << 20,
        }
    }
}

/// Which timestamp a topic keeps (`message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// The producer's timestamps are kept.
    #[default]
    CreateTime,
    /// The broker stamps each batch with its append time.
    LogAppendTime,
}

impl TimestampType {
    /// Kafka's config value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }
}

/// Per-topic overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TopicConfig {
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `min.insync.replicas`, or the cluster's when `None`.
    pub min_insync_replicas: Option<usize>,
    /// `max.message.bytes`, or the cluster's `message.max.bytes` when `None`.
    pub max_message_bytes: Option<usize>,
}
