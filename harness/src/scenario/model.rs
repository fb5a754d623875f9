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
    /// What must hold, or must be found violated; `[expect.<client>]` tables say where a real
    /// client is expected to differ, and why.
    #[serde(default)]
    pub expect: Expectations,
    /// Settings in a real client's own terms (`[client.sarama]`, `[client.java]`, …), handed to
    /// that client's driver as they are, next to `[producer]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub client: BTreeMap<String, BTreeMap<String, PropertyValue>>,
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

/// The properties a scenario checks, and where a real client is expected to differ
/// (`[expect.<client>]`, each with its reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Every acknowledged record is in the final log.
    pub no_loss: Expect,
    /// No record appears twice in the log.
    pub no_duplicates: Expect,
    /// Per partition, the log keeps the order in which records were sent.
    pub ordered: Expect,
    /// Per key, the log keeps send order.
    pub ordered_per_key: Expect,
    /// Batches respect batch.size, batch.num.messages, linger.ms and max.request.size.
    pub batch_bounds: Expect,
    /// acks=0 requests are never answered, and nothing acks=all acknowledged is lost.
    pub acks_semantics: Expect,
    /// Every record sent was acknowledged (none failed, none left unreported).
    pub all_delivered: Expect,
    /// Per real client (by driver name), the properties it is expected to meet otherwise.
    pub clients: BTreeMap<String, ClientExpectations>,
}

/// Where one real client is expected to differ from a scenario's `[expect]`, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientExpectations {
    /// One line on why this client differs (its defaults, its retry rules), shown with results.
    pub reason: String,
    /// `[producer]` properties not given to this client, which cannot express them (Sarama has
    /// no `delivery.timeout.ms`): its driver would refuse the scenario otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<String>,
    /// `no_loss` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_loss: Option<Expect>,
    /// `no_duplicates` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_duplicates: Option<Expect>,
    /// `ordered` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<Expect>,
    /// `ordered_per_key` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_per_key: Option<Expect>,
    /// `batch_bounds` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_bounds: Option<Expect>,
    /// `acks_semantics` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acks_semantics: Option<Expect>,
    /// `all_delivered` for this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_delivered: Option<Expect>,
}

/// The property names of `[expect]`, in order.
pub const PROPERTIES: [&str; 7] = [
    "no_loss",
    "no_duplicates",
    "ordered",
    "ordered_per_key",
    "batch_bounds",
    "acks_semantics",
    "all_delivered",
];

impl Expectations {
    /// The expectation of property `name` (one of [`PROPERTIES`]).
    fn property_mut(&mut self, name: &str) -> Option<&mut Expect> {
        Some(match name {
            "no_loss" => &mut self.no_loss,
            "no_duplicates" => &mut self.no_duplicates,
            "ordered" => &mut self.ordered,
            "ordered_per_key" => &mut self.ordered_per_key,
            "batch_bounds" => &mut self.batch_bounds,
            "acks_semantics" => &mut self.acks_semantics,
            "all_delivered" => &mut self.all_delivered,
            _ => return None,
        })
    }

    fn properties(&self) -> [(&'static str, Expect); 7] {
        [
            ("no_loss", self.no_loss),
            ("no_duplicates", self.no_duplicates),
            ("ordered", self.ordered),
            ("ordered_per_key", self.ordered_per_key),
            ("batch_bounds", self.batch_bounds),
            ("acks_semantics", self.acks_semantics),
            ("all_delivered", self.all_delivered),
        ]
    }

    /// The same expectations (and client tables) with `f(property, expectation)` applied to
    /// each property of `[expect]`.
    pub fn map_properties(&self, f: impl Fn(&str, Expect) -> Expect) -> Expectations {
        let mut mapped = self.clone();
        for (name, expect) in self.properties() {
            if let Some(slot) = mapped.property_mut(name) {
                *slot = f(name, expect);
            }
        }
        mapped
    }

    /// What `client` is expected to meet: `[expect]` with its `[expect.<client>]` applied, and
    /// that table's reason; `[expect]` alone for a client without one.
    ///
    /// ```
    /// use ktrial_harness::{Expect, Scenario};
    ///
    /// let scenario: Scenario = toml::from_str(r#"
    ///     workload = { topic = "t", records = 10 }
    ///     [expect]
    ///     ordered = "holds"
    ///     [expect.sarama]
    ///     reason = "Sarama retries a batch behind later ones without idempotence"
    ///     ordered = "violated"
    /// "#)?;
    /// let (sarama, reason) = scenario.expect.for_client("sarama");
    /// assert_eq!(sarama.ordered, Expect::Violated);
    /// assert!(reason.is_some());
    /// assert_eq!(scenario.expect.for_client("java").0.ordered, Expect::Holds);
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    pub fn for_client(&self, client: &str) -> (Expectations, Option<&str>) {
        let mut resolved = Expectations {
            clients: BTreeMap::new(),
            ..self.clone()
        };
        let Some(differs) = self.clients.get(client) else {
            return (resolved, None);
        };
        let overrides = [
            ("no_loss", differs.no_loss),
            ("no_duplicates", differs.no_duplicates),
            ("ordered", differs.ordered),
            ("ordered_per_key", differs.ordered_per_key),
            ("batch_bounds", differs.batch_bounds),
            ("acks_semantics", differs.acks_semantics),
            ("all_delivered", differs.all_delivered),
        ];
        for (name, value) in overrides {
            if let (Some(value), Some(slot)) = (value, resolved.property_mut(name)) {
                *slot = value;
            }
        }
        (resolved, Some(differs.reason.as_str()))
    }
}

impl Serialize for Expectations {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, expect) in self.properties() {
            map.serialize_entry(name, &expect)?;
        }
        for (client, differs) in &self.clients {
            map.serialize_entry(client, differs)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Expectations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Expectations;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("properties (`no_loss = \"holds\"`, …) and `[expect.<client>]` tables")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Expectations, A::Error> {
                let mut expect = Expectations::default();
                while let Some(key) = map.next_key::<String>()? {
                    if let Some(slot) = expect.property_mut(&key) {
                        *slot = map.next_value()?;
                        continue;
                    }
                    let differs = map.next_value::<ClientExpectations>().map_err(|e| {
                        serde::de::Error::custom(format!(
                            "`{key}` is neither a property ({}) nor a client's table \
                             (`[expect.{key}]` with a `reason`): {e}",
                            PROPERTIES.join(", ")
                        ))
                    })?;
                    expect.clients.insert(key, differs);
                }
                Ok(expect)
            }
        }
        deserializer.deserialize_map(Visit)
    }
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
