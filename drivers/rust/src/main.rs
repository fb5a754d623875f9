//! The librdkafka driver of ktrial (docs/drivers.md), through rust-rdkafka's `ThreadedProducer`:
//! properties are librdkafka configuration properties (most portable names are librdkafka's own
//! or its aliases; `max.request.size` is `message.max.bytes`), `native` is any librdkafka
//! property. rust-rdkafka's polling thread serves the delivery reports as they come; flushes call
//! librdkafka's own `rd_kafka_flush` with the real timeout, which (unlike rust-rdkafka's
//! `Producer::flush`, a loop of `rd_kafka_flush(rk, 0)` and 100 ms polls) makes lingering
//! batches sendable at once, as librdkafka documents and as C, kcat and confluent-kafka users get.

#[path = "contract.rs"]
mod contract;

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use contract::{Fatal, Input, Mode, Reporter};
use rdkafka::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

/// Portable property → librdkafka property.
const PROPERTIES: [(&str, &str); 15] = [
    ("acks", "acks"),
    ("linger.ms", "linger.ms"),
    ("batch.size", "batch.size"),
    ("batch.num.messages", "batch.num.messages"),
    ("max.request.size", "message.max.bytes"),
    ("max.in.flight.requests.per.connection", "max.in.flight.requests.per.connection"),
    ("retries", "retries"),
    ("retry.backoff.ms", "retry.backoff.ms"),
    ("retry.backoff.max.ms", "retry.backoff.max.ms"),
    ("enable.idempotence", "enable.idempotence"),
    ("compression.type", "compression.type"),
    ("request.timeout.ms", "request.timeout.ms"),
    ("delivery.timeout.ms", "delivery.timeout.ms"),
    ("client.id", "client.id"),
    ("metadata.max.age.ms", "metadata.max.age.ms"),
];

/// The longest the warm-up before the started line may take; then the driver carries on.
const WARM_UP: Duration = Duration::from_secs(10);

/// librdkafka's default `message.timeout.ms` (its delivery timeout).
const DEFAULT_DELIVERY_TIMEOUT_MS: u64 = 300_000;

struct Context {
    reporter: Arc<Reporter>,
    quiet: bool,
    /// Set when librdkafka says the idempotent producer has its id (an `eos` debug line).
    pid: Arc<(Mutex<bool>, Condvar)>,
}

impl ClientContext for Context {
    /// librdkafka's log lines are dropped as before (rust-rdkafka's default hands them to the `log`
    /// crate, which has no logger here), but for the one that says the idempotent producer has its
    /// id: "IDEMPSTATE [thrd:main]: Idempotent producer state change WaitPID -> Assigned", logged
    /// with `debug=eos` (set in `main`).
    fn log(&self, _level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if fac == "IDEMPSTATE" && log_message.ends_with("-> Assigned") {
            let (acquired, changed) = &*self.pid;
            *acquired.lock().unwrap_or_else(PoisonError::into_inner) = true;
            changed.notify_all();
        }
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, id: Box<u64>) {
        if self.quiet {
            return;
        }
        match result {
            Ok(message) => self.reporter.ack(*id, message.partition(), message.offset()),
            Err((error, _)) => self.reporter.fail(*id, &error.to_string()),
        }
    }
}

