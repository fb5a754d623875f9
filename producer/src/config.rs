//! Producer configuration from the Kafka property names users know, with the Java producer's
//! defaults and cross-checks (`ProducerConfig.java` L257-266, L369-458, L560-600;
//! `KafkaProducer.java` L582-600).

use std::collections::BTreeMap;
use std::time::Duration;

use ktrial_protocol::compression::Compression;

use crate::error::ConfigError;
use crate::partitioner::PartitionerKind;

/// How many replicas must have a record before the broker acknowledges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: no response; deliveries complete when the request is written, with offset -1.
    None,
    /// `acks=1`: the leader has appended.
    Leader,
    /// `acks=all` (`-1`): every in-sync replica has the record.
    All,
}

impl Acks {
    /// The value of the ProduceRequest's `acks` field.
    pub fn wire_value(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// What to do when every known broker is unreachable (KIP-899).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRecoveryStrategy {
    /// Keep trying the known brokers.
    None,
    /// Go back to `bootstrap.servers` (the Kafka 4.x default, KIP-1102).
    Rebootstrap,
}

/// Everything the producer can be told, with Java producer defaults (Kafka 4.x).
///
/// ```
/// use ktrial_producer::{Acks, ProducerConfig};
///
/// let config = ProducerConfig::from_properties([
///     ("bootstrap.servers", "localhost:9092"),
///     ("acks", "1"),
///     ("linger.ms", "20"),
/// ])?;
/// assert_eq!(config.acks, Acks::Leader);
/// assert_eq!(config.linger.as_millis(), 20);
/// // acks=1 silently turns the default idempotence off, as in Java.
/// assert!(!config.enable_idempotence);
/// assert!(ProducerConfig::from_properties([("lingr.ms", "5")]).is_err());
/// # Ok::<(), ktrial_producer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    /// `bootstrap.servers`: `host:port` entries; any subset of the cluster will do.
    pub bootstrap_servers: Vec<String>,
    /// `acks` (default `all`).
    pub acks: Acks,
    /// `linger.ms` (default 5, as in Kafka 4.0+).
    pub linger: Duration,
    /// `batch.size` in bytes (default 16384).
    pub batch_size: usize,
    /// `batch.num.messages`: most records in a batch (librdkafka's name; default 10000).
    pub batch_num_messages: usize,
    /// `buffer.memory` in bytes (default 32 MiB).
    pub buffer_memory: usize,
    /// `max.block.ms` (default 60000): how long `send` waits for buffer space or metadata.
    pub max_block: Duration,
    /// `compression.type` (default `none`).
    pub compression: Compression,
    /// `max.request.size` in bytes (default 1 MiB).
    pub max_request_size: usize,
    /// `retries` (default `i32::MAX`).
    pub retries: u32,
    /// `retry.backoff.ms` (default 100).
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (default 1000).
    pub retry_backoff_max: Duration,
    /// `request.timeout.ms` (default 30000).
    pub request_timeout: Duration,
    /// `delivery.timeout.ms` (default 120000).
    pub delivery_timeout: Duration,
    /// `max.in.flight.requests.per.connection` (default 5).
    pub max_in_flight: usize,
    /// `enable.idempotence` after the Java rules were applied.
    pub enable_idempotence: bool,
    /// `metadata.max.age.ms` (default 300000).
    pub metadata_max_age: Duration,
    /// `metadata.recovery.strategy` (default `rebootstrap`).
    pub metadata_recovery: MetadataRecoveryStrategy,
    /// `partitioner` (default `java`: murmur2 and uniform sticky).
    pub partitioner: PartitionerKind,
    /// `client.id` (default `ktrial-producer`).
    pub client_id: String,
    /// `allow.auto.create.topics` (librdkafka's name; default true): whether metadata requests
    /// ask the broker to create unknown topics.
    pub allow_auto_create_topics: bool,
    /// `ktrial.seed`: seed of the producer's random choices (partitions for null keys, backoff
    /// jitter), so a run can be replayed (default 0).
    pub seed: u64,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: Vec::new(),
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            batch_num_messages: 10_000,
            buffer_memory: 32 * 1024 * 1024,
            max_block: Duration::from_millis(60_000),
            compression: Compression::None,
            max_request_size: 1024 * 1024,
            retries: i32::MAX as u32,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            request_timeout: Duration::from_millis(30_000),
            delivery_timeout: Duration::from_millis(120_000),
            max_in_flight: 5,
            enable_idempotence: true,
            metadata_max_age: Duration::from_millis(300_000),
            metadata_recovery: MetadataRecoveryStrategy::Rebootstrap,
            partitioner: PartitionerKind::Java,
            client_id: "ktrial-producer".to_string(),
            allow_auto_create_topics: true,
            seed: 0,
        }
    }
}

/// Most records in flight per connection when idempotent: the broker caches 5 batches
/// (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
pub const MAX_IDEMPOTENT_IN_FLIGHT: usize = 5;

