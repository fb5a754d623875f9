//! The scenario model: cluster, producer, workload, faults and expectations, as one serde schema
//! for TOML files and for the Rust builder.

use std::collections::BTreeMap;

use ktrial_mockbroker::faults::{ClusterEvent, FaultRule};
use serde::{Deserialize, Deserializer, Serialize};

/// A scenario: what cluster, what producer, what it sends, what goes wrong, what must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name (the file name when loaded from a file and not given).
    #[serde(default)]
    pub name: String,
    /// One line on what the scenario shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The seed of every random choice: network, fault probabilities, workload.
    #[serde(default)]
    pub seed: u64,
    /// The cluster.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Producer properties, with the Kafka names (`acks`, `linger.ms`, …).
    #[serde(default)]
    pub producer: BTreeMap<String, PropertyValue>,
    /// What the producer sends.
    pub workload: Workload,
    /// What goes wrong, and when.
    #[serde(default)]
    pub faults: Faults,
    /// What must hold, or must be found violated.
    #[serde(default)]
    pub expect: Expectations,
}

/// The mock cluster of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Brokers, with node ids 1..=N.
    #[serde(default = "one")]
    pub brokers: u32,
    /// Topics created before the workload starts.
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    /// `min.insync.replicas` for every topic.
    #[serde(default = "one")]
    pub min_insync_replicas: u32,
    /// Create unknown topics on Metadata/Produce (`auto.create.topics.enable`).
    #[serde(default = "yes")]
    pub auto_create_topics: bool,
    /// `replica.lag.time.max.ms`.
    #[serde(default = "default_replica_lag_ms")]
    pub replica_lag_time_max_ms: u64,
    /// `message.max.bytes`.
    #[serde(default = "default_message_max_bytes")]
    pub message_max_bytes: u32,
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Its name.
    pub name: String,
    /// Partition count.
    #[serde(default = "one")]
    pub partitions: u32,
    /// Replication factor.
    #[serde(default = "one")]
    pub replication: u32,
}

/// A producer property value: TOML strings, integers, floats and booleans are all accepted and
/// handed to the producer's property parser as text, as a `.properties` file would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PropertyValue(pub String);

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
            Bool(bool),
        }
        Ok(PropertyValue(match Raw::deserialize(deserializer)? {
            Raw::Text(s) => s,
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
        }))
    }
}

/// What the producer sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The topic written to.
    pub topic: String,
    /// Records sent.
    pub records: u64,
    /// Distinct keys, cycled through in order; 0 sends null keys.
    #[serde(default)]
    pub keys: u64,
    /// Bytes of each value (at least the 8 bytes that number the record).
    #[serde(default = "default_value_size")]
    pub value_size: usize,
    /// How records are sent.
    #[serde(default)]
    pub mode: SendMode,
    /// Records per simulated second; as fast as the producer takes them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Call `flush()` after every this many records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_every: Option<u64>,
}

/// How the workload sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendMode {
    /// Await each delivery before the next send.
    Sync,
    /// Send everything, collect deliveries as they complete.
    #[default]
    Async,
    /// Send and drop the delivery future.
    FireAndForget,
}

/// Faults: broker rules, cluster events and network faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Fault-plan rules of the mock broker.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// Cluster events, at a time or after a number of acknowledged records.
    #[serde(default)]
    pub events: Vec<ScenarioEvent>,
    /// Faults of the simulated network between the client and the brokers.
    #[serde(default)]
    pub network: Vec<NetworkFault>,
}

/// A cluster event with its trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEvent {
    /// Simulated milliseconds after the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Once this many records have been acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_acked: Option<u64>,
    /// The event.
    pub event: ClusterEvent,
}

/// A fault of the simulated network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NetworkFault {
    /// Cut the links between the client and a broker for a while.
    Partition {
        /// The broker.
        broker: i32,
        /// Start, simulated milliseconds.
        at_ms: u64,
        /// Length.
        duration_ms: u64,
    },
    /// Hold messages between the client and a broker, then release them all at once.
    Hold {
        /// The broker.
        broker: i32,
        /// Start, simulated milliseconds.
        at_ms: u64,
        /// Length.
        duration_ms: u64,
    },
    /// Latency on the links between the client and a broker, from the start.
    Latency {
        /// The broker.
        broker: i32,
        /// Milliseconds each way.
        ms: u64,
    },
    /// Crash a broker's host (its connections die without a goodbye), and restart it later.
    Crash {
        /// The broker.
        broker: i32,
        /// When, simulated milliseconds.
        at_ms: u64,
        /// Restart after this long; never when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart_after_ms: Option<u64>,
    },
}

/// Whether a property must hold, must be found violated, or is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Not checked (the default).
    #[default]
    Ignored,
    /// Must hold: a violation fails the scenario.
    Holds,
    /// Must be violated: the scenario demonstrates a known failure mode.
    Violated,
}

/// The properties a scenario checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Every acknowledged record is in the final log.
    #[serde(default)]
    pub no_loss: Expect,
    /// No record appears twice in the log.
    #[serde(default)]
    pub no_duplicates: Expect,
    /// Per partition, the log keeps the order in which records were sent.
    #[serde(default)]
    pub ordered: Expect,
    /// Per key, the log keeps send order.
    #[serde(default)]
    pub ordered_per_key: Expect,
    /// Batches respect batch.size, batch.num.messages, linger.ms and max.request.size.
    #[serde(default)]
    pub batch_bounds: Expect,
    /// acks=0 requests are never answered, and nothing acks=all acknowledged is lost.
    #[serde(default)]
    pub acks_semantics: Expect,
    /// Every record sent was acknowledged (none failed, none left unreported).
    #[serde(default)]
    pub all_delivered: Expect,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

fn default_replica_lag_ms() -> u64 {
    30_000
}

fn default_message_max_bytes() -> u32 {
    1_048_588
}

fn default_value_size() -> usize {
    100
}

impl Default for ClusterSpec {
    fn default() -> Self {
        Self {
            brokers: 1,
            topics: Vec::new(),
            min_insync_replicas: 1,
            auto_create_topics: true,
            replica_lag_time_max_ms: default_replica_lag_ms(),
            message_max_bytes: default_message_max_bytes(),
        }
    }
}
