//! The cluster as plain data: brokers, topics and their partitions, producer ids, replication
//! delays and the wall clock. Every change takes the current instant; [`Cluster::tick`] brings
//! replication up to date and [`Cluster::next_deadline`] says when it next needs to run.

use core::time::Duration;
use std::collections::BTreeMap;

use ktrial_protocol::ResponseError;
use tokio::time::Instant;
use uuid::Uuid;

use super::config::{ClusterConfig, TopicConfig};
use super::partition::Partition;

/// A broker's node id.
pub type BrokerId = i32;

/// Topics hold at most this many partitions, so that one request cannot make the model huge.
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 10_000;
/// Kafka's longest topic name (`Topic.MAX_NAME_LENGTH`).
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Where a broker listens, as Metadata advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// Node id.
    pub id: BrokerId,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
}

/// Maps the tokio clock to wall-clock milliseconds, so that simulated time yields simulated
/// timestamps: `origin_ms` is the wall time at `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    origin: Instant,
    origin_ms: i64,
}

impl WallClock {
    /// A clock reading `origin_ms` at `origin`.
    pub fn new(origin: Instant, origin_ms: i64) -> Self {
        Self { origin, origin_ms }
    }

    /// Milliseconds since the Unix epoch at `now`.
    pub fn millis(&self, now: Instant) -> i64 {
        let elapsed = now.saturating_duration_since(self.origin).as_millis();
        self.origin_ms
            .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }
}

/// A topic and its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub(crate) id: Uuid,
    pub(crate) config: TopicConfig,
    pub(crate) partitions: Vec<Partition>,
}

impl Topic {
    /// The topic id (Metadata v10+).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The topic's settings.
    pub fn config(&self) -> &TopicConfig {
        &self.config
    }

    /// Its partitions, by index.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// One partition.
    pub fn partition(&self, index: i32) -> Option<&Partition> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }

    pub(crate) fn partition_mut(&mut self, index: i32) -> Option<&mut Partition> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get_mut(i))
    }
}

/// The whole cluster model.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) config: ClusterConfig,
    brokers: Vec<BrokerInfo>,
    pub(crate) topics: BTreeMap<String, Topic>,
    topics_created: u64,
    next_producer_id: i64,
    pub(crate) replication_delays: BTreeMap<BrokerId, Duration>,
    pub(crate) clock: WallClock,
    pub(crate) disruptions: super::events::Disruptions,
    pub(crate) groups: crate::groups::GroupCoordinator,
}

impl Cluster {
    /// A cluster of `brokers` (ids 1..=n, no address yet) and no topics.
    pub fn new(config: ClusterConfig, brokers: i32, clock: WallClock) -> Self {
        let brokers = (1..=brokers.max(1))
            .map(|id| BrokerInfo {
                id,
                host: String::new(),
                port: 0,
            })
            .collect();
        Self {
            groups: crate::groups::GroupCoordinator::new(config.groups.clone()),
            config,
            brokers,
            topics: BTreeMap::new(),
            topics_created: 0,
            next_producer_id: 1,
            replication_delays: BTreeMap::new(),
            clock,
            disruptions: super::events::Disruptions::default(),
        }
    }

    /// The cluster settings.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Brokers by id.
    pub fn brokers(&self) -> &[BrokerInfo] {
        &self.brokers
    }

    /// Sets where a broker is advertised (once its listener is bound).
    pub fn set_broker_address(&mut self, id: BrokerId, host: &str, port: i32) {
        if let Some(broker) = self.brokers.iter_mut().find(|b| b.id == id) {
            broker.host = host.to_string();
            broker.port = port;
        }
    }

    /// The controller Metadata names: the lowest running broker id.
    pub fn controller_id(&self) -> BrokerId {
        self.live_brokers().next().map_or(-1, |b| b.id)
    }

    /// The running brokers, by id (Metadata lists only these).
    pub fn live_brokers(&self) -> impl Iterator<Item = &BrokerInfo> {
        self.brokers.iter().filter(|b| self.is_broker_up(b.id))
    }

    /// Topics by name.
    pub fn topics(&self) -> &BTreeMap<String, Topic> {
        &self.topics
    }

    /// One topic.
    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    /// The topic with this id.
    pub fn topic_by_id(&self, id: Uuid) -> Option<(&str, &Topic)> {
        self.topics
            .iter()
            .find(|(_, t)| t.id == id)
            .map(|(name, t)| (name.as_str(), t))
    }