/// The configuration, and where each librdkafka name came from (for errors).
fn configure(input: &Input) -> Result<(ClientConfig, Vec<(String, String, &'static str)>, u64), Fatal> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &input.bootstrap_servers);
    let mut origin = Vec::new();
    let mut delivery_ms = DEFAULT_DELIVERY_TIMEOUT_MS;
    for (name, value) in &input.properties {
        let Some((_, target)) = PROPERTIES.iter().find(|(p, _)| p == name) else {
            return Err(Fatal::property(
                name,
                format!("{name}: not a property the librdkafka driver maps (docs/drivers.md); librdkafka properties go in native"),
            ));
        };
        config.set(*target, value);
        origin.push((target.to_string(), name.clone(), "properties"));
        if *target == "request.timeout.ms" {
            // Kafka's request.timeout.ms is how long the client waits for an answer; librdkafka's
            // is only the ack timeout it asks of the broker, and it waits socket.timeout.ms
            // (60 s by default) for the answer itself (CONFIGURATION.md). Both, then.
            config.set("socket.timeout.ms", value);
            origin.push(("socket.timeout.ms".to_string(), name.clone(), "properties"));
        }
        if *target == "delivery.timeout.ms" {
            delivery_ms = value.parse().unwrap_or(delivery_ms);
        }
    }
    for (name, value) in &input.native {
        config.set(name, value);
        origin.push((name.clone(), name.clone(), "native"));
        if name == "delivery.timeout.ms" || name == "message.timeout.ms" {
            delivery_ms = value.parse().unwrap_or(delivery_ms);
        }
    }
    Ok((config, origin, delivery_ms))
}

/// The given property a librdkafka error names (quoted, or with backquotes).
fn blame(message: &str, origin: &[(String, String, &'static str)]) -> Fatal {
    let named = origin
        .iter()
        .filter(|(target, _, _)| {
            message.contains(&format!("\"{target}\"")) || message.contains(&format!("`{target}`"))
        })
        .max_by_key(|(target, _, _)| target.len())
        .or_else(|| {
            origin
                .iter()
                .filter(|(target, _, _)| message.contains(target.as_str()))
                .max_by_key(|(target, _, _)| target.len())
        });
    let mut fatal = Fatal::property("", format!("librdkafka: {message}"));
    fatal.property = named.map(|(_, given, _)| given.clone());
    if let Some((_, _, within)) = named {
        fatal.within = within;
    }
    fatal
}

fn main() {
    let input = contract::read_input().unwrap_or_else(|f| f.exit());
    let (mut config, origin, delivery_ms) = configure(&input).unwrap_or_else(|f| f.exit());
    // librdkafka's idempotent producer asks for its id only 500 ms after it is created (its PID
    // timer: no broker is up that early) and holds every record until it has one; librdkafka has
    // no call that says it has, but its `eos` debug context logs it (`Context::log`), so the
    // warm-up can wait for it.
    let idempotent = config
        .get("enable.idempotence")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if idempotent {
        let debug = match config.get("debug").map(str::trim) {
            Some(d) if d.split(',').any(|c| matches!(c.trim(), "eos" | "all")) => d.to_string(),
            Some(d) if !d.is_empty() => format!("{d},eos"),
            _ => "eos".to_string(),
        };
        config.set("debug", debug);
        // rust-rdkafka passes on only the levels the `log` crate's logger takes (none here).
        config.set_log_level(RDKafkaLogLevel::Debug);
    }
    let pid = Arc::new((Mutex::new(false), Condvar::new()));
    let reporter = Arc::new(Reporter::new(
        input.properties.get("acks").is_some_and(|a| a == "0")
            || input.native.get("acks").is_some_and(|a| a == "0"),
    ));
    let context = Context {
        reporter: Arc::clone(&reporter),
        quiet: input.mode == Mode::FireAndForget,
        pid: Arc::clone(&pid),
    };
    let producer: ThreadedProducer<Context> = match config.create_with_context(context) {
        Ok(p) => p,
        Err(KafkaError::ClientCreation(message)) => blame(&message, &origin).exit(),
        Err(e) => blame(&e.to_string(), &origin).exit(),
    };
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let version = format!("rust-rdkafka 0.39.0 (librdkafka {librdkafka})");
    let grace = contract::grace(delivery_ms);

    warm_up(&producer, &input.topic, idempotent.then_some(&*pid));
    contract::started("librdkafka", &version);
    let start = contract::start();
    let mut sent = 0;
    for id in 0..input.records {
        if let Some(rate) = input.rate {
            let due = start + Duration::from_secs_f64(id as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let value = contract::value_of(id, input.value_size);
        let key = contract::key_of(id, input.keys);
        sent += 1;
        let mut record: BaseRecord<'_, [u8], [u8], Box<u64>> =
            BaseRecord::with_opaque_to(&input.topic, Box::new(id)).payload(&value[..]);
        if let Some(key) = &key {
            record = record.key(&key[..]);
        }
        // A full queue is librdkafka's back-pressure: wait for the polling thread and try again.
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((error, _)) => {
                    reporter.fail(id, &error.to_string());
                    break;
                }
            }
        }
        if input.mode == Mode::Sync && !reporter.wait_for(id, Instant::now() + grace) {
            eprintln!("driver: record {id} not reported within {grace:?}; stopping");
            break;
        }
        if input.flush_every.is_some_and(|n| (id + 1) % n == 0) {
            flush(&producer, grace);
            contract::flushed(sent);
        }
    }
    flush(&producer, grace);
    // Dropping purges what is left (librdkafka reports those records as purged) and flushes.
    drop(producer);
    let (acked, failed) = reporter.counts();
    contract::done(sent, acked, failed, "librdkafka", &version);
}

/// Before the started line, so that record 0 leaves at once: the topic's metadata
/// (`rd_kafka_metadata` for the topic, which creates the producer's handle for it, so that its
/// partitions are delegated to their leaders' broker threads and librdkafka connects to them),
/// asked again while a partition has no leader (a topic just auto-created); then the watermarks
/// of one partition per leader (`rd_kafka_query_watermark_offsets`, a ListOffsets request to that
/// leader), which return once the connection the Produce requests will use is up. Bounded by
/// `WARM_UP`; a failure is logged on stderr and the driver carries on.
fn warm_up(producer: &ThreadedProducer<Context>, topic: &str, pid: Option<&(Mutex<bool>, Condvar)>) {
    let begin = Instant::now();
    let deadline = begin + WARM_UP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let why = match producer.client().fetch_metadata(Some(topic), left) {
            Err(e) => format!("{e}"),
            Ok(metadata) => match metadata.topics().iter().find(|t| t.name() == topic) {
                None => "the topic is not in the metadata".to_string(),
                Some(t) => match t.error() {
                    Some(e) => format!("{}", RDKafkaErrorCode::from(e)),
                    None if t.partitions().is_empty() || t.partitions().iter().any(|p| p.leader() < 0) => {
                        "a partition has no leader".to_string()
                    }
                    None => {
                        // One partition per leader: its watermarks (a ListOffsets request) come from
                        // the leader once librdkafka is connected to it (ApiVersions done).
                        let mut leaders = BTreeSet::new();
                        for p in t.partitions() {
                            if !leaders.insert(p.leader()) {
                                continue;
                            }
                            let left = deadline.saturating_duration_since(Instant::now());
                            if let Err(e) = producer.client().fetch_watermarks(topic, p.id(), left) {
                                eprintln!(
                                    "driver: warm-up: leader {} of {topic}/{}: {e}; carrying on",
                                    p.leader(),
                                    p.id()
                                );
                                return;
                            }
                        }
                        eprintln!(
                            "driver: warm-up: {topic}: {} partition(s), leaders {leaders:?} connected in {:.1} ms",
                            t.partitions().len(),
                            begin.elapsed().as_secs_f64() * 1000.0
                        );
                        if let Some(pid) = pid {
                            wait_for_pid(pid, begin, deadline);
                        }
                        return;
                    }
                },
            },
        };
        if Instant::now() + Duration::from_millis(50) >= deadline {
            eprintln!("driver: warm-up: metadata for {topic}: {why}; carrying on");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The idempotent producer's part of the warm-up: until librdkafka has acquired the producer id
/// (`Context::log`), or the deadline.
fn wait_for_pid(pid: &(Mutex<bool>, Condvar), begin: Instant, deadline: Instant) {
    let (acquired, changed) = pid;
    let mut got = acquired.lock().unwrap_or_else(PoisonError::into_inner);
    while !*got {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            eprintln!("driver: warm-up: no producer id within {WARM_UP:?}; carrying on");
            return;
        }
        got = changed
            .wait_timeout(got, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    eprintln!(
        "driver: warm-up: producer id acquired in {:.1} ms",
        begin.elapsed().as_secs_f64() * 1000.0
    );
}

/// librdkafka's `rd_kafka_flush(rk, timeout)`: lingering batches become sendable at once, and it
/// returns when every record was reported (served by the polling thread) or at the timeout.
#[allow(unsafe_code)]
fn flush(producer: &ThreadedProducer<Context>, timeout: Duration) {
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: the handle is the live producer's; rd_kafka_flush may be called from any thread.
    let err = unsafe { rdkafka::bindings::rd_kafka_flush(producer.client().native_ptr(), ms) };
    if err != rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        eprintln!("driver: flush: {}", RDKafkaErrorCode::from(err));
    }
}
