//! Helpers shared by the integration tests: record batches and Produce requests, and an HTTP
//! client for the control API.
#![allow(clippy::unwrap_used, dead_code)]

pub mod http;

use bytes::Bytes;
use ktrial_protocol::StrBytes;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use ktrial_protocol::messages::{ProduceRequest, TopicName};
use ktrial_protocol::records::{ProducerState, RecordBatchBuilder};

/// A batch of `count` records keyed `k{i}` with values `v{i}`.
pub fn batch(compression: Compression, count: usize, producer: ProducerState) -> Bytes {
    let mut builder = RecordBatchBuilder::new(compression);
    builder.set_producer_state(producer);
    for i in 0..count {
        let key = format!("k{i}");
        let value = format!("v{i}");
        builder
            .append(
                1_700_000_000_000 + i as i64,
                Some(key.as_bytes()),
                Some(value.as_bytes()),
                &[],
            )
            .unwrap();
    }
    builder.finish().unwrap()
}

/// An idempotent producer's identity.
pub fn producer(id: i64, epoch: i16, base_sequence: i32) -> ProducerState {
    ProducerState {
        producer_id: id,
        producer_epoch: epoch,
        base_sequence,
    }
}

/// A Produce request with one entry per `(topic, partition, records)`.
pub fn produce_request(acks: i16, timeout_ms: i32, parts: &[(&str, i32, Bytes)]) -> ProduceRequest {
    let topic_data = parts
        .iter()
        .map(|(topic, partition, records)| {
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(*partition)
                        .with_records(Some(records.clone())),
                ])
        })
        .collect();
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(timeout_ms)
        .with_topic_data(topic_data)
}