    /// One partition.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&Partition> {
        self.topics.get(topic)?.partition(partition)
    }

    /// Delays a broker's copies of every partition it follows by `delay` (zero: immediate).
    pub fn set_replication_delay(&mut self, broker: BrokerId, delay: Duration) {
        self.replication_delays.insert(broker, delay);
    }

    /// Wall-clock milliseconds at `now`.
    pub fn wall_clock_ms(&self, now: Instant) -> i64 {
        self.clock.millis(now)
    }

    /// Creates a topic with replicas spread round-robin from a per-topic starting broker, the way
    /// Kafka's rack-unaware assignment does, without its random start (determinism).
    pub fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        config: TopicConfig,
        now: Instant,
    ) -> Result<Uuid, ResponseError> {
        if !(1..=MAX_PARTITIONS_PER_TOPIC).contains(&partitions) {
            return Err(ResponseError::InvalidPartitions);
        }
        let broker_count = self.brokers.len();
        let replication = usize::try_from(replication_factor).unwrap_or(0);
        if replication == 0 || replication > broker_count {
            return Err(ResponseError::InvalidReplicationFactor);
        }
        let start = (self.topics_created % broker_count as u64) as usize;
        let assignment = (0..partitions as usize)
            .map(|p| {
                (0..replication)
                    .map(|r| self.brokers[(start + p + r) % broker_count].id)
                    .collect()
            })
            .collect();
        self.create_topic_with_assignment(name, assignment, config, now)
    }

    /// Creates a topic with an explicit replica list per partition (preferred leader first).
    pub fn create_topic_with_assignment(
        &mut self,
        name: &str,
        assignment: Vec<Vec<BrokerId>>,
        config: TopicConfig,
        now: Instant,
    ) -> Result<Uuid, ResponseError> {
        validate_topic_name(name)?;
        if self.topics.contains_key(name) {
            return Err(ResponseError::TopicAlreadyExists);
        }
        if assignment.is_empty() || assignment.len() > MAX_PARTITIONS_PER_TOPIC as usize {
            return Err(ResponseError::InvalidPartitions);
        }
        for replicas in &assignment {
            let mut sorted = replicas.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let known = replicas
                .iter()
                .all(|id| self.brokers.iter().any(|b| b.id == *id));
            if replicas.is_empty() || sorted.len() != replicas.len() || !known {
                return Err(ResponseError::InvalidReplicaAssignment);
            }
        }
        self.topics_created += 1;
        let id = Uuid::from_u64_pair(0x6b74_7269_616c_0000, self.topics_created);
        let partitions = assignment
            .into_iter()
            .zip(0..)
            .map(|(replicas, index)| Partition::new(index, replicas, now))
            .collect();
        let topic = Topic {
            id,
            config,
            partitions,
        };
        self.topics.insert(name.to_string(), topic);
        Ok(id)
    }

    /// The topic, created with the cluster defaults when it is unknown and auto-creation is on.
    pub fn ensure_topic(&mut self, name: &str, now: Instant) -> Result<&Topic, ResponseError> {
        if !self.topics.contains_key(name) {
            if !self.config.auto_create_topics {
                return Err(ResponseError::UnknownTopicOrPartition);
            }
            let replication = self
                .config
                .default_replication_factor
                .min(i16::try_from(self.brokers.len()).unwrap_or(i16::MAX));
            let partitions = self.config.default_partitions;
            self.create_topic(name, partitions, replication, TopicConfig::default(), now)?;
        }
        self.topics
            .get(name)
            .ok_or(ResponseError::UnknownTopicOrPartition)
    }

    /// Deletes a topic and its logs.
    pub fn delete_topic(&mut self, name: &str) -> Result<(), ResponseError> {
        self.topics
            .remove(name)
            .map(|_| ())
            .ok_or(ResponseError::UnknownTopicOrPartition)
    }

    /// A new producer id at epoch 0. Kafka hands a non-transactional producer a fresh id on
    /// every InitProducerId, whatever id it sends (`TransactionCoordinator.handleInitProducerId`).
    pub fn allocate_producer_id(&mut self) -> (i64, i16) {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        (id, 0)
    }

    /// The `min.insync.replicas` in force for a topic.
    pub fn min_insync_replicas(&self, topic: &Topic) -> usize {
        topic
            .config
            .min_insync_replicas
            .unwrap_or(self.config.min_insync_replicas)
    }

    /// Applies the cluster events due by `now`, then brings every partition's followers, ISR
    /// and high watermark up to it.
    pub fn tick(&mut self, now: Instant) {
        self.run_due_events(now);
        self.tick_replication(now);
        self.groups.on_time(now);
    }

    /// Brings one partition up to `now` (after an append, without walking every topic).
    pub(crate) fn tick_partition(&mut self, topic: &str, partition: i32, now: Instant) {
        self.tick_one(topic, partition, now);
    }

    /// When replication or a scheduled event next changes something by itself (a follower
    /// copy, an ISR shrink, an event's time).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.replication_deadline()
            .into_iter()
            .chain(self.groups.next_deadline())
            .min()
    }
}

/// Kafka's topic name rules (`Topic.validate`): 1-249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn validate_topic_name(name: &str) -> Result<(), ResponseError> {
    let legal = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if name.is_empty() || name.len() > MAX_TOPIC_NAME_LEN || !legal || name == "." || name == ".." {
        return Err(ResponseError::InvalidTopicException);
    }
    Ok(())
}
