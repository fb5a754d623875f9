//! rust-rdkafka (vendored librdkafka) against the in-process cluster: an idempotent producer
//! sends 10,000 keyed records over 6 partitions with each codec, every one is acknowledged, and
//! a consumer with assigned partitions reads each back exactly once, in order.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ktrial_mockbroker::MockCluster;
use ktrial_protocol::compression::Compression;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const TOPIC: &str = "orders";
const PARTITIONS: i32 = 6;
const RECORDS: usize = 10_000;

async fn roundtrip(codec: &str, compression: Compression) {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, PARTITIONS, 3)
        .start()
        .await
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("compression.type", codec)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let deliveries: Vec<_> = (0..RECORDS)
        .map(|i| {
            let key = format!("key-{}", i % 97);
            let value = format!("value-{i}");
            producer
                .send_result(FutureRecord::to(TOPIC).key(&key).payload(&value))
                .unwrap()
        })
        .collect();
    let mut acked: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for delivery in deliveries {
        let delivered = delivery.await.unwrap().map_err(|(e, _)| e).unwrap();
        acked
            .entry(delivered.partition)
            .or_default()
            .push(delivered.offset);
    }
    assert_eq!(acked.values().map(Vec::len).sum::<usize>(), RECORDS);
    assert_eq!(
        acked.len(),
        PARTITIONS as usize,
        "keys spread over every partition"
    );
    for (partition, offsets) in &acked {
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(
            offsets, &expected,
            "partition {partition}: acks in offset order, no gaps"
        );
        let records = cluster.records(TOPIC, *partition).unwrap();
        assert_eq!(records.len(), offsets.len());
        // librdkafka sends a batch uncompressed when compressing would not shrink it.
        assert!(records.iter().all(|r| r.producer_id >= 0
            && (r.batch.compression == compression || r.batch.compression == Compression::None)));
        assert!(records.iter().any(|r| r.batch.compression == compression));
        assert_eq!(
            cluster.high_watermark(TOPIC, *partition),
            Some(offsets.len() as i64)
        );
    }

    let bootstrap = cluster.bootstrap_servers().to_string();
    let consumed = tokio::task::spawn_blocking(move || consume(&bootstrap))
        .await
        .unwrap();
    let mut seen = vec![false; RECORDS];
    for (partition, records) in &consumed {
        let mut last_index_per_key: BTreeMap<String, usize> = BTreeMap::new();
        for (position, (offset, key, value)) in records.iter().enumerate() {
            assert_eq!(
                *offset, position as i64,
                "partition {partition}: offsets in order"
            );
            let index: usize = value.strip_prefix("value-").unwrap().parse().unwrap();
            assert_eq!(key, &format!("key-{}", index % 97));
            assert!(!seen[index], "record {index} consumed twice");
            seen[index] = true;
            if let Some(previous) = last_index_per_key.insert(key.clone(), index) {
                assert!(
                    previous < index,
                    "key {key}: record {index} after {previous}"
                );
            }
        }
    }
    assert!(seen.iter().all(|s| *s), "every record consumed");
    cluster.shutdown().await;
}

/// Reads every partition from the beginning until all records are in: `(offset, key, value)`
/// per partition, in consumption order.
fn consume(bootstrap: &str) -> BTreeMap<i32, Vec<(i64, String, String)>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        // librdkafka's assign() needs a group id, though no group protocol is used.
        .set("group.id", "ktrial-roundtrip")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment
            .add_partition_offset(TOPIC, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut out: BTreeMap<i32, Vec<(i64, String, String)>> = BTreeMap::new();
    let mut total = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while total < RECORDS {
        assert!(
            std::time::Instant::now() < deadline,
            "consumed only {total} records"
        );
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.unwrap();
        let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
        let value = String::from_utf8(message.payload().unwrap().to_vec()).unwrap();
        out.entry(message.partition())
            .or_default()
            .push((message.offset(), key, value));
        total += 1;
    }
    // Nothing more arrives: exactly once.
    assert!(consumer.poll(Duration::from_millis(500)).is_none());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_lz4() {
    roundtrip("lz4", Compression::Lz4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_gzip() {
    roundtrip("gzip", Compression::Gzip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_snappy() {
    roundtrip("snappy", Compression::Snappy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_zstd() {
    roundtrip("zstd", Compression::Zstd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_none() {
    roundtrip("none", Compression::None).await;
}
