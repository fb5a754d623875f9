//! The ktrial driver (docs/drivers.md): ktrial's own producer (`ktrial-producer`) over real TCP,
//! so that a scenario can be compared between the simulation and the network. Properties go to
//! the producer's own parser unchanged (it speaks Kafka's names); `native` takes the same names
//! (e.g. `ktrial.seed`, `partitioner`), applied after `properties`.

#[path = "../../rust/src/contract.rs"]
mod contract;

use std::sync::Arc;
use std::time::Duration;

use contract::{Fatal, Input, Mode, Reporter};
use ktrial_producer::{ConfigError, Producer, ProducerError, ProducerRecord};
use tokio::task::JoinSet;
use tokio::time::Instant;

fn fatal_of(error: &ConfigError, input: &Input) -> Fatal {
    let key = match error {
        ConfigError::UnknownKey { key } | ConfigError::InvalidValue { key, .. } => Some(key.clone()),
        ConfigError::Conflict(message) => input
            .properties
            .keys()
            .chain(input.native.keys())
            .filter(|k| message.contains(k.as_str()))
            .max_by_key(|k| k.len())
            .cloned(),
    };
    let within = match &key {
        Some(k) if input.native.contains_key(k) => "native",
        _ => "properties",
    };
    Fatal {
        message: format!("ktrial-producer: {error}"),
        property: key,
        within,
    }
}

fn main() {
    let input = contract::read_input().unwrap_or_else(|f| f.exit());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| contract::exit_client_failure(&format!("tokio runtime: {e}")));
    runtime.block_on(run(input));
}

async fn run(input: Input) {
    let mut builder = Producer::builder().bootstrap_servers(&input.bootstrap_servers);
    for (k, v) in input.properties.iter().chain(input.native.iter()) {
        builder = builder.set(k, v);
    }
    let config = builder.config().unwrap_or_else(|e| fatal_of(&e, &input).exit());
    let producer = match builder.build().await {
        Ok(p) => p,
        Err(ProducerError::Config(e)) => fatal_of(&e, &input).exit(),
        Err(e) => contract::exit_client_failure(&format!("ktrial-producer: {e}")),
    };
    let version = format!("ktrial-producer {}", env!("CARGO_PKG_VERSION"));
    let grace = contract::grace(config.delivery_timeout.as_millis() as u64);
    let reporter = Arc::new(Reporter::new(config.acks == ktrial_producer::Acks::None));

    contract::started("ktrial", &version);
    let start = Instant::from_std(contract::start());
    let mut deliveries = JoinSet::new();
    let mut sent = 0;
    for id in 0..input.records {
        if let Some(rate) = input.rate {
            tokio::time::sleep_until(start + Duration::from_secs_f64(id as f64 / rate)).await;
        }
        let value = contract::value_of(id, input.value_size);
        let key = contract::key_of(id, input.keys);
        let mut record = ProducerRecord::new(&input.topic).value(&value);
        if let Some(key) = &key {
            record = record.key(key);
        }
        sent += 1;
        match producer.send(record).await {
            Err(e) => reporter.fail(id, &e.to_string()),
            Ok(delivery) => match input.mode {
                Mode::FireAndForget => drop(delivery),
                Mode::Sync => match tokio::time::timeout(grace, delivery).await {
                    Ok(result) => report(&reporter, id, result),
                    Err(_) => {
                        eprintln!("driver: record {id} not reported within {grace:?}; stopping");
                        break;
                    }
                },
                Mode::Async => {
                    let reporter = Arc::clone(&reporter);
                    deliveries.spawn(async move { report(&reporter, id, delivery.await) });
                }
            },
        }
        if input.flush_every.is_some_and(|n| (id + 1) % n == 0) {
            if tokio::time::timeout(grace, producer.flush()).await.is_err() {
                eprintln!("driver: flush did not finish within {grace:?}");
            }
            contract::flushed(sent);
        }
    }
    if tokio::time::timeout(grace, producer.flush()).await.is_err() {
        eprintln!("driver: flush did not finish within {grace:?}");
    }
    if let Err(e) = producer.close(Duration::from_secs(5)).await {
        eprintln!("driver: close: {e}");
    }
    // Every delivery future resolves once close has returned (delivered or failed as closed).
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while deliveries.join_next().await.is_some() {}
    })
    .await;
    let (acked, failed) = reporter.counts();
    contract::done(sent, acked, failed, "ktrial", &version);
}

fn report(
    reporter: &Reporter,
    id: u64,
    result: Result<ktrial_producer::RecordMetadata, ProducerError>,
) {
    match result {
        Ok(meta) => reporter.ack(id, meta.partition, meta.offset),
        Err(e) => reporter.fail(id, &e.to_string()),
    }
}
