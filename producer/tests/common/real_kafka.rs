//! Real Apache Kafka for the producer's tests: a cluster started by `scripts/real-kafka.sh`
//! (stopped by a drop guard, and by the script's `--watch-pid` if this process dies without
//! unwinding) or, for single-broker tests, an external one named by `KTRIAL_REAL_KAFKA_BOOTSTRAP`.
//! Topics are created with rust-rdkafka's admin client.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

#[path = "../../../scripts/real_kafka_cluster.rs"]
mod script;

use script::ScriptCluster;

/// Set to `1` to skip every real-Kafka test (each prints that it was skipped).
pub const SKIP_VAR: &str = "KTRIAL_NO_REAL_KAFKA";

/// True (after printing why) when `KTRIAL_NO_REAL_KAFKA=1` asks to skip `test`.
pub fn skipped(test: &str) -> bool {
    let skip = std::env::var(SKIP_VAR).as_deref() == Ok("1");
    if skip {
        println!("{test}: SKIPPED, {SKIP_VAR}=1 (nothing ran against real Kafka)");
    }
    skip
}

/// A running real Kafka cluster; stopped on drop if this process started it.
pub struct RealKafka {
    bootstrap: String,
    brokers: i32,
    /// Node ids ended by [`Self::kill_broker`].
    killed: Mutex<BTreeSet<i32>>,
    /// The cluster when this process started it; `None` for an external one.
    started: Option<ScriptCluster>,
    /// Makes topic names unique, so that an external cluster can be reused across runs.
    run_id: String,
}

impl RealKafka {
    /// With one broker, uses `KTRIAL_REAL_KAFKA_BOOTSTRAP` if set; otherwise starts `brokers`
    /// nodes with the script (a multi-broker test kills brokers, so it always has its own
    /// cluster). Panics with the script's reason if they do not start.
    pub fn start(brokers: i32) -> Self {
        let unique = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let run_id = format!("{}-{}", std::process::id(), unique % 1_000_000_000);
        if let Some(bootstrap) = std::env::var("KTRIAL_REAL_KAFKA_BOOTSTRAP")
            .ok()
            .filter(|_| brokers == 1)
        {
            return Self {
                bootstrap,
                brokers,
                killed: Mutex::default(),
                started: None,
                run_id,
            };
        }
        let cluster =
            ScriptCluster::start(&format!("ktrial-producer-real-kafka-{run_id}"), brokers)
                .unwrap_or_else(|e| panic!("{e}"));
        Self {
            bootstrap: cluster.bootstrap().to_string(),
            brokers,
            killed: Mutex::default(),
            started: Some(cluster),
            run_id,
        }
    }

    /// `host:port` of every broker, comma-separated.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// [`Self::bootstrap`] without the brokers killed: a client given a dead bootstrap broker
    /// reports connection errors (rust-rdkafka's consumer surfaces them from `poll`).
    pub fn live_bootstrap(&self) -> String {
        let killed = self.killed.lock().unwrap();
        // The script lists the brokers in node id order, from 1.
        self.bootstrap
            .split(',')
            .zip(1..)
            .filter(|(_, id)| !killed.contains(id))
            .map(|(addr, _)| addr)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `base` made unique to this run.
    pub fn topic_name(&self, base: &str) -> String {
        format!("{base}-{}", self.run_id)
    }

    /// Creates `topic` replicated on every broker, with `min.insync.replicas` = 2 when there
    /// are at least 3 brokers (so that acks=all survives one broker down), and waits until
    /// every partition's leader serves it.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        self.create_topic_unready(topic, partitions);
        self.await_leaders(topic, partitions);
    }

    /// [`Self::create_topic`] without waiting for the leaders: CreateTopics has answered, but a
    /// leader may still answer NOT_LEADER_OR_FOLLOWER until it has applied the new metadata.
    pub fn create_topic_unready(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("admin client");
        let min_isr = if self.brokers >= 3 { "2" } else { "1" };
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(self.brokers))
            .set("min.insync.replicas", min_isr);
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results =
            futures::executor::block_on(admin.create_topics([&new_topic], &options)).unwrap();
        for result in results {
            result.unwrap_or_else(|(name, code)| panic!("create topic {name}: {code}"));
        }
    }

    /// Waits (up to 30 s) until the leader of every partition answers ListOffsets.
    fn await_leaders(&self, topic: &str, partitions: i32) {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("consumer");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for p in 0..partitions {
            while let Err(e) = consumer.fetch_watermarks(topic, p, Duration::from_secs(5)) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{topic}-{p} has no serving leader after 30 s: {e}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Ends broker `node_id` (its `node.id`, as Metadata names it) with SIGKILL; only a cluster
    /// this process started can be killed.
    pub fn kill_broker(&self, node_id: i32) {
        self.started
            .as_ref()
            .expect("only a cluster this process started can have a broker killed")
            .signal_broker("kill-broker", node_id)
            .unwrap_or_else(|e| panic!("{e}"));
        self.killed.lock().unwrap().insert(node_id);
    }
}
