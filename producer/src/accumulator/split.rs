//! Splitting a batch the broker refused with MESSAGE_TOO_LARGE (Java: `Sender.completeBatch` →
//! `RecordAccumulator.splitAndReenqueue` → `ProducerBatch.split`).
//!
//! The records are decoded from the sealed bytes and written again into two parts, each with
//! the producer state of the original shifted to its first record, so the parts cover the
//! original's sequence range in order and need no epoch bump (the broker wrote nothing of it).
//! Java cuts parts of `batch.size` bytes; halving instead always makes progress when
//! `batch.size` itself exceeds the broker's limit, down to single records, which fail alone.

use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{
    ProducerState, Record, RecordBatch, RecordBatchBuilder, increment_sequence,
};

use super::{BatchOrder, Payload, ProducerBatch};
use crate::error::ProducerError;

/// The two halves of a sealed batch of at least two records, ids and memory left to the caller.
pub(super) fn halves(
    batch: &ProducerBatch,
    compression: Compression,
) -> Result<Vec<ProducerBatch>, ProducerError> {
    let Some(bytes) = batch.bytes() else {
        return Err(ProducerError::Protocol(
            "only a sent batch can be split".into(),
        ));
    };
    let parsed = RecordBatch::parse(bytes)?;
    let records = parsed
        .records(batch.uncompressed_bytes)?
        .collect::<Result<Vec<Record>, _>>()?;
    if records.len() < 2 {
        return Err(ProducerError::Protocol(format!(
            "a batch of {} record(s) cannot be split",
            records.len()
        )));
    }
    let middle = records.len() / 2;
    [(0, &records[..middle]), (middle, &records[middle..])]
        .into_iter()
        .map(|(first, records)| part(batch, compression, first, records))
        .collect()
}

/// A sealed part holding `records`, which start at index `first` of `batch`.
fn part(
    batch: &ProducerBatch,
    compression: Compression,
    first: usize,
    records: &[Record],
) -> Result<ProducerBatch, ProducerError> {
    let first = i32::try_from(first)
        .map_err(|_| ProducerError::Protocol("record index beyond i32".into()))?;
    let mut builder = RecordBatchBuilder::with_capacity(compression, batch.uncompressed_bytes);
    for record in records {
        let headers = record
            .headers
            .iter()
            .map(|h| {
                std::str::from_utf8(&h.key)
                    .map(|key| (key, h.value.as_deref()))
                    .map_err(|_| ProducerError::Protocol("header key is not UTF-8".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        builder.append(
            record.timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &headers,
        )?;
    }
    let producer = if batch.producer.base_sequence >= 0 {
        ProducerState {
            base_sequence: increment_sequence(batch.producer.base_sequence, first),
            ..batch.producer
        }
    } else {
        batch.producer
    };
    builder.set_producer_state(producer);
    let uncompressed_bytes = builder.size_in_bytes();
    Ok(ProducerBatch {
        id: batch.id,
        order: BatchOrder {
            root: batch.order.root,
            first_record: batch.order.first_record + first,
        },
        topic: batch.topic.clone(),
        partition: batch.partition,
        payload: Payload::Sealed(builder.finish()?),
        record_count: records.len() as i32,
        uncompressed_bytes,
        reserved: 0,
        created: batch.created,
        attempts: batch.attempts,
        retry_at: None,
        producer,
        completion: batch.completion.clone(),
        reported_timed_out: false,
        split: true,
        full: true,
    })
}
