//! An async Kafka producer: accumulator, partitioners, sender, idempotence and metadata.
//! Built up by the producer issue.
