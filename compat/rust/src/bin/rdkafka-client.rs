//! rust-rdkafka (librdkafka) as a client of the compatibility matrix: produce keyed records with
//! acks=all, read them back from the earliest offset by partition assignment (no consumer group)
//! up to each partition's high watermark, and verify them. The record layout and the JSON result
//! lines are the ones every client program follows (compat/README.md).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde_json::json;

/// Time allowed for every record to be acknowledged, and for reading them back.
const DEADLINE: Duration = Duration::from_secs(30);
/// Keys cycle through this many values, so that each key has many records whose order matters.
const KEYS: usize = 8;

/// Produce, read back and verify keyed records against one broker.
#[derive(Debug, Parser)]
struct Args {
    /// Bootstrap servers, host:port[,host:port...].
    bootstrap: String,
    /// Prefix of the topic name; the topic is `<prefix>-<codec>-<mode>`.
    topic_prefix: String,
    /// Compression codec: none, gzip, snappy, lz4 or zstd.
    codec: String,
    /// `idempotent` enables the idempotent producer.
    #[arg(default_value = "plain")]
    mode: String,
    /// Number of records.
    #[arg(long, env = "COMPAT_RECORDS", default_value_t = 1000)]
    records: usize,
}

/// Counts acknowledged records and keeps the first delivery error.
#[derive(Default)]
struct DeliveryCounter {
    acked: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {
        match result {
            Ok(_) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| error.to_string());
                }
            }
        }
    }
}

fn key(i: usize) -> String {
    format!("key-{}", i % KEYS)
}

fn value(topic: &str, i: usize) -> String {
    format!("{topic}:{i}:{}", "x".repeat(64))
}

fn produce(args: &Args, topic: &str, idempotent: bool) -> Result<(), String> {
    let producer: BaseProducer<DeliveryCounter> = ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", idempotent.to_string())
        .set("compression.codec", &args.codec)
        .set("message.timeout.ms", DEADLINE.as_millis().to_string())
        .create_with_context(DeliveryCounter::default())
        .map_err(|error| format!("create producer: {error}"))?;
    for i in 0..args.records {
        let (key, payload) = (key(i), value(topic, i));
        let mut record = BaseRecord::to(topic).key(&key).payload(&payload);
        // The local queue may be full: serve delivery reports and try again.
        while let Err((error, returned)) = producer.send(record) {
            if !matches!(
                error.rdkafka_error_code(),
                Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
            ) {
                return Err(format!("send record {i}: {error}"));
            }
            producer.poll(Duration::from_millis(10));
            record = returned;
        }
    }
    producer
        .flush(DEADLINE)
        .map_err(|error| format!("flush: {error}"))?;
    let context = producer.context();
    if let Ok(first) = context.first_error.lock()
        && let Some(error) = first.as_ref()
    {
        return Err(format!("delivery failed: {error}"));
    }
    let acked = context.acked.load(Ordering::Relaxed);
    if acked != args.records {
        return Err(format!("{acked} of {} records acknowledged", args.records));
    }
    Ok(())
}

/// One record read back: (partition, key, value), in offset order per partition.
type Received = (i32, String, String);

fn consume(args: &Args, topic: &str) -> Result<Vec<Received>, String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap)
        // librdkafka's assign() needs a group id; nothing joins the group or commits to it.
        .set("group.id", format!("ktrial-compat-{topic}"))
        .set("enable.auto.commit", "false")
        .set("check.crcs", "true")
        .create()
        .map_err(|error| format!("create consumer: {error}"))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), DEADLINE)
        .map_err(|error| format!("metadata: {error}"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut remaining = BTreeMap::new();
    let mut assignment = TopicPartitionList::new();
    for &partition in &partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, partition, DEADLINE)
            .map_err(|error| format!("watermarks of partition {partition}: {error}"))?;
        if high > 0 {
            remaining.insert(partition, high);
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .map_err(|error| format!("assign: {error}"))?;
        }
    }
    consumer
        .assign(&assignment)
        .map_err(|error| format!("assign: {error}"))?;
    let started = Instant::now();
    let mut received = Vec::new();
    while !remaining.is_empty() {
        if started.elapsed() > DEADLINE {
            return Err(format!(
                "read {} records, partitions not read to their end: {remaining:?}",
                received.len()
            ));
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.map_err(|error| format!("fetch: {error}"))?;
        let text =
            |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
        received.push((
            message.partition(),
            text(message.key()),
            text(message.payload()),
        ));
        if remaining.get(&message.partition()) <= Some(&(message.offset() + 1)) {
            remaining.remove(&message.partition());
        }
    }
    Ok(received)
}

/// Checks count, content, no duplicates, and the order of each key's records in its partition.
fn verify(args: &Args, topic: &str, received: &[Received]) -> Result<(), String> {
    if received.len() != args.records {
        return Err(format!(
            "read {} records, produced {}",
            received.len(),
            args.records
        ));
    }
    let mut seen = vec![false; args.records];
    // key -> (partition, last index seen)
    let mut last_of_key: BTreeMap<&str, (i32, usize)> = BTreeMap::new();
    for (partition, key_read, value_read) in received {
        let index: usize = value_read
            .split(':')
            .nth(1)
            .and_then(|i| i.parse().ok())
            .filter(|&i| i < args.records)
            .ok_or_else(|| format!("unexpected value {value_read:?}"))?;
        if *value_read != value(topic, index) || *key_read != key(index) {
            return Err(format!("record {index} altered: key {key_read:?}"));
        }
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!("record {index} read twice"));
        }
        if let Some((previous_partition, previous)) =
            last_of_key.insert(key_read, (*partition, index))
            && (previous_partition != *partition || previous > index)
        {
            return Err(format!(
                "key {key_read}: record {index} (partition {partition}) after {previous} (partition {previous_partition})"
            ));
        }
    }
    Ok(())
}

fn report(
    args: &Args,
    check: &str,
    idempotent: bool,
    started: Instant,
    outcome: &Result<(), String>,
) {
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    let line = json!({
        "client": "rust-rdkafka",
        "client_version": format!("rdkafka 0.39.0 (librdkafka {librdkafka})"),
        "check": check,
        "codec": args.codec,
        "idempotent": idempotent,
        "result": if outcome.is_ok() { "pass" } else { "fail" },
        "records": args.records,
        "ms": started.elapsed().as_millis(),
        "detail": outcome.as_ref().err().cloned().unwrap_or_default(),
    });
    println!("{line}");
}

fn main() -> ExitCode {
    let args = Args::parse();
    let idempotent = args.mode == "idempotent";
    let topic = format!("{}-{}-{}", args.topic_prefix, args.codec, args.mode);
    let started = Instant::now();
    let produced = produce(&args, &topic, idempotent);
    report(&args, "produce", idempotent, started, &produced);
    let started = Instant::now();
    let consumed = match produced {
        Ok(()) => consume(&args, &topic).and_then(|received| verify(&args, &topic, &received)),
        Err(_) => Err("not run: produce failed".to_owned()),
    };
    report(&args, "consume", idempotent, started, &consumed);
    if consumed.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
