//! rust-rdkafka (vendored librdkafka) as a command, for the wire captures
//! (`mockbroker/tests/clients/capture/wire_capture.py`):
//!
//! `rdkafka-client capture BOOTSTRAP CODEC TOPIC COUNT` writes COUNT records
//! `key-<i>` = `rust-rdkafka-<CODEC>-<i>` (i from 1) to partition 0 of TOPIC with an idempotent
//! producer, in one batch, and waits (30 s at most) until all are acknowledged.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

const TIMEOUT: Duration = Duration::from_secs(30);

fn capture(bootstrap: &str, codec: &str, topic: &str, count: u32) -> Result<(), String> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "ktrial-rust-rdkafka")
        .set("enable.idempotence", "true")
        .set("compression.codec", codec)
        .set("linger.ms", "200")
        .create()
        .map_err(|e| format!("creating the producer: {e}"))?;
    for i in 1..=count {
        let key = format!("key-{i}");
        let value = format!("rust-rdkafka-{codec}-{i}");
        producer
            .send(BaseRecord::to(topic).partition(0).key(&key).payload(&value))
            .map_err(|(e, _)| format!("queueing record {i}: {e}"))?;
    }
    producer
        .flush(TIMEOUT)
        .map_err(|e| format!("flushing: {e}"))?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [mode, bootstrap, codec, topic, count] if mode == "capture" => count
            .parse()
            .map_err(|e| format!("COUNT: {e}"))
            .and_then(|count| capture(bootstrap, codec, topic, count)),
        _ => Err("usage: rdkafka-client capture BOOTSTRAP CODEC TOPIC COUNT".into()),
    };
    if let Err(message) = result {
        eprintln!("rdkafka-client: {message}");
        std::process::exit(1);
    }
}
