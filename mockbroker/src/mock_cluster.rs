//! The in-process cluster for `cargo test`: build it, start it on 127.0.0.1 ephemeral ports (or
//! any [`Listener`]), point a client at [`MockCluster::bootstrap_servers`], then read what landed.

use std::collections::BTreeMap;
use std::sync::Arc;

use ktrial_protocol::frame::{DEFAULT_MAX_FRAME_BYTES, FrameDecoder};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Duration, Instant};

use ktrial_protocol::messages::ResponseKind;

use crate::clock::Clock;
use crate::error::BrokerError;
use crate::faults::{ActiveRule, ClusterEvent, FaultRule, InvalidRule, RuleId, ScheduledEvent};
use crate::groups::{CommittedOffset, GroupDescription};
use crate::intercept::{InterceptedRequest, Interceptor};
use crate::journal::JournalEntry;
use crate::model::{
    BrokerId, Cluster, ClusterConfig, EventError, StoredRecord, TopicConfig, WallClock,
};
use crate::server::{self, Bind, Listener, OnceBind, TcpBind};
use crate::shared::{SharedCluster, SharedSettings};

/// A topic to create at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TopicSpec {
    name: String,
    partitions: i32,
    replication_factor: i16,
    config: TopicConfig,
}

/// Settings of a [`MockCluster`] before it starts.
#[derive(Debug, Clone)]
pub struct MockClusterBuilder {
    brokers: i32,
    bind_host: String,
    advertised_host: Option<String>,
    base_port: u16,
    config: ClusterConfig,
    topics: Vec<TopicSpec>,
    replication_delays: Vec<(BrokerId, Duration)>,
    wall_clock_ms: Option<i64>,
    max_frame_bytes: usize,
    shared: SharedSettings,
    rules: Vec<FaultRule>,
    events: Vec<ScheduledEvent>,
}

impl Default for MockClusterBuilder {
    fn default() -> Self {
        Self {
            brokers: 1,
            bind_host: "127.0.0.1".to_string(),
            advertised_host: None,
            base_port: 0,
            config: ClusterConfig::default(),
            topics: Vec::new(),
            replication_delays: Vec::new(),
            wall_clock_ms: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            shared: SharedSettings::default(),
            rules: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl MockClusterBuilder {
    /// Number of brokers (ids 1..=n); default 1.
    pub fn brokers(mut self, brokers: i32) -> Self {
        self.brokers = brokers;
        self
    }

    /// A topic created at start-up.
    pub fn topic(self, name: &str, partitions: i32, replication_factor: i16) -> Self {
        self.topic_with_config(name, partitions, replication_factor, TopicConfig::default())
    }

    /// A topic created at start-up, with its own settings.
    pub fn topic_with_config(
        mut self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        config: TopicConfig,
    ) -> Self {
        self.topics.push(TopicSpec {
            name: name.to_string(),
            partitions,
            replication_factor,
            config,
        });
        self
    }

    /// The address to listen on; default `127.0.0.1`. Also advertised unless
    /// [`MockClusterBuilder::advertised_host`] is set.
    pub fn bind_host(mut self, host: &str) -> Self {
        self.bind_host = host.to_string();
        self
    }

    /// The host name Metadata gives clients.
    pub fn advertised_host(mut self, host: &str) -> Self {
        self.advertised_host = Some(host.to_string());
        self
    }

    /// Broker k listens on `port + k - 1`; 0 (the default) picks ephemeral ports.
    pub fn port(mut self, port: u16) -> Self {
        self.base_port = port;
        self
    }

    /// All cluster settings at once.
    pub fn config(mut self, config: ClusterConfig) -> Self {
        self.config = config;
        self
    }

    /// `auto.create.topics.enable`; default on.
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.config.auto_create_topics = enabled;
        self
    }

    /// Partitions of auto-created topics (`num.partitions`).
    pub fn default_partitions(mut self, partitions: i32) -> Self {
        self.config.default_partitions = partitions;
        self
    }

    /// Replicas of auto-created topics (`default.replication.factor`).
    pub fn default_replication_factor(mut self, replication: i16) -> Self {
        self.config.default_replication_factor = replication;
        self
    }

    /// `min.insync.replicas` of the cluster.
    pub fn min_insync_replicas(mut self, replicas: usize) -> Self {
        self.config.min_insync_replicas = replicas;
        self
    }

    /// `replica.lag.time.max.ms`.
    pub fn replica_lag_time_max(mut self, lag: Duration) -> Self {
        self.config.replica_lag_time_max = lag;
        self
    }

    /// How long `broker` takes to copy what its leaders append; default immediate.
    pub fn replication_delay(mut self, broker: BrokerId, delay: Duration) -> Self {
        self.replication_delays.push((broker, delay));
        self
    }

    /// `group.initial.rebalance.delay.ms` (Kafka's default 3 s; tests usually want 0).
    pub fn initial_rebalance_delay(mut self, delay: Duration) -> Self {
        self.config.groups.initial_rebalance_delay = delay;
        self
    }

    /// The wall-clock time (ms since the epoch) at start-up, from which LogAppendTime stamps
    /// advance with the tokio clock; default the system clock.
    pub fn wall_clock_ms(mut self, ms: i64) -> Self {
        self.wall_clock_ms = Some(ms);
        self
    }

    /// Seed of the cluster's RNG (fault probabilities); default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.shared.seed = seed;
        self
    }

    /// The cluster clock; default tokio's, from start-up. A simulation passes the one clock all
    /// its hosts share (see [`Clock`]).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.shared.clock = clock;
        self
    }

