//! The producer against librdkafka's mock cluster, a broker implementation not written here:
//! every record acknowledged, high watermarks add up, records read back by a real consumer in
//! send order per partition; then bad clusters and injected errors.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{TestCluster, assert_once_in_order, high_watermarks, read_back, value};
use ktrial_producer::{Producer, ProducerError, ProducerRecord};

async fn produce_all(
    bootstrap: &str,
    topic: &str,
    count: u64,
    extra: &[(&str, &str)],
) -> Vec<Result<ktrial_producer::RecordMetadata, ProducerError>> {
    let mut builder = Producer::builder().bootstrap_servers(bootstrap);
    for (k, v) in extra {
        builder = builder.set(*k, *v);
    }
    let producer = builder.build().await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_arrive_once_and_in_order_for_every_codec() {
    let cluster = TestCluster::rdkafka_mock(3);
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        cluster.create_topic(&topic, 4);
        let count = 20_000;
        let results = produce_all(
            &cluster.bootstrap(),
            &topic,
            count,
            &[("compression.type", codec)],
        )
        .await;
        assert!(
            results.iter().all(Result::is_ok),
            "{codec}: {:?}",
            results.iter().find(|r| r.is_err())
        );
        assert_eq!(
            high_watermarks(&cluster.bootstrap(), &topic, 4),
            count as i64,
            "{codec}"
        );
        let back = read_back(&cluster.bootstrap(), &topic, 4, count as usize);
        assert_once_in_order(&back, count);
    }
}
