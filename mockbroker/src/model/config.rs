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
    /// The group coordinator's settings (`group.initial.rebalance.delay.ms`, ...).
    pub groups: crate::groups::GroupConfig,
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
            groups: crate::groups::GroupConfig::default(),
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

/// A topic config value that is not valid for its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value {value:?} for topic config {name}")]
pub struct InvalidConfigValue {
    /// The config name.
    pub name: String,
    /// The rejected value.
    pub value: String,
}

/// One config as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Kafka's name.
    pub name: &'static str,
    /// The value in force.
    pub value: String,
    /// Set on the topic (otherwise a default).
    pub overridden: bool,
}

impl TopicConfig {
    /// Applies one `name=value` from CreateTopics. Names the model does not use are accepted and
    /// ignored, as they change nothing it models (retention, cleanup, segment sizes).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), InvalidConfigValue> {
        let invalid = || InvalidConfigValue {
            name: name.to_string(),
            value: value.to_string(),
        };
        match name {
            "message.timestamp.type" => {
                self.timestamp_type = match value {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => return Err(invalid()),
                }
            }
            "min.insync.replicas" => {
                self.min_insync_replicas =
                    Some(value.parse().ok().filter(|n| *n >= 1).ok_or_else(invalid)?)
            }
            "max.message.bytes" => {
                self.max_message_bytes = Some(value.parse().map_err(|_| invalid())?)
            }
            _ => {}
        }
        Ok(())
    }

    /// The configs the model uses, with the cluster's values where the topic sets none.
    pub fn entries(&self, cluster: &ClusterConfig) -> Vec<ConfigEntry> {
        vec![
            ConfigEntry {
                name: "max.message.bytes",
                value: self
                    .max_message_bytes
                    .unwrap_or(cluster.message_max_bytes)
                    .to_string(),
                overridden: self.max_message_bytes.is_some(),
            },
            ConfigEntry {
                name: "message.timestamp.type",
                value: self.timestamp_type.as_str().to_string(),
                overridden: self.timestamp_type != TimestampType::default(),
            },
            ConfigEntry {
                name: "min.insync.replicas",
                value: self
                    .min_insync_replicas
                    .unwrap_or(cluster.min_insync_replicas)
                    .to_string(),
                overridden: self.min_insync_replicas.is_some(),
            },
        ]
    }
}

impl ClusterConfig {
    /// The broker configs DescribeConfigs reports.
    pub fn entries(&self) -> Vec<ConfigEntry> {
        let entry = |name, value: String| ConfigEntry {
            name,
            value,
            overridden: false,
        };
        vec![
            entry(
                "auto.create.topics.enable",
                self.auto_create_topics.to_string(),
            ),
            entry(
                "default.replication.factor",
                self.default_replication_factor.to_string(),
            ),
            entry("message.max.bytes", self.message_max_bytes.to_string()),
            entry("min.insync.replicas", self.min_insync_replicas.to_string()),
            entry("num.partitions", self.default_partitions.to_string()),
            entry(
                "replica.lag.time.max.ms",
                self.replica_lag_time_max.as_millis().to_string(),
            ),
        ]
    }
}