    /// Journal capacity (entries kept); default 100 000.
    pub fn journal_capacity(mut self, capacity: usize) -> Self {
        self.shared.journal_capacity = Some(capacity);
        self
    }

    /// A fault rule in force from start-up.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// A cluster event, at once at start-up or at its `at_ms`.
    pub fn event(mut self, event: ScheduledEvent) -> Self {
        self.events.push(event);
        self
    }

    /// The escape hatch: `intercept` sees every decoded request (broker, connection, header,
    /// body) before the fault plan and may answer it itself.
    ///
    /// ```
    /// use ktrial_mockbroker::MockCluster;
    /// use ktrial_protocol::messages::{RequestKind, ResponseKind, InitProducerIdResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let cluster = MockCluster::builder()
    ///     .intercept(|request| match request.body {
    ///         // Refuse idempotence on broker 1: CLUSTER_AUTHORIZATION_FAILED.
    ///         RequestKind::InitProducerId(_) if request.broker == 1 => Some(
    ///             ResponseKind::InitProducerId(InitProducerIdResponse::default().with_error_code(31)),
    ///         ),
    ///         _ => None,
    ///     })
    ///     .start()
    ///     .await?;
    /// # let _ = cluster.bootstrap_servers();
    /// # Ok(())
    /// # }
    /// ```
    pub fn intercept(
        mut self,
        intercept: impl Fn(&InterceptedRequest<'_>) -> Option<ResponseKind> + Send + Sync + 'static,
    ) -> Self {
        let interceptor: Interceptor = Arc::new(intercept);
        self.shared.interceptor = Some(interceptor);
        self
    }

    /// The shared state the servers run on, with brokers advertised at `addresses` (broker k at
    /// the k-th), the fault rules added and the events applied or scheduled. For harnesses
    /// that serve brokers themselves with `run_broker`.
    // Hidden with `run_broker`: the harness serves each simulated broker on its own host.
    #[doc(hidden)]
    pub fn build_shared(
        &self,
        addresses: &[(String, u16)],
    ) -> Result<Arc<SharedCluster>, BrokerError> {
        let clock = self.shared.clock.clone();
        let mut model = self.build_model(clock.now())?;
        for (id, (host, port)) in (1..).zip(addresses) {
            model.set_broker_address(id, host, i32::from(*port));
        }
        let shared = Arc::new(SharedCluster::with_settings(model, self.shared.clone()));
        shared.add_faults(self.rules.clone())?;
        for (i, event) in self.events.iter().enumerate() {
            shared
                .validate_event(&event.event)
                .map_err(|e| InvalidRule {
                    field: format!("events[{i}].{}", e.field),
                    reason: e.reason,
                })?;
        }
        for event in &self.events {
            shared.apply_event(event.clone())?;
        }
        Ok(shared)
    }

    /// The model the cluster starts with, at `now`.
    pub fn build_model(&self, now: Instant) -> Result<Cluster, BrokerError> {
        if !(1..=1000).contains(&self.brokers) {
            return Err(BrokerError::Config(format!(
                "{} brokers (1 to 1000)",
                self.brokers
            )));
        }
        let wall_ms = self.wall_clock_ms.unwrap_or_else(system_time_ms);
        let mut cluster = Cluster::new(
            self.config.clone(),
            self.brokers,
            WallClock::new(now, wall_ms),
        );
        for topic in &self.topics {
            cluster
                .create_topic(
                    &topic.name,
                    topic.partitions,
                    topic.replication_factor,
                    topic.config,
                    now,
                )
                .map_err(|error| BrokerError::Topic {
                    topic: topic.name.clone(),
                    error,
                })?;
        }
        for &(broker, delay) in &self.replication_delays {
            cluster.set_replication_delay(broker, delay);
        }
        Ok(cluster)
    }

    /// Binds one TCP listener per broker and starts serving.
    pub async fn start(self) -> Result<MockCluster, BrokerError> {
        let mut listeners = Vec::new();
        for k in 0..self.brokers.max(0) {
            let port = match self.base_port {
                0 => 0,
                base => u16::try_from(i32::from(base) + k).map_err(|_| {
                    BrokerError::Config(format!("port {base} + {k} is out of range"))
                })?,
            };
            let address = (self.bind_host.as_str(), port);
            let listener = TcpListener::bind(address)
                .await
                .map_err(|source| BrokerError::Io {
                    what: format!("binding {}:{port}", self.bind_host),
                    source,
                })?;
            let port = listener
                .local_addr()
                .map_err(|source| BrokerError::Io {
                    what: "reading the bound address".into(),
                    source,
                })?
                .port();
            let bind = TcpBind::new(listener).map_err(|source| BrokerError::Io {
                what: "reading the bound address".into(),
                source,
            })?;
            listeners.push((bind, port));
        }
        self.start_with_binders(listeners)
    }

    /// Starts serving broker k on the k-th listener, advertised at its port; for simulated
    /// networks. Must run inside a tokio runtime. A broker stopped by `broker_down` stays
    /// unreachable after `broker_up` (its listener is gone); use
    /// [`MockClusterBuilder::start_with_binders`] to restart brokers.
    pub fn start_with_listeners<L: Listener + Sync>(
        self,
        listeners: Vec<(L, u16)>,
    ) -> Result<MockCluster, BrokerError> {
        let binders = listeners
            .into_iter()
            .map(|(listener, port)| (OnceBind(Some(listener)), port))
            .collect();
        self.start_with_binders(binders)
    }

    /// Starts serving broker k with the k-th [`Bind`], advertised at its port; each broker asks
    /// its `Bind` for a listener again when it comes back after `broker_down`.
    pub fn start_with_binders<B: Bind>(
        self,
        binders: Vec<(B, u16)>,
    ) -> Result<MockCluster, BrokerError> {
        if binders.len() != usize::try_from(self.brokers).unwrap_or(0) {
            return Err(BrokerError::Config(format!(
                "{} listeners for {} brokers",
                binders.len(),
                self.brokers
            )));
        }
        let host = self
            .advertised_host
            .clone()
            .unwrap_or_else(|| self.bind_host.clone());
        let addresses: Vec<(String, u16)> = binders
            .iter()
            .map(|(_, port)| (host.clone(), *port))
            .collect();
        let shared = self.build_shared(&addresses)?;
        let bootstrap: Vec<String> = addresses.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        let (shutdown, stop) = watch::channel(false);
        let mut servers = JoinSet::new();
        let decoder = FrameDecoder::new(self.max_frame_bytes);
        for (id, (bind, _)) in (1..).zip(binders) {
            servers.spawn(server::run_broker(
                bind,
                id,
                Arc::clone(&shared),
                decoder,
                stop.clone(),
            ));
        }
        Ok(MockCluster {
            shared,
            shutdown,
            servers,
            bootstrap: bootstrap.join(","),
        })
    }
}

/// The edge where real time enters: the wall clock at start-up (simulations pass their own).
fn system_time_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A running mock Kafka cluster.
///
/// ```
/// use ktrial_mockbroker::MockCluster;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ktrial_mockbroker::BrokerError> {
/// let cluster = MockCluster::builder().brokers(3).topic("orders", 6, 3).start().await?;
/// // Point any Kafka client at this, e.g. rdkafka's `bootstrap.servers`.
/// assert_eq!(cluster.bootstrap_servers().split(',').count(), 3);
/// assert_eq!(cluster.leader("orders", 0), Some(1));
/// assert_eq!(cluster.isr("orders", 1), Some(vec![2, 3, 1]));
/// assert_eq!(cluster.high_watermark("orders", 5), Some(0));
/// assert!(cluster.records("orders", 0)?.is_empty());
/// cluster.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MockCluster {
    shared: Arc<SharedCluster>,
    shutdown: watch::Sender<bool>,
    servers: JoinSet<()>,
    bootstrap: String,
}

