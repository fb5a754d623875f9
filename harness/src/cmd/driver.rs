//! `ktrial driver`: ktrial's own producer as a client driver (`docs/drivers.md`), over real TCP,
//! so that a scenario can be compared between the simulation and the network
//! (`ktrial run --client ktrial`). It reads the workload on stdin and writes a JSON line per
//! delivery report. Properties go to the producer's own parser as they are (it speaks Kafka's
//! names); `native` takes the same names, after them.
//!
//! This is a real-time program like every other driver: it reads tokio's clock directly.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ktrial_harness::live::{DriverInput, ID_BYTES, key_of};
use ktrial_harness::scenario::SendMode;
use ktrial_producer::{Acks, ConfigError, Producer, ProducerError, ProducerRecord, RecordMetadata};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Arguments of `ktrial driver` (none: the workload comes on stdin).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `ktrial driver`.
pub fn main(_args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ktrial driver: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

/// Prints one report line (whole lines, so that concurrent reports never interleave).
fn emit(line: &Value) {
    println!("{line}");
}

/// A refusal: `within` is where `property` was given (`properties`, `native`, or `input`).
fn fatal(message: &str, property: Option<&str>, within: &str) -> ExitCode {
    emit(&json!({"fatal": message, "property": property, "in": within}));
    ExitCode::from(2)
}

/// The property a configuration error is about.
fn property_of<'a>(error: &'a ConfigError, input: &'a DriverInput) -> Option<&'a str> {
    match error {
        ConfigError::UnknownKey { key } | ConfigError::InvalidValue { key, .. } => Some(key),
        ConfigError::Conflict(message) => input
            .properties
            .keys()
            .chain(input.native.keys())
            .filter(|k| message.contains(k.as_str()))
            .max_by_key(|k| k.len())
            .map(String::as_str),
    }
}

/// Which records were reported, so that none is reported twice.
struct Reports {
    start: Instant,
    acks_zero: bool,
    seen: Mutex<std::collections::BTreeSet<u64>>,
    /// (acknowledged, failed) so far.
    counts: Mutex<(u64, u64)>,
}

impl Reports {
    fn ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    fn report(&self, id: u64, result: Result<RecordMetadata, ProducerError>) {
        if !self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id)
        {
            return;
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if result.is_ok() {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        drop(counts);
        emit(&match result {
            Ok(meta) => json!({
                "id": id,
                "partition": meta.partition,
                "offset": if self.acks_zero { -1 } else { meta.offset },
                "ms": self.ms(),
            }),
            Err(e) => json!({"id": id, "error": e.to_string(), "ms": self.ms()}),
        });
    }
}

async fn run() -> ExitCode {
    let mut text = String::new();
    if let Err(e) = tokio::io::stdin().read_to_string(&mut text).await {
        return fatal(&format!("reading the workload: {e}"), None, "input");
    }
    let input: DriverInput = match serde_json::from_str(&text) {
        Ok(input) => input,
        Err(e) => return fatal(&format!("the workload is not valid: {e}"), None, "input"),
    };
    let builder = input.properties.iter().chain(&input.native).fold(
        Producer::builder().bootstrap_servers(&input.bootstrap_servers),
        |builder, (k, v)| builder.set(k, v),
    );
    let config = match builder.config() {
        Ok(config) => config,
        Err(e) => {
            let property = property_of(&e, &input);
            let within = match property {
                Some(p) if input.native.contains_key(p) => "native",
                _ => "properties",
            };
            return fatal(&format!("ktrial-producer: {e}"), property, within);
        }
    };
    let producer = match builder.build().await {
        Ok(producer) => producer,
        Err(e) => {
            eprintln!("ktrial driver: {e}");
            return ExitCode::FAILURE;
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    let reports = Arc::new(Reports {
        start: Instant::now(),
        acks_zero: config.acks == Acks::None,
        seen: Mutex::default(),
        counts: Mutex::default(),
    });
    emit(&json!({"event": "started", "ms": 0, "client": "ktrial", "client_version": version}));
    // A record not reported by then will not be: the delivery timeout bounds every record.
    let grace = config.delivery_timeout + Duration::from_secs(20);
    let mut deliveries = JoinSet::new();
    let mut value = vec![b'.'; input.value_size.max(ID_BYTES)];
    let mut sent = 0;
    for id in 0..input.records {
        if let Some(rate) = input.rate {
            tokio::time::sleep_until(reports.start + Duration::from_secs_f64(id as f64 / rate))
                .await;
        }
        value[..ID_BYTES].copy_from_slice(&id.to_be_bytes());
        let key = key_of(id, input.keys);
        let mut record = ProducerRecord::new(&input.topic).value(&value);
        if let Some(key) = &key {
            record = record.key(key);
        }
        sent += 1;
        match producer.send(record).await {
            Err(e) => reports.report(id, Err(e)),
            Ok(delivery) => match input.mode {
                SendMode::FireAndForget => drop(delivery),
                SendMode::Sync => match tokio::time::timeout(grace, delivery).await {
                    Ok(result) => reports.report(id, result),
                    Err(_) => {
                        eprintln!("ktrial driver: record {id} not reported within {grace:?}");
                        break;
                    }
                },
                SendMode::Async => {
                    let reports = Arc::clone(&reports);
                    deliveries.spawn(async move { reports.report(id, delivery.await) });
                }
            },
        }
        if input.flush_every.is_some_and(|n| (id + 1) % n == 0) {
            if tokio::time::timeout(grace, producer.flush()).await.is_err() {
                eprintln!("ktrial driver: flush did not finish within {grace:?}");
            }
            emit(&json!({"event": "flushed", "sent": sent, "ms": reports.ms()}));
        }
    }
    if tokio::time::timeout(grace, producer.flush()).await.is_err() {
        eprintln!("ktrial driver: flush did not finish within {grace:?}");
    }
    if let Err(e) = producer.close(Duration::from_secs(5)).await {
        eprintln!("ktrial driver: close: {e}");
    }
    // Every delivery resolves once close has returned, delivered or failed as closed.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while deliveries.join_next().await.is_some() {}
    })
    .await;
    let (acked, failed) = *reports
        .counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    emit(&json!({
        "done": true,
        "sent": sent,
        "acked": acked,
        "failed": failed,
        "ms": reports.ms(),
        "client": "ktrial",
        "client_version": version,
    }));
    ExitCode::SUCCESS
}
