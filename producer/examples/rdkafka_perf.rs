//! librdkafka's producer (rust-rdkafka `BaseProducer`) as a load generator, for comparing
//! `ktrial perf produce` with it against the same broker (`scripts/perf-vs-real-kafka.sh`):
//! `cargo run --release -p ktrial-producer --example rdkafka_perf -- --bootstrap H:P --topic T
//! --records N --record-size S [--set KEY=VALUE]... [--json]`. Unkeyed values of S bytes;
//! every property not given stays at librdkafka's default. Prints the same summary and JSON
//! fields as `ktrial perf produce` and exits non-zero if a delivery failed.

#![allow(missing_docs)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _, ProducerContext};

#[derive(Parser)]
struct Args {
    /// `bootstrap.servers`.
    #[arg(long)]
    bootstrap: String,
    /// Topic to produce to.
    #[arg(long)]
    topic: String,
    /// Records to send.
    #[arg(long)]
    records: u64,
    /// Bytes per record value.
    #[arg(long)]
    record_size: usize,
    /// Any librdkafka property, as KEY=VALUE (repeatable), e.g. `--set acks=1`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// End with one JSON line: records, acked, failed, seconds, records_per_sec, mb_per_sec.
    #[arg(long)]
    json: bool,
}

/// Counts deliveries from librdkafka's delivery reports.
#[derive(Default)]
struct Outcomes {
    acked: AtomicU64,
    failed: AtomicU64,
}

struct Counting(Arc<Outcomes>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let counter = if result.is_ok() {
            &self.0.acked
        } else {
            &self.0.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rdkafka_perf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &args.bootstrap);
    for property in &args.properties {
        let (key, value) = property
            .split_once('=')
            .ok_or_else(|| format!("--set {property}: expected KEY=VALUE"))?;
        config.set(key, value);
    }
    let outcomes = Arc::new(Outcomes::default());
    let producer: BaseProducer<Counting> =
        config.create_with_context(Counting(outcomes.clone()))?;
    let value = vec![b'x'; args.record_size];
    let started = Instant::now();
    for sent in 0..args.records {
        let mut record = BaseRecord::<(), [u8]>::to(&args.topic).payload(&value[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                // librdkafka's queue is full: serve delivery reports until there is room.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
        if sent % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(300))?;
    let seconds = started.elapsed().as_secs_f64();
    let acked = outcomes.acked.load(Ordering::Relaxed);
    let failed = outcomes.failed.load(Ordering::Relaxed);
    let records_per_sec = acked as f64 / seconds;
    let mb_per_sec = records_per_sec * args.record_size as f64 / (1024.0 * 1024.0);
    println!(
        "{} records sent, {acked} acked, {failed} failed, {records_per_sec:.1} records/sec ({mb_per_sec:.2} MB/sec)",
        args.records
    );
    if args.json {
        println!(
            "{{\"records\":{},\"acked\":{acked},\"failed\":{failed},\"seconds\":{seconds:.6},\
             \"records_per_sec\":{records_per_sec:.1},\"mb_per_sec\":{mb_per_sec:.3}}}",
            args.records
        );
    }
    if acked != args.records {
        return Err(format!("{failed} of {} records failed", args.records).into());
    }
    Ok(())
}
