//! The application's side: [`Producer`] and its builder. `send` picks the partition, appends the
//! record to the accumulator and returns a [`DeliveryFuture`]; the sender task does the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::accumulator::{Accumulator, AccumulatorConfig, AppendError, RecordRef};
use crate::config::ProducerConfig;
use crate::delivery::DeliveryFuture;
use crate::error::{ConfigError, ProducerError};
use crate::partitioner::StickyPartitions;
use crate::sender::Sender;
use crate::shared::{Inner, Shared, TopicView};
use crate::stats::Statistics;
use crate::transport::{self, TcpTransport, Transport, timeout_at};

/// Milliseconds since the Unix epoch, for record timestamps. Injectable so a simulation controls
/// wall-clock time too.
pub type WallClock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A record to send; borrowed, since its bytes are copied into a batch at once.
#[derive(Debug, Clone, Copy)]
pub struct ProducerRecord<'a> {
    /// The topic.
    pub topic: &'a str,
    /// An explicit partition (wins over the partitioner).
    pub partition: Option<i32>,
    /// The key.
    pub key: Option<&'a [u8]>,
    /// The value.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// CreateTime in ms; the wall clock when `None`.
    pub timestamp: Option<i64>,
}

impl<'a> ProducerRecord<'a> {
    /// A record for `topic` with no key, value or headers.
    pub fn new(topic: &'a str) -> Self {
        Self {
            topic,
            partition: None,
            key: None,
            value: None,
            headers: &[],
            timestamp: None,
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: &'a [u8]) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the value.
    pub fn value(mut self, value: &'a [u8]) -> Self {
        self.value = Some(value);
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the headers.
    pub fn headers(mut self, headers: &'a [(&'a str, Option<&'a [u8]>)]) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the timestamp.
    pub fn timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// Builds a [`Producer`] from Kafka properties, a transport and a wall clock.
pub struct ProducerBuilder {
    properties: BTreeMap<String, String>,
    transport: Arc<dyn Transport>,
    wall_clock: WallClock,
}

impl std::fmt::Debug for ProducerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerBuilder")
            .field("properties", &self.properties)
            .finish_non_exhaustive()
    }
}

impl ProducerBuilder {
    /// Sets a Kafka property (`acks`, `linger.ms`, …); checked by [`build`](Self::build).
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Sets `bootstrap.servers`.
    pub fn bootstrap_servers(self, servers: impl Into<String>) -> Self {
        self.set("bootstrap.servers", servers)
    }

    /// Connects through `transport` instead of TCP (e.g. a simulated network).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// Takes record timestamps from `clock` instead of the system clock.
    pub fn wall_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.wall_clock = Arc::new(clock);
        self
    }

    /// The configuration the properties make.
    pub fn config(&self) -> Result<ProducerConfig, ConfigError> {
        ProducerConfig::from_properties(&self.properties)
    }

    /// Checks the configuration and starts the sender task; must run inside a tokio runtime.
    /// Connecting happens in the background: an unreachable cluster shows as sends that time
    /// out, as with the Java producer.
    pub async fn build(self) -> Result<Producer, ProducerError> {
        let config = self.config()?;
        Ok(Producer::start(config, self.transport, self.wall_clock))
    }
}

/// An async Kafka producer. Cheap to clone; the last clone dropped lets the sender finish what
/// is buffered and stop.
///
/// ```
/// use std::time::Duration;
/// use ktrial_producer::{Producer, ProducerRecord};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Any Kafka cluster will do; here librdkafka's mock cluster, in process.
/// let cluster = rdkafka::mocking::MockCluster::new(1)?;
/// cluster.create_topic("events", 3, 1)?;
/// let producer = Producer::builder()
///     .bootstrap_servers(cluster.bootstrap_servers())
///     .set("acks", "all")
///     .build()
///     .await?;
/// // Sync: wait for the acknowledgement.
/// let record = ProducerRecord::new("events").key(b"user-1").value(b"hello");
/// let meta = producer.send(record).await?.await?;
/// assert_eq!(meta.offset, 0);
/// // Async: a callback (or spawn the delivery future).
/// producer
///     .send(ProducerRecord::new("events").value(b"x"))
///     .await?
///     .on_complete(|result| assert!(result.is_ok()));
/// // Fire-and-forget: drop the delivery future; close() still delivers it.
/// let _ = producer.send(ProducerRecord::new("events").value(b"y")).await?;
/// producer.close(Duration::from_secs(10)).await?;
/// assert_eq!(producer.statistics().records_acked, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Producer {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

struct Handle {
    shared: Arc<Shared>,
    wall_clock: WallClock,
    /// Times `send`'s and `close`'s waits.
    transport: Arc<dyn Transport>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.lock().acc.close();
        self.shared.shut_down();
    }
}

impl Producer {
    /// A builder with no properties set (Java defaults).
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder {
            properties: BTreeMap::new(),
            transport: Arc::new(TcpTransport),
            wall_clock: Arc::new(system_wall_clock),
        }
    }

