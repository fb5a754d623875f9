//! Shared by the integration tests: a broker to run against (librdkafka's mock cluster today;
//! the project's mock broker later, through the same functions) and a reader that consumes
//! partitions back with a real client (rust-rdkafka).

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{Offset, TopicPartitionList};

/// A cluster to test against: its bootstrap address and, for librdkafka's mock, the handle
/// that injects faults.
pub struct TestCluster {
    pub mock: MockCluster<'static, DefaultProducerContext>,
}

impl TestCluster {
    /// librdkafka's mock cluster with `brokers` brokers.
    pub fn rdkafka_mock(brokers: i32) -> Self {
        Self {
            mock: MockCluster::new(brokers).unwrap(),
        }
    }

    pub fn bootstrap(&self) -> String {
        self.mock.bootstrap_servers()
    }

    pub fn create_topic(&self, topic: &str, partitions: i32) {
        self.mock.create_topic(topic, partitions, 1).unwrap();
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