impl ProducerConfig {
    /// Builds a configuration from `(property, value)` pairs; later pairs win. Unknown keys,
    /// unparsable values and contradictions are errors naming the property.
    pub fn from_properties<K, V>(
        properties: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let given: BTreeMap<String, String> = properties
            .into_iter()
            .map(|(k, v)| (k.as_ref().trim().to_string(), v.as_ref().trim().to_string()))
            .collect();
        let mut config = ProducerConfig::default();
        for (key, value) in &given {
            config.set(key, value)?;
        }
        config.resolve(
            given.contains_key("enable.idempotence"),
            given.contains_key("delivery.timeout.ms"),
        )?;
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        match key {
            "bootstrap.servers" => {
                let servers: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if servers.iter().any(|s| !s.contains(':')) {
                    return Err(invalid("expected host:port entries separated by commas"));
                }
                self.bootstrap_servers = servers;
            }
            "acks" => {
                self.acks = match value {
                    "all" | "-1" => Acks::All,
                    "1" => Acks::Leader,
                    "0" => Acks::None,
                    _ => return Err(invalid("expected all, -1, 0 or 1")),
                }
            }
            "linger.ms" => self.linger = millis(value, 0, invalid)?,
            "batch.size" => self.batch_size = number(value, 1, invalid)?,
            "batch.num.messages" => self.batch_num_messages = number(value, 1, invalid)?,
            "buffer.memory" => self.buffer_memory = number(value, 1, invalid)?,
            "max.block.ms" => self.max_block = millis(value, 0, invalid)?,
            "compression.type" => {
                self.compression = value
                    .parse()
                    .map_err(|_| invalid("expected none, gzip, snappy, lz4 or zstd"))?
            }
            "max.request.size" => self.max_request_size = number(value, 1, invalid)?,
            "retries" => {
                self.retries = value
                    .parse::<i32>()
                    .ok()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid("expected an integer from 0 to 2147483647"))?
            }
            "retry.backoff.ms" => self.retry_backoff = millis(value, 0, invalid)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = millis(value, 0, invalid)?,
            "request.timeout.ms" => self.request_timeout = millis(value, 1, invalid)?,
            "delivery.timeout.ms" => self.delivery_timeout = millis(value, 1, invalid)?,
            "max.in.flight.requests.per.connection" => {
                self.max_in_flight = number(value, 1, invalid)?
            }
            "enable.idempotence" => self.enable_idempotence = boolean(value, invalid)?,
            "metadata.max.age.ms" => self.metadata_max_age = millis(value, 1, invalid)?,
            "metadata.recovery.strategy" => {
                self.metadata_recovery = match value {
                    "none" => MetadataRecoveryStrategy::None,
                    "rebootstrap" => MetadataRecoveryStrategy::Rebootstrap,
                    _ => return Err(invalid("expected none or rebootstrap")),
                }
            }
            "partitioner" => {
                self.partitioner = value.parse().map_err(|e: String| invalid(&e))?;
            }
            "client.id" => self.client_id = value.to_string(),
            "allow.auto.create.topics" => self.allow_auto_create_topics = boolean(value, invalid)?,
            "ktrial.seed" => self.seed = value.parse().map_err(|_| invalid("expected a u64"))?,
            _ => {
                return Err(ConfigError::UnknownKey {
                    key: key.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Applies the Java cross-property rules. Also called by the builder.
    pub(crate) fn resolve(
        &mut self,
        idempotence_explicit: bool,
        delivery_timeout_explicit: bool,
    ) -> Result<(), ConfigError> {
        if self.enable_idempotence {
            let conflict = if self.acks != Acks::All {
                Some("enable.idempotence=true requires acks=all")
            } else if self.retries == 0 {
                Some("enable.idempotence=true requires retries > 0")
            } else if self.max_in_flight > MAX_IDEMPOTENT_IN_FLIGHT {
                Some("enable.idempotence=true requires max.in.flight.requests.per.connection <= 5")
            } else {
                None
            };
            if let Some(conflict) = conflict {
                if idempotence_explicit {
                    return Err(ConfigError::Conflict(conflict.to_string()));
                }
                self.enable_idempotence = false;
            }
        }
        let floor = self.linger + self.request_timeout;
        if self.delivery_timeout < floor {
            if delivery_timeout_explicit {
                return Err(ConfigError::Conflict(format!(
                    "delivery.timeout.ms ({}) must be >= linger.ms + request.timeout.ms ({})",
                    self.delivery_timeout.as_millis(),
                    floor.as_millis()
                )));
            }
            self.delivery_timeout = floor;
        }
        if self.bootstrap_servers.is_empty() {
            return Err(ConfigError::InvalidValue {
                key: "bootstrap.servers".to_string(),
                value: String::new(),
                reason: "at least one host:port is required".to_string(),
            });
        }
        Ok(())
    }
}

fn number(
    value: &str,
    min: usize,
    invalid: impl Fn(&str) -> ConfigError,
) -> Result<usize, ConfigError> {
    match value.parse::<i64>() {
        Ok(n) if n >= min as i64 && n <= i32::MAX as i64 => Ok(n as usize),
        _ => Err(invalid(&format!(
            "expected an integer from {min} to 2147483647"
        ))),
    }
}

fn millis(
    value: &str,
    min: usize,
    invalid: impl Fn(&str) -> ConfigError,
) -> Result<Duration, ConfigError> {
    number(value, min, invalid).map(|n| Duration::from_millis(n as u64))
}

fn boolean(value: &str, invalid: impl Fn(&str) -> ConfigError) -> Result<bool, ConfigError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid("expected true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<ProducerConfig, ConfigError> {
        let mut all = vec![("bootstrap.servers", "localhost:9092")];
        all.extend_from_slice(pairs);
        ProducerConfig::from_properties(all)
    }

    #[test]
    fn defaults_are_javas() {
        let c = config(&[]).unwrap();
        assert_eq!(c.acks, Acks::All);
        assert!(c.enable_idempotence);
        assert_eq!(c.linger, Duration::from_millis(5));
        assert_eq!(c.batch_size, 16_384);
        assert_eq!(c.buffer_memory, 33_554_432);
        assert_eq!(c.max_request_size, 1_048_576);
        assert_eq!(c.retries, 2_147_483_647);
        assert_eq!(c.delivery_timeout, Duration::from_secs(120));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.max_block, Duration::from_secs(60));
        assert_eq!(c.metadata_max_age, Duration::from_secs(300));
        assert_eq!(c.max_in_flight, 5);
        assert_eq!(c.metadata_recovery, MetadataRecoveryStrategy::Rebootstrap);
        assert_eq!(c.partitioner, PartitionerKind::Java);
    }

    #[test]
    fn every_documented_key_is_accepted() {
        let c = config(&[
            ("acks", "1"),
            ("linger.ms", "7"),
            ("batch.size", "1000"),
            ("batch.num.messages", "10"),
            ("buffer.memory", "100000"),
            ("max.block.ms", "10"),
            ("compression.type", "zstd"),
            ("max.request.size", "5000"),
            ("retries", "3"),
            ("retry.backoff.ms", "1"),
            ("retry.backoff.max.ms", "2"),
            ("request.timeout.ms", "100"),
            ("delivery.timeout.ms", "200"),
            ("max.in.flight.requests.per.connection", "9"),
            ("enable.idempotence", "false"),
            ("metadata.max.age.ms", "1000"),
            ("metadata.recovery.strategy", "none"),
            ("partitioner", "consistent_random"),
            ("client.id", "me"),
        ])
        .unwrap();
        assert_eq!(c.acks, Acks::Leader);
        assert_eq!(c.batch_num_messages, 10);
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.max_in_flight, 9);
        assert_eq!(c.partitioner, PartitionerKind::ConsistentRandom);
        assert_eq!(c.client_id, "me");
        assert_eq!(c.metadata_recovery, MetadataRecoveryStrategy::None);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = config(&[("linger", "5")]).unwrap_err();
        assert_eq!(e.to_string(), "unknown producer property `linger`");
        let e = config(&[("acks", "2")]).unwrap_err();
        assert!(e.to_string().contains("`acks`"), "{e}");
        let e = config(&[("batch.size", "-1")]).unwrap_err();
        assert!(e.to_string().contains("`batch.size`"), "{e}");
        let e = config(&[("compression.type", "brotli")]).unwrap_err();
        assert!(e.to_string().contains("`compression.type`"), "{e}");
        let e = ProducerConfig::from_properties([("acks", "1")]).unwrap_err();
        assert!(e.to_string().contains("bootstrap.servers"), "{e}");
    }

    #[test]
    fn explicit_idempotence_conflicts_are_errors() {
        for bad in [
            ("acks", "1"),
            ("retries", "0"),
            ("max.in.flight.requests.per.connection", "6"),
        ] {
            let e = config(&[("enable.idempotence", "true"), bad]).unwrap_err();
            assert!(matches!(e, ConfigError::Conflict(_)), "{bad:?}: {e}");
            let c = config(&[bad]).unwrap();
            assert!(
                !c.enable_idempotence,
                "{bad:?} silently disables idempotence"
            );
        }
    }

    #[test]
    fn delivery_timeout_must_cover_linger_and_request_timeout() {
        let e = config(&[
            ("delivery.timeout.ms", "100"),
            ("linger.ms", "50"),
            ("request.timeout.ms", "60"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("delivery.timeout.ms"), "{e}");
        let c = config(&[("linger.ms", "50"), ("request.timeout.ms", "200000")]).unwrap();
        assert_eq!(c.delivery_timeout, Duration::from_millis(200_050));
    }
}
