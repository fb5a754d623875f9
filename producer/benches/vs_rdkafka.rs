//! Throughput against the same broker (librdkafka's mock cluster, in process): the ktrial
//! producer against rust-rdkafka's `BaseProducer` and `FutureProducer`, 100-byte records,
//! acks=1, the same linger and batch settings. A benchmark binary, not a test:
//! `cargo bench -p ktrial-producer --bench vs_rdkafka` (RECORDS and ROUNDS from the environment).

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ktrial_producer::{Producer, ProducerRecord};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{
    BaseProducer, BaseRecord, FutureProducer, FutureRecord, Producer as _, ProducerContext,
};

const RECORD_SIZE: usize = 100;
const PARTITIONS: i32 = 8;
/// Settings both clients get.
const COMMON: [(&str, &str); 4] = [
    ("acks", "1"),
    ("linger.ms", "5"),
    ("batch.size", "262144"),
    ("batch.num.messages", "10000"),
];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Counting(Arc<AtomicU64>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_ok() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn rdkafka_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for (k, v) in COMMON {
        config.set(k, v);
    }
    config.set("queue.buffering.max.messages", "1000000");
    config
}

fn base_producer(bootstrap: &str, topic: &str, records: u64) -> u64 {
    let delivered = Arc::new(AtomicU64::new(0));
    let producer: BaseProducer<Counting> = rdkafka_config(bootstrap)
        .create_with_context(Counting(delivered.clone()))
        .unwrap();
    let value = [b'x'; RECORD_SIZE];
    for i in 0..records {
        let mut record = BaseRecord::<(), [u8]>::to(topic).payload(&value[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => panic!("{e}"),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(120)).unwrap();
    delivered.load(Ordering::Relaxed)
}

async fn future_producer(bootstrap: &str, topic: &str, records: u64) -> u64 {
    let producer: FutureProducer = rdkafka_config(bootstrap).create().unwrap();
    let value = [b'x'; RECORD_SIZE];
    let mut pending = Vec::with_capacity(records as usize);
    for _ in 0..records {
        let mut record = FutureRecord::<(), [u8]>::to(topic).payload(&value[..]);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((e, _)) => panic!("{e}"),
            }
        }
    }
    let mut delivered = 0;
    for delivery in pending {
        if matches!(delivery.await, Ok(Ok(_))) {
            delivered += 1;
        }
    }
    delivered
}

async fn ktrial_producer(bootstrap: &str, topic: &str, records: u64, await_each: bool) -> u64 {
    let mut builder = Producer::builder()
        .bootstrap_servers(bootstrap)
        .set("enable.idempotence", "false");
    for (k, v) in COMMON {
        builder = builder.set(k, v);
    }
    let producer = builder.build().await.unwrap();
    let value = [b'x'; RECORD_SIZE];
    let mut pending = Vec::with_capacity(if await_each { records as usize } else { 0 });
    for _ in 0..records {
        let delivery = producer
            .send(ProducerRecord::new(topic).value(&value))
            .await
            .unwrap();
        if await_each {
            pending.push(delivery);
        }
    }
    producer.flush().await;
    let mut delivered = 0;
    for delivery in pending {
        if delivery.await.is_ok() {
            delivered += 1;
        }
    }
    let acked = producer.statistics().records_acked;
    producer.close(Duration::from_secs(30)).await.unwrap();
    if await_each { delivered } else { acked }
}

fn main() {
    let records = env_or("RECORDS", 1_000_000);
    let rounds = env_or("ROUNDS", 3);
    let cluster = MockCluster::new(1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut best: Vec<(&str, f64)> = Vec::new();
    let clients = [
        "ktrial (fire-and-forget + flush)",
        "ktrial (await every delivery future)",
        "rdkafka BaseProducer",
        "rdkafka FutureProducer",
    ];
    for round in 0..rounds {
        for (i, client) in clients.iter().enumerate() {
            let topic = format!("bench-{round}-{i}");
            cluster.create_topic(&topic, PARTITIONS, 1).unwrap();
            let started = Instant::now();
            let delivered = match i {
                0 => runtime.block_on(ktrial_producer(&bootstrap, &topic, records, false)),
                1 => runtime.block_on(ktrial_producer(&bootstrap, &topic, records, true)),
                2 => base_producer(&bootstrap, &topic, records),
                _ => runtime.block_on(future_producer(&bootstrap, &topic, records)),
            };
            let rate = delivered as f64 / started.elapsed().as_secs_f64();
            assert_eq!(delivered, records, "{client}: every record delivered");
            println!("round {round}: {client:40} {rate:>12.0} records/s");
            match best.iter_mut().find(|(c, _)| c == client) {
                Some((_, r)) => *r = r.max(rate),
                None => best.push((client, rate)),
            }
        }
    }
    println!("\nbest of {rounds} rounds, {records} records of {RECORD_SIZE} bytes, acks=1:");
    let base = best[2].1;
    let future = best[3].1;
    for (client, rate) in &best {
        println!(
            "{client:40} {rate:>12.0} records/s  {:>5.2}x BaseProducer  {:>5.2}x FutureProducer",
            rate / base,
            rate / future
        );
    }
}
