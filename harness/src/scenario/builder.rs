//! The Rust front end of the scenario model, for `cargo test` in other projects: the same
//! [`Scenario`] a TOML file gives, built in code and checked by the same rules.

use std::path::Path;

use ktrial_mockbroker::{ClusterEvent, FaultRule};

use super::load::{LoadError, check};
use super::model::{
    ClusterSpec, Expect, Expectations, Faults, NetworkFault, PropertyValue, Scenario,
    ScenarioEvent, SendMode, TopicSpec, Workload,
};

/// Builds a [`Scenario`].
///
/// ```
/// use ktrial_harness::{ApiKey, Expect, FaultRule, Scenario, SendMode, run};
///
/// let scenario = Scenario::builder("retries-keep-order")
///     .brokers(3)
///     .topic("orders", 3, 3)
///     .producer("acks", "all")
///     .producer("enable.idempotence", "true")
///     .workload("orders", 300)
///     .keys(10)
///     .mode(SendMode::Async)
///     .fault(FaultRule::on(ApiKey::Produce).nth(4).lose_response())
///     .expect_no_loss(Expect::Holds)
///     .expect_no_duplicates(Expect::Holds)
///     .expect_ordered(Expect::Holds)
///     .build()?;
/// let report = run(&scenario, 7)?;
/// assert!(report.passed(), "{:?}", report.verdicts);
/// assert_eq!(report.findings.acked, 300);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    scenario: Scenario,
}

impl Scenario {
    /// A builder for a scenario named `name`: one broker, no topics, 100 records to `topic`
    /// until [`ScenarioBuilder::workload`] says otherwise.
    pub fn builder(name: &str) -> ScenarioBuilder {
        ScenarioBuilder {
            scenario: Scenario {
                name: name.to_string(),
                description: String::new(),
                seed: 0,
                cluster: ClusterSpec::default(),
                producer: Default::default(),
                workload: Workload {
                    topic: "topic".into(),
                    records: 100,
                    keys: 0,
                    value_size: 100,
                    mode: SendMode::default(),
                    rate: None,
                    flush_every: None,
                },
                faults: Faults::default(),
                expect: Expectations::default(),
                client: Default::default(),
            },
        }
    }
}

impl ScenarioBuilder {
    /// One line on what the scenario shows.
    pub fn description(mut self, text: &str) -> Self {
        self.scenario.description = text.to_string();
        self
    }

    /// The seed of every random choice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.scenario.seed = seed;
        self
    }

    /// Brokers in the cluster.
    pub fn brokers(mut self, brokers: u32) -> Self {
        self.scenario.cluster.brokers = brokers;
        self
    }

    /// A topic created before the workload starts.
    pub fn topic(mut self, name: &str, partitions: u32, replication: u32) -> Self {
        self.scenario.cluster.topics.push(TopicSpec {
            name: name.to_string(),
            partitions,
            replication,
        });
        self
    }

    /// `min.insync.replicas` of every topic.
    pub fn min_insync_replicas(mut self, replicas: u32) -> Self {
        self.scenario.cluster.min_insync_replicas = replicas;
        self
    }

    /// `auto.create.topics.enable`.
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.scenario.cluster.auto_create_topics = enabled;
        self
    }

    /// A producer property, by its Kafka name.
    pub fn producer(mut self, key: &str, value: &str) -> Self {
        self.scenario
            .producer
            .insert(key.to_string(), PropertyValue(value.to_string()));
        self
    }

    /// The workload's topic and record count.
    pub fn workload(mut self, topic: &str, records: u64) -> Self {
        self.scenario.workload.topic = topic.to_string();
        self.scenario.workload.records = records;
        self
    }

    /// Distinct keys (0: null keys).
    pub fn keys(mut self, keys: u64) -> Self {
        self.scenario.workload.keys = keys;
        self
    }

    /// Bytes per value.
    pub fn value_size(mut self, bytes: usize) -> Self {
        self.scenario.workload.value_size = bytes;
        self
    }

    /// How records are sent.
    pub fn mode(mut self, mode: SendMode) -> Self {
        self.scenario.workload.mode = mode;
        self
    }

    /// Records per simulated second.
    pub fn rate(mut self, records_per_second: f64) -> Self {
        self.scenario.workload.rate = Some(records_per_second);
        self
    }

    /// `flush()` after every this many records.
    pub fn flush_every(mut self, records: u64) -> Self {
        self.scenario.workload.flush_every = Some(records);
        self
    }

    /// A fault-plan rule.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.scenario.faults.rules.push(rule);
        self
    }

    /// A cluster event at a simulated time.
    pub fn event_at(mut self, at_ms: u64, event: ClusterEvent) -> Self {
        self.scenario.faults.events.push(ScenarioEvent {
            at_ms: Some(at_ms),
            after_acked: None,
            event,
        });
        self
    }

    /// A cluster event once `acked` records have been acknowledged.
    pub fn event_after_acked(mut self, acked: u64, event: ClusterEvent) -> Self {
        self.scenario.faults.events.push(ScenarioEvent {
            at_ms: None,
            after_acked: Some(acked),
            event,
        });
        self
    }

    /// A fault of the simulated network.
    pub fn network(mut self, fault: NetworkFault) -> Self {
        self.scenario.faults.network.push(fault);
        self
    }

    /// Every acknowledged record must be (or must be found not to be) in the log.
    pub fn expect_no_loss(mut self, expect: Expect) -> Self {
        self.scenario.expect.no_loss = expect;
        self
    }

    /// No record stored twice.
    pub fn expect_no_duplicates(mut self, expect: Expect) -> Self {
        self.scenario.expect.no_duplicates = expect;
        self
    }

    /// Per partition, send order kept.
    pub fn expect_ordered(mut self, expect: Expect) -> Self {
        self.scenario.expect.ordered = expect;
        self
    }

    /// Per key, send order kept.
    pub fn expect_ordered_per_key(mut self, expect: Expect) -> Self {
        self.scenario.expect.ordered_per_key = expect;
        self
    }

    /// Batches within the producer's bounds.
    pub fn expect_batch_bounds(mut self, expect: Expect) -> Self {
        self.scenario.expect.batch_bounds = expect;
        self
    }

    /// What acks promises.
    pub fn expect_acks_semantics(mut self, expect: Expect) -> Self {
        self.scenario.expect.acks_semantics = expect;
        self
    }

    /// Every record acknowledged.
    pub fn expect_all_delivered(mut self, expect: Expect) -> Self {
        self.scenario.expect.all_delivered = expect;
        self
    }

    /// The scenario, checked by the same rules as a file (`<builder>` stands for the file name).
    pub fn build(self) -> Result<Scenario, LoadError> {
        check(&self.scenario, Path::new("<builder>"))?;
        Ok(self.scenario)
    }
}
