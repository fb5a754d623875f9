//! The librdkafka driver of ktrial (docs/drivers.md), through rust-rdkafka's `ThreadedProducer`:
//! properties are librdkafka configuration properties (most portable names are librdkafka's own
//! or its aliases; `max.request.size` is `message.max.bytes`), `native` is any librdkafka
//! property. rust-rdkafka's polling thread serves the delivery reports as they come; flushes call
//! librdkafka's own `rd_kafka_flush` with the real timeout, which (unlike rust-rdkafka's
//! `Producer::flush`, a loop of `rd_kafka_flush(rk, 0)` and 100 ms polls) makes lingering
//! batches sendable at once, as librdkafka documents and as C, kcat and confluent-kafka users get.

#[path = "contract.rs"]
mod contract;

use std::sync::Arc;
use std::time::{Duration, Instant};

use contract::{Fatal, Input, Mode, Reporter};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
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

/// librdkafka's default `message.timeout.ms` (its delivery timeout).
const DEFAULT_DELIVERY_TIMEOUT_MS: u64 = 300_000;

struct Context {
    reporter: Arc<Reporter>,
    quiet: bool,
}

impl ClientContext for Context {}

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
    let (config, origin, delivery_ms) = configure(&input).unwrap_or_else(|f| f.exit());
    let reporter = Arc::new(Reporter::new(
        input.properties.get("acks").is_some_and(|a| a == "0")
            || input.native.get("acks").is_some_and(|a| a == "0"),
    ));
    let context = Context {
        reporter: Arc::clone(&reporter),
        quiet: input.mode == Mode::FireAndForget,
    };
    let producer: ThreadedProducer<Context> = match config.create_with_context(context) {
        Ok(p) => p,
        Err(KafkaError::ClientCreation(message)) => blame(&message, &origin).exit(),
        Err(e) => blame(&e.to_string(), &origin).exit(),
    };
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let version = format!("rust-rdkafka 0.39.0 (librdkafka {librdkafka})");
    let grace = contract::grace(delivery_ms);

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
