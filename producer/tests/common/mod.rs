//! Shared by the integration tests: a broker to run against (librdkafka's mock cluster, the
//! project's own mock broker or real Kafka, through the same functions), a reader that consumes
//! partitions back with a real client (rust-rdkafka), and the end-to-end run every broker must pass.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use ktrial_producer::{Producer, ProducerError, ProducerRecord, RecordMetadata};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster as RdkafkaMock;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{Offset, TopicPartitionList};

pub mod real_kafka;

/// A cluster to test against: librdkafka's mock (a broker not written here), ktrial's, or real
/// Kafka.
pub enum TestCluster {
    /// librdkafka's mock cluster, whose handle injects librdkafka's faults.
    Rdkafka(RdkafkaMock<'static, DefaultProducerContext>),
    /// The project's mock broker, with its replication model and fault plan.
    Ktrial(ktrial_mockbroker::MockCluster),
    /// Real Apache Kafka (`scripts/real-kafka.sh`), stopped when dropped.
    Real(real_kafka::RealKafka),
}

impl TestCluster {
    /// librdkafka's mock cluster with `brokers` brokers.
    pub fn rdkafka_mock(brokers: i32) -> Self {
        Self::Rdkafka(RdkafkaMock::new(brokers).unwrap())
    }

    /// ktrial's mock broker with `brokers` brokers, started from `builder` (topics and faults
    /// may be set there or added later).
    pub async fn ktrial(builder: ktrial_mockbroker::MockClusterBuilder, brokers: i32) -> Self {
        Self::Ktrial(builder.brokers(brokers).start().await.unwrap())
    }

    /// Real Kafka with `brokers` brokers (or `KTRIAL_REAL_KAFKA_BOOTSTRAP`).
    pub fn real_kafka(brokers: i32) -> Self {
        Self::Real(real_kafka::RealKafka::start(brokers))
    }

    /// The librdkafka mock's handle (panics on ktrial's broker).
    pub fn rdkafka(&self) -> &RdkafkaMock<'static, DefaultProducerContext> {
        match self {
            Self::Rdkafka(mock) => mock,
            Self::Ktrial(_) | Self::Real(_) => panic!("not librdkafka's mock"),
        }
    }

    /// ktrial's cluster handle (panics on librdkafka's mock).
    pub fn ktrial_handle(&self) -> &ktrial_mockbroker::MockCluster {
        match self {
            Self::Ktrial(cluster) => cluster,
            Self::Rdkafka(_) | Self::Real(_) => panic!("not ktrial's mock broker"),
        }
    }

    pub fn bootstrap(&self) -> String {
        match self {
            Self::Rdkafka(mock) => mock.bootstrap_servers(),
            Self::Ktrial(cluster) => cluster.bootstrap_servers().to_string(),
            Self::Real(kafka) => kafka.bootstrap().to_string(),
        }
    }

    /// `base` as a topic name here: made unique to the run on real Kafka, which may be reused.
    pub fn topic_name(&self, base: &str) -> String {
        match self {
            Self::Real(kafka) => kafka.topic_name(base),
            Self::Rdkafka(_) | Self::Ktrial(_) => base.to_string(),
        }
    }

    /// Creates a topic with `partitions` partitions, replicated on every broker of ktrial's
    /// cluster (so that elections and a broker going down lose nothing), once on librdkafka's.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        match self {
            Self::Rdkafka(mock) => mock.create_topic(topic, partitions, 1).unwrap(),
            Self::Real(kafka) => kafka.create_topic(topic, partitions),
            Self::Ktrial(cluster) => {
                let model = cluster.model();
                let now = model.now();
                model
                    .update(now, |c| {
                        let replicas = c.brokers().len() as i16;
                        c.create_topic(topic, partitions, replicas, Default::default(), now)
                    })
                    .unwrap();
            }
        }
    }

    /// Sum of the high watermarks of `topic`'s partitions.
    /// Creates `topic` with `partitions` and builds a producer bootstrapped here, with `extra`
    /// properties.
    pub async fn producer(
        &self,
        topic: &str,
        partitions: i32,
        extra: &[(&str, &str)],
    ) -> ktrial_producer::Producer {
        self.create_topic(topic, partitions);
        builder(&self.bootstrap(), extra)
            .build()
            .await
            .expect("producer builds")
    }

    pub fn high_watermarks(&self, topic: &str, partitions: i32) -> i64 {
        match self {
            Self::Rdkafka(_) | Self::Real(_) => {
                high_watermarks(&self.bootstrap(), topic, partitions)
            }
            Self::Ktrial(cluster) => (0..partitions)
                .map(|p| cluster.high_watermark(topic, p).unwrap())
                .sum(),
        }
    }

    /// The values of every partition of `topic`, in offset order: consumed back with a real
    /// client from librdkafka's mock and real Kafka, read from the log of ktrial's.
    pub fn read_back(&self, topic: &str, partitions: i32, expected: usize) -> Vec<Vec<Vec<u8>>> {
        match self {
            Self::Rdkafka(_) | Self::Real(_) => {
                read_back(&self.bootstrap(), topic, partitions, expected)
            }
            Self::Ktrial(cluster) => (0..partitions)
                .map(|p| {
                    cluster
                        .records(topic, p)
                        .unwrap()
                        .into_iter()
                        .map(|r| r.value.unwrap().to_vec())
                        .collect()
                })
                .collect(),
        }
    }
}

