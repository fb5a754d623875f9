//! The ingest workload both ingest benches share: rust-rdkafka's `BaseProducer` (100-byte
//! records without keys, acks=1, librdkafka's default batching) into an in-process ktrial
//! [`MockCluster`] and into librdkafka's own `rdkafka::mocking::MockCluster`, both with 3
//! brokers and a topic of 6 partitions × 3 replicas.
//!
//! One run sends `RECORDS` records through a producer that stays connected across runs and
//! polls until every one is acknowledged (a failed delivery aborts the bench). It polls in 1 ms
//! slices rather than calling `flush`: rust-rdkafka's `BaseProducer::flush` polls in slices of
//! up to 100 ms and `poll` returns only when its slice ends, so `flush` added a constant ~100 ms
//! to every run (80 % of it), the same for both clusters, and squeezed any difference between
//! them towards 1.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ktrial_mockbroker::MockCluster;
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};

/// Records per run.
pub const RECORDS: u64 = 50_000;
const RECORD_BYTES: usize = 100;
const BROKERS: i32 = 3;
const TOPIC: &str = "ingest";
const PARTITIONS: i32 = 6;
const REPLICATION: i16 = 3;
/// Longest wait for the acknowledgements of one run.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Slice of one `poll` while waiting for acknowledgements: the granularity of a run's end.
const POLL_SLICE: Duration = Duration::from_millis(1);
/// Name of ktrial's broker threads (the tokio runtime serving the in-process cluster).
pub const KTRIAL_THREADS: &str = "ktrial-broker";

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

/// A connected producer and its delivery count.
pub struct Ingest {
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
    pub fn run(&self) {
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

/// Both clusters with the same layout, and a producer connected to each.
pub struct Clusters {
    runtime: tokio::runtime::Runtime,
    ktrial: MockCluster,
    _librdkafka: rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    /// The producer into ktrial's cluster.
    pub to_ktrial: Ingest,
    /// The producer into librdkafka's mock cluster.
    pub to_librdkafka: Ingest,
}

impl Clusters {
    /// Starts both clusters and connects a producer to each.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(KTRIAL_THREADS)
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
        let to_ktrial = Ingest::new(ktrial.bootstrap_servers());
        let to_librdkafka = Ingest::new(&librdkafka.bootstrap_servers());
        Clusters {
            runtime,
            ktrial,
            _librdkafka: librdkafka,
            to_ktrial,
            to_librdkafka,
        }
    }

    /// Disconnects the producers and shuts ktrial's cluster down.
    pub fn stop(self) {
        drop(self.to_ktrial);
        drop(self.to_librdkafka);
        self.runtime.block_on(self.ktrial.shutdown());
    }
}
