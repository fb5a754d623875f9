//! Ingest rate of librdkafka's producer (rust-rdkafka `BaseProducer`, 100-byte records, acks=1,
//! librdkafka's default batching) into an in-process ktrial [`MockCluster`] and, side by side in
//! the same run, into librdkafka's own `rdkafka::mocking::MockCluster`. Both clusters have 3
//! brokers and a topic of 6 partitions × 3 replicas. Target: ktrial at least 1.2× as fast.
//!
//! One iteration sends `RECORDS` records through a producer that stays connected across
//! iterations and polls until every one is acknowledged (a failed delivery aborts the bench).
//! It polls in 1 ms slices rather than calling `flush`: rust-rdkafka's `BaseProducer::flush`
//! polls in slices of up to 100 ms and `poll` returns only when its slice ends, so `flush` added
//! a constant ~100 ms to every iteration (80 % of it), the same for both clusters, and squeezed
//! any difference between them towards 1.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ktrial_mockbroker::MockCluster;
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};

const RECORDS: u64 = 50_000;
const RECORD_BYTES: usize = 100;
const BROKERS: i32 = 3;
const TOPIC: &str = "ingest";
const PARTITIONS: i32 = 6;
const REPLICATION: i16 = 3;
/// Longest wait for the acknowledgements of one iteration.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Slice of one `poll` while waiting for acknowledgements: the granularity of the end of an
/// iteration.
const POLL_SLICE: Duration = Duration::from_millis(1);

/// Counts deliveries; any failed delivery is a broken benchmark, not a slow one.
struct Deliveries(Arc<AtomicU64>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            panic!("delivery failed: {error}");
        }
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

struct Ingest {
    producer: BaseProducer<Deliveries>,
    delivered: Arc<AtomicU64>,
    value: Vec<u8>,
}

impl Ingest {
    fn new(bootstrap: &str) -> Self {
        let delivered = Arc::new(AtomicU64::new(0));
        let producer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("acks", "1")
            .create_with_context(Deliveries(Arc::clone(&delivered)))
            .unwrap();
        Ingest {
            producer,
            delivered,
            value: vec![b'v'; RECORD_BYTES],
        }
    }

    /// Sends `RECORDS` records and polls until all are acknowledged; panics on a failed
    /// delivery or after `ACK_TIMEOUT`.
    fn run(&self) {
        let before = self.delivered.load(Ordering::Relaxed);
        let deadline = Instant::now() + ACK_TIMEOUT;
        for _ in 0..RECORDS {
            let mut record = BaseRecord::<(), [u8]>::to(TOPIC).payload(&self.value[..]);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        self.producer.poll(Duration::from_millis(1));
                    }
                    Err((error, _)) => panic!("send: {error}"),
                }
            }
        }
        while self.delivered.load(Ordering::Relaxed) - before < RECORDS {
            assert!(
                Instant::now() < deadline,
                "records not acknowledged in time"
            );
            self.producer.poll(POLL_SLICE);
        }
        assert_eq!(self.delivered.load(Ordering::Relaxed) - before, RECORDS);
        assert_eq!(self.producer.in_flight_count(), 0);
    }
}

fn ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ktrial = runtime
        .block_on(
            MockCluster::builder()
                .brokers(BROKERS)
                .topic(TOPIC, PARTITIONS, REPLICATION)
                .start(),
        )
        .unwrap();
    let librdkafka = rdkafka::mocking::MockCluster::new(BROKERS).unwrap();
    librdkafka
        .create_topic(TOPIC, PARTITIONS, i32::from(REPLICATION))
        .unwrap();

    let mut group = c.benchmark_group("ingest: rdkafka BaseProducer, 100-byte records, acks=1");
    group.throughput(Throughput::Elements(RECORDS));
    group.sample_size(10);
    let to_ktrial = Ingest::new(ktrial.bootstrap_servers());
    group.bench_function("ktrial MockCluster", |b| b.iter(|| to_ktrial.run()));
    let to_librdkafka = Ingest::new(&librdkafka.bootstrap_servers());
    group.bench_function("librdkafka MockCluster", |b| b.iter(|| to_librdkafka.run()));
    group.finish();

    drop(to_ktrial);
    drop(to_librdkafka);
    runtime.block_on(ktrial.shutdown());
}

criterion_group!(benches, ingest);
criterion_main!(benches);