    fn start(config: ProducerConfig, transport: Arc<dyn Transport>, wall_clock: WallClock) -> Self {
        let inner = Inner {
            acc: Accumulator::new(AccumulatorConfig::from(&config)),
            topics: BTreeMap::new(),
            wanted: BTreeSet::new(),
            sticky: StickyPartitions::new(config.batch_size),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            closed: false,
            abort: false,
        };
        let shared = Arc::new(Shared::new(config, inner));
        tokio::spawn(Sender::new(shared.clone(), Arc::clone(&transport)).run());
        Self {
            handle: Arc::new(Handle {
                shared,
                wall_clock,
                transport,
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// The configuration in force.
    pub fn config(&self) -> &ProducerConfig {
        &self.shared().config
    }

    /// Sends a record, waiting up to `max.block.ms` for topic metadata and buffer space. The
    /// returned future resolves with the delivery; dropping it is fire-and-forget.
    pub async fn send(&self, record: ProducerRecord<'_>) -> Result<DeliveryFuture, ProducerError> {
        // Fast path: no waiter registration unless the append is blocked.
        match self.try_append(&record) {
            Ok(delivery) => return Ok(delivery),
            Err(Blocked::Failed(e)) => return Err(e),
            Err(Blocked::Metadata(_) | Blocked::Memory) => {}
        }
        let started = Instant::now();
        let deadline = started + self.config().max_block;
        loop {
            let shared = self.shared();
            let space = shared.space_freed.notified();
            let metadata = shared.metadata_updated.notified();
            tokio::pin!(space, metadata);
            // Registered before trying again, so a wake-up in between is not lost.
            space.as_mut().enable();
            metadata.as_mut().enable();
            match self.try_append(&record) {
                Ok(delivery) => return Ok(delivery),
                Err(Blocked::Metadata(last_error)) => {
                    let timed_out = timeout_at(&*self.handle.transport, deadline, metadata)
                        .await
                        .is_err();
                    if timed_out {
                        return Err(ProducerError::MetadataTimeout {
                            topic: record.topic.to_string(),
                            waited: started.elapsed(),
                            last_error,
                        });
                    }
                }
                Err(Blocked::Memory) => {
                    shared.lock().acc.add_memory_waiter(1);
                    shared.wake_sender.notify_one();
                    let timed_out = timeout_at(&*self.handle.transport, deadline, space)
                        .await
                        .is_err();
                    shared.lock().acc.add_memory_waiter(-1);
                    if timed_out {
                        return Err(ProducerError::BufferExhausted {
                            waited: started.elapsed(),
                        });
                    }
                }
                Err(Blocked::Failed(e)) => return Err(e),
            }
        }
    }

    /// Sends a record without waiting: fails at once when the buffer is full or the topic's
    /// metadata is not known yet (it is fetched in the background).
    pub fn try_send(&self, record: ProducerRecord<'_>) -> Result<DeliveryFuture, ProducerError> {
        self.try_append(&record).map_err(|blocked| match blocked {
            Blocked::Metadata(last_error) => ProducerError::MetadataTimeout {
                topic: record.topic.to_string(),
                waited: Duration::ZERO,
                last_error,
            },
            Blocked::Memory => ProducerError::BufferExhausted {
                waited: Duration::ZERO,
            },
            Blocked::Failed(e) => e,
        })
    }

    fn try_append(&self, record: &ProducerRecord<'_>) -> Result<DeliveryFuture, Blocked> {
        let shared = self.shared();
        let timestamp = record
            .timestamp
            .unwrap_or_else(|| (self.handle.wall_clock)());
        let mut inner = shared.lock();
        if inner.closed {
            return Err(Blocked::Failed(ProducerError::Closed));
        }
        let count = match inner.topics.get(record.topic) {
            Some(TopicView::Known(count)) => *count,
            other => {
                let last_error = match other {
                    Some(TopicView::Failed(e)) => Some(*e),
                    _ => None,
                };
                if inner.wanted.insert(record.topic.to_string()) {
                    drop(inner);
                    shared.wake_sender.notify_one();
                }
                return Err(Blocked::Metadata(last_error));
            }
        };
        let state = &mut *inner;
        let (partition, sticky) = match record.partition {
            Some(p) if p < 0 || p >= count => {
                return Err(Blocked::Failed(ProducerError::UnknownPartition {
                    topic: record.topic.to_string(),
                    partition: p,
                    count,
                }));
            }
            Some(p) => (p, false),
            None => match shared
                .config
                .partitioner
                .partition_for_key(record.key, count)
            {
                Some(p) => (p, false),
                None => (
                    state.sticky.partition(record.topic, count, &mut state.rng),
                    true,
                ),
            },
        };
        let appended = state.acc.append(
            record.topic,
            partition,
            RecordRef {
                timestamp,
                key: record.key,
                value: record.value,
                headers: record.headers,
            },
            Instant::now(),
        );
        let appended = match appended {
            Ok(appended) => appended,
            Err(AppendError::BufferFull { .. }) => return Err(Blocked::Memory),
            Err(e) => return Err(Blocked::Failed(e.into())),
        };
        if sticky {
            state
                .sticky
                .record_appended(record.topic, appended.size, count, &mut state.rng);
        }
        crate::stats::Stats::add(&shared.stats.records_sent, 1);
        let wake = appended.batch_ready || appended.offset_delta == 0;
        let delivery =
            DeliveryFuture::pending(appended.completion, appended.offset_delta, timestamp);
        drop(inner);
        if wake {
            shared.wake_sender.notify_one();
        }
        Ok(delivery)
    }

    /// Makes everything buffered sendable now and waits until all of it is delivered or failed.
    pub async fn flush(&self) {
        let completions = self.shared().lock().acc.begin_flush();
        self.shared().wake_sender.notify_one();
        for completion in completions {
            completion.done().await;
        }
    }

    /// Stops taking records, delivers everything buffered within `timeout`, then stops the
    /// sender. What is not delivered by then fails with [`ProducerError::Closed`].
    pub async fn close(&self, timeout: Duration) -> Result<(), ProducerError> {
        let completions = {
            let mut inner = self.shared().lock();
            inner.closed = true;
            inner.acc.close();
            inner.acc.begin_flush()
        };
        self.shared().wake_sender.notify_one();
        let all_done = async {
            for completion in &completions {
                completion.done().await;
            }
        };
        let result = transport::timeout(&*self.handle.transport, timeout, all_done).await;
        if result.is_err() {
            self.shared().lock().abort = true;
        }
        self.shared().shut_down();
        match result {
            Ok(()) => Ok(()),
            Err(_) => Err(ProducerError::Closed),
        }
    }

    /// The statistics so far.
    pub fn statistics(&self) -> Statistics {
        let used = self.shared().lock().acc.used_bytes();
        self.shared()
            .stats
            .snapshot(used, self.shared().config.buffer_memory)
    }
}

enum Blocked {
    Metadata(Option<ktrial_protocol::ResponseError>),
    Memory,
    Failed(ProducerError),
}