impl MockCluster {
    /// A builder with one broker, auto-created topics and Kafka's defaults.
    pub fn builder() -> MockClusterBuilder {
        MockClusterBuilder::default()
    }

    /// `host:port` of every broker, comma-separated, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// The shared model, for direct inspection or changes.
    pub fn model(&self) -> &Arc<SharedCluster> {
        &self.shared
    }

    /// Every record of a partition's log, with offsets, producer identity and batch boundaries.
    pub fn records(&self, topic: &str, partition: i32) -> Result<Vec<StoredRecord>, BrokerError> {
        self.shared
            .read(self.shared.now(), |c| c.records(topic, partition))
            .ok_or_else(|| BrokerError::UnknownPartition {
                topic: topic.to_string(),
                partition,
            })?
            .map_err(BrokerError::from)
    }

    /// The partition's high watermark.
    pub fn high_watermark(&self, topic: &str, partition: i32) -> Option<i64> {
        self.shared.read(self.shared.now(), |c| {
            c.partition(topic, partition).map(|p| p.high_watermark())
        })
    }

    /// The partition's leader.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<BrokerId> {
        self.shared.read(self.shared.now(), |c| {
            c.partition(topic, partition).map(|p| p.leader())
        })
    }

    /// The offsets `group` has committed, by topic and partition (empty for an unknown group).
    pub fn committed_offsets(&self, group: &str) -> BTreeMap<(String, i32), CommittedOffset> {
        self.shared.read(self.shared.now(), |c| {
            c.groups()
                .group(group)
                .map(|g| g.offsets().clone())
                .unwrap_or_default()
        })
    }

    /// A consumer group's state, members and generation, as DescribeGroups reports it.
    pub fn describe_group(&self, group: &str) -> Option<GroupDescription> {
        self.shared
            .read(self.shared.now(), |c| c.groups().describe(group))
    }

    /// The partition's in-sync replicas.
    pub fn isr(&self, topic: &str, partition: i32) -> Option<Vec<BrokerId>> {
        self.shared.read(self.shared.now(), |c| {
            c.partition(topic, partition).map(|p| p.isr().to_vec())
        })
    }

    /// Delays `broker`'s copies of what its leaders append (zero: immediate).
    pub fn set_replication_delay(&self, broker: BrokerId, delay: Duration) {
        self.shared.update(self.shared.now(), |c| {
            c.set_replication_delay(broker, delay)
        });
    }

    /// Waits until the topic's logs hold at least `count` records in all; the count reached.
    pub async fn wait_for_records(
        &self,
        topic: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<usize, BrokerError> {
        let landed = |c: &mut Cluster, _| {
            let total: i64 = c
                .topic(topic)?
                .partitions()
                .iter()
                .map(|p| p.log().log_end_offset() - p.log().log_start_offset())
                .sum();
            let total = usize::try_from(total).unwrap_or(0);
            (total >= count).then_some(total)
        };
        self.shared
            .wait_until(self.shared.now() + timeout, landed)
            .await
            .ok_or_else(|| BrokerError::Timeout(format!("{count} records in {topic}")))
    }

    /// The journal entries with `seq >= since`, oldest first.
    pub fn journal_since(&self, since: u64) -> Vec<JournalEntry> {
        self.shared.journal_since(since)
    }

    /// The whole journal (what the capacity kept), oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal_since(0)
    }

    /// The journal as a text timeline, one line per entry.
    pub fn timeline(&self) -> String {
        self.shared.timeline()
    }

    /// Adds a fault rule; its id.
    pub fn add_fault(&self, rule: FaultRule) -> Result<RuleId, InvalidRule> {
        self.shared.add_fault(rule)
    }

    /// Removes a fault rule; false if there was none with that id.
    pub fn remove_fault(&self, id: RuleId) -> bool {
        self.shared.remove_fault(id)
    }

    /// The rules in force, with how often each matched and fired.
    pub fn faults(&self) -> Vec<ActiveRule> {
        self.shared.faults()
    }

    /// Applies a cluster event now.
    pub fn apply_event(&self, event: ClusterEvent) -> Result<(), EventError> {
        self.shared
            .apply_event(ScheduledEvent { at_ms: None, event })
    }

    /// Schedules a cluster event at `at_ms` of cluster time (at once if that is past).
    pub fn schedule_event(&self, at_ms: u64, event: ClusterEvent) -> Result<(), EventError> {
        self.shared.apply_event(ScheduledEvent {
            at_ms: Some(at_ms),
            event,
        })
    }

    /// Stops a broker: its partitions elect new leaders (or go offline), its listener and
    /// connections close.
    pub fn broker_down(&self, broker: BrokerId) -> Result<(), EventError> {
        self.apply_event(ClusterEvent::BrokerDown { broker })
    }

    /// Starts a stopped broker again: it listens on its address, catches up and rejoins ISRs.
    pub fn broker_up(&self, broker: BrokerId) -> Result<(), EventError> {
        self.apply_event(ClusterEvent::BrokerUp { broker })
    }

    /// Stops every broker: listeners close, connections end; returns when all tasks are done.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        while self.servers.join_next().await.is_some() {}
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}
