//! `ktrial perf produce`: a load generator in the manner of kafka-producer-perf-test. Sends N
//! records of S bytes through the ktrial producer, prints progress every few seconds, then a
//! summary (records/s, MB/s, latency percentiles); `--json` adds one JSON line at the end.
//! A benchmark, not a test: wall-clock time is what it measures.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ktrial_producer::{Producer, ProducerRecord};

/// Arguments of `ktrial perf`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PerfCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PerfCommand {
    /// Produce records as fast as the producer allows and report throughput and latency.
    Produce(ProduceArgs),
}

/// Arguments of `ktrial perf produce`.
#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    /// `bootstrap.servers`.
    #[arg(long)]
    bootstrap: String,
    /// Topic to produce to (it must exist, or the cluster must create it).
    #[arg(long)]
    topic: String,
    /// Records to send.
    #[arg(long)]
    records: u64,
    /// Bytes per record value.
    #[arg(long)]
    record_size: usize,
    /// `acks`: all, -1, 0 or 1.
    #[arg(long, default_value = "all")]
    acks: String,
    /// `linger.ms`.
    #[arg(long)]
    linger_ms: Option<u64>,
    /// `batch.size`.
    #[arg(long)]
    batch_size: Option<usize>,
    /// `compression.type`.
    #[arg(long, default_value = "none")]
    compression: String,
    /// `enable.idempotence=true` (otherwise false).
    #[arg(long)]
    idempotence: bool,
    /// Any other producer property, as KEY=VALUE (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 5)]
    progress_secs: u64,
    /// End with one JSON line: records, acked, failed, seconds, records_per_sec, …
    #[arg(long)]
    json: bool,
}

/// Runs `ktrial perf`.
pub fn main(args: Args) -> ExitCode {
    let PerfCommand::Produce(args) = args.command;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ktrial perf: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(produce(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ktrial perf: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Per-record latencies in 100 µs buckets up to 60 s; updated from delivery callbacks.
struct Latencies {
    buckets: Vec<AtomicU64>,
}

const BUCKET_MICROS: u64 = 100;

impl Latencies {
    fn new() -> Self {
        Self {
            buckets: (0..600_000).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, latency: Duration) {
        let bucket = (latency.as_micros() as u64 / BUCKET_MICROS) as usize;
        self.buckets[bucket.min(self.buckets.len() - 1)].fetch_add(1, Ordering::Relaxed);
    }

    /// The latency below which `fraction` of the records fall, in ms.
    fn percentile(&self, fraction: f64) -> f64 {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let target = (total as f64 * fraction).ceil() as u64;
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= target.max(1) {
                return ((i as u64 + 1) * BUCKET_MICROS) as f64 / 1000.0;
            }
        }
        0.0
    }
}

async fn produce(args: ProduceArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Producer::builder()
        .bootstrap_servers(&args.bootstrap)
        .set("acks", &args.acks)
        .set("compression.type", &args.compression)
        .set("enable.idempotence", args.idempotence.to_string());
    if let Some(linger) = args.linger_ms {
        builder = builder.set("linger.ms", linger.to_string());
    }
    if let Some(size) = args.batch_size {
        builder = builder.set("batch.size", size.to_string());
    }
    for property in &args.properties {
        let (key, value) = property
            .split_once('=')
            .ok_or_else(|| format!("--set {property}: expected KEY=VALUE"))?;
        builder = builder.set(key, value);
    }
    let producer = builder.build().await?;
    let latencies = Arc::new(Latencies::new());
    let failed = Arc::new(AtomicU64::new(0));
    let value = vec![b'x'; args.record_size];
    let started = Instant::now();

    let progress = {
        let producer = producer.clone();
        let every = Duration::from_secs(args.progress_secs.max(1));
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(every).await;
                let stats = producer.statistics();
                let now = Instant::now();
                let rate = (stats.records_acked - last.1) as f64 / (now - last.0).as_secs_f64();
                eprintln!(
                    "{} records acked, {rate:.1} records/s, {} in flight requests, buffer {} / {} bytes",
                    stats.records_acked,
                    stats.in_flight_requests,
                    stats.buffer_used,
                    stats.buffer_total
                );
                last = (now, stats.records_acked);
            }
        })
    };

    for _ in 0..args.records {
        let sent_at = tokio::time::Instant::now();
        let delivery = producer
            .send(ProducerRecord::new(&args.topic).value(&value))
            .await?;
        let latencies = latencies.clone();
        let failed = failed.clone();
        delivery.on_complete(move |result| match result {
            Ok(_) => latencies.record(sent_at.elapsed()),
            Err(_) => {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    producer.flush().await;
    let seconds = started.elapsed().as_secs_f64();
    progress.abort();
    let stats = producer.statistics();
    producer.close(Duration::from_secs(30)).await?;

    let acked = stats.records_acked;
    let failed = failed.load(Ordering::Relaxed);
    let records_per_sec = acked as f64 / seconds;
    let mb_per_sec = records_per_sec * args.record_size as f64 / (1024.0 * 1024.0);
    let (p50, p95, p99, p999) = (
        latencies.percentile(0.5),
        latencies.percentile(0.95),
        latencies.percentile(0.99),
        latencies.percentile(0.999),
    );
    println!(
        "{} records sent, {acked} acked, {failed} failed, {records_per_sec:.1} records/sec ({mb_per_sec:.2} MB/sec), \
         {p50:.1} ms 50th, {p95:.1} ms 95th, {p99:.1} ms 99th, {p999:.1} ms 99.9th, \
         {:.1} records/batch, compression ratio {:.3}",
        args.records,
        stats.records_per_batch.mean(),
        stats.compression_ratio,
    );
    if args.json {
        println!(
            "{{\"records\":{},\"acked\":{acked},\"failed\":{failed},\"seconds\":{seconds:.6},\
             \"records_per_sec\":{records_per_sec:.1},\"mb_per_sec\":{mb_per_sec:.3},\
             \"p50_ms\":{p50},\"p95_ms\":{p95},\"p99_ms\":{p99},\"p999_ms\":{p999}}}",
            args.records
        );
    }
    if acked + failed != args.records || failed > 0 {
        return Err(format!("{failed} of {} records failed", args.records).into());
    }
    Ok(())
}
