//! A Kafka-compatible mock cluster: the cluster model, its request handlers and the servers that
//! expose it over TCP or a simulated network.
//!
//! - [`model`]: the cluster as plain data (replication, ISR, high watermark, idempotence).

pub mod model;