/// Sends one record to `topic` and waits for it: metadata and connections are then in place.
pub async fn warm(producer: &ktrial_producer::Producer, topic: &str) {
    producer
        .send(ktrial_producer::ProducerRecord::new(topic).value(b"warm"))
        .await
        .expect("accepted")
        .await
        .expect("delivered");
}

/// A producer builder on `bootstrap` with the given properties.
pub fn builder(bootstrap: &str, extra: &[(&str, &str)]) -> ktrial_producer::ProducerBuilder {
    let mut builder = Producer::builder().bootstrap_servers(bootstrap);
    for (k, v) in extra {
        builder = builder.set(*k, *v);
    }
    builder
}

/// Sends `count` records (keys cycling over 97 values, values [`value`]`(seq, 24)`), flushes,
/// and returns every delivery result in send order.
pub async fn produce_all(
    bootstrap: &str,
    topic: &str,
    count: u64,
    extra: &[(&str, &str)],
) -> Vec<Result<RecordMetadata, ProducerError>> {
    let producer = builder(bootstrap, extra).build().await.unwrap();
    let mut deliveries = Vec::with_capacity(count as usize);
    for seq in 0..count {
        let key = (seq % 97).to_string();
        let v = value(seq, 24);
        let record = ProducerRecord::new(topic).key(key.as_bytes()).value(&v);
        deliveries.push(producer.send(record).await.unwrap());
    }
    producer.flush().await;
    let mut results = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        results.push(d.await);
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
    results
}

/// The end-to-end runs of every broker: one million records uncompressed and 20,000 for each
/// codec in the default test run; `KTRIAL_RECORDS_PER_CODEC=N` gives every codec N records
/// (`.ci/run` runs one million per codec in a release build).
pub fn every_codec() -> Vec<(&'static str, u64)> {
    let all = std::env::var("KTRIAL_RECORDS_PER_CODEC").ok().map(|n| {
        n.parse::<u64>()
            .expect("KTRIAL_RECORDS_PER_CODEC is a count")
    });
    [
        ("none", 1_000_000),
        ("gzip", 20_000),
        ("snappy", 20_000),
        ("lz4", 20_000),
        ("zstd", 20_000),
    ]
    .into_iter()
    .map(|(codec, count)| (codec, all.unwrap_or(count)))
    .collect()
}

/// For each `(codec, count)`: `count` records produced to a fresh topic of `partitions`
/// partitions, every one acknowledged, the high watermarks adding up to `count`, and the
/// records read back once each, in send order per partition.
pub async fn assert_every_codec_arrives_once_in_order(
    cluster: &TestCluster,
    partitions: i32,
    runs: &[(&str, u64)],
) {
    for &(codec, count) in runs {
        let topic = cluster.topic_name(&format!("codec-{codec}"));
        cluster.create_topic(&topic, partitions);
        let results = produce_all(
            &cluster.bootstrap(),
            &topic,
            count,
            // Large batches: librdkafka's mock answers a Fetch with one batch per partition.
            &[
                ("compression.type", codec),
                ("batch.size", "262144"),
                ("linger.ms", "20"),
            ],
        )
        .await;
        assert!(
            results.iter().all(Result::is_ok),
            "{codec}: {:?}",
            results.iter().find(|r| r.is_err())
        );
        assert_eq!(
            cluster.high_watermarks(&topic, partitions),
            count as i64,
            "{codec}"
        );
        let back = cluster.read_back(&topic, partitions, count as usize);
        assert_once_in_order(&back, count);
    }
}

/// Reads every partition of `topic` from the start until `expected` records arrived in total
/// (or 60 s passed); returns the values per partition, in offset order.
pub fn read_back(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expected: usize,
) -> Vec<Vec<Vec<u8>>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "ktrial-read-back")
        .set("enable.auto.commit", "false")
        .set("fetch.message.max.bytes", "10485760")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    // Know the partitions before assigning them, or the first polls report them unknown.
    consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut out = vec![Vec::new(); partitions as usize];
    let mut seen = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen < expected && std::time::Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                out[message.partition() as usize].push(message.payload().unwrap_or(&[]).to_vec());
                seen += 1;
            }
            Some(Err(e)) => panic!("consumer error: {e}"),
            None => {}
        }
    }
    out
}

/// Sum of the high watermarks of `topic`'s partitions.
pub fn high_watermarks(bootstrap: &str, topic: &str, partitions: i32) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum()
}

/// The record value used by the ordering tests: a sequence number, padded to `size` bytes.
pub fn value(seq: u64, size: usize) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.resize(size.max(8), b'x');
    v
}

/// The sequence number in a value made by [`value`].
pub fn seq_of(value: &[u8]) -> u64 {
    u64::from_be_bytes(value[..8].try_into().unwrap())
}

/// Asserts each partition holds strictly increasing sequence numbers and that together they
/// are exactly `0..count`, once each.
pub fn assert_once_in_order(partitions: &[Vec<Vec<u8>>], count: u64) {
    for (p, values) in partitions.iter().enumerate() {
        let seqs: Vec<u64> = values.iter().map(|v| seq_of(v)).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "partition {p} is out of send order"
        );
    }
    assert_once(partitions, count);
}

/// Asserts the partitions together hold exactly `0..count`, once each.
pub fn assert_once(partitions: &[Vec<Vec<u8>>], count: u64) {
    let mut all: Vec<u64> = partitions.iter().flatten().map(|v| seq_of(v)).collect();
    all.sort_unstable();
    assert_eq!(all.len() as u64, count, "records read back");
    assert!(
        all.iter().copied().eq(0..count),
        "every record exactly once"
    );
}
