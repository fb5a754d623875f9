//! What landed in a partition, record by record, for tests to read: offsets, keys, values,
//! headers, timestamps, the producer identity and the batch each record came in.

use bytes::Bytes;
use ktrial_protocol::ProtocolError;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{Header, RecordBatch, increment_sequence};

use super::log::PartitionLog;

/// The batch a record arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchInfo {
    /// Offset of the batch's first record.
    pub base_offset: i64,
    /// Offset of its last record.
    pub last_offset: i64,
    /// Its codec.
    pub compression: Compression,
    /// Its leader epoch.
    pub leader_epoch: i32,
}

/// One record of a partition's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Its offset.
    pub offset: i64,
    /// Its timestamp (the append time under LogAppendTime).
    pub timestamp: i64,
    /// The timestamp is the broker's append time.
    pub log_append_time: bool,
    /// Key, `None` when null.
    pub key: Option<Bytes>,
    /// Value, `None` when null.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// The record's own sequence (batch base sequence + offset delta), or -1.
    pub sequence: i32,
    /// The batch it arrived in.
    pub batch: BatchInfo,
}

/// Decodes every record of a log, oldest first.
pub(crate) fn decode_log(
    log: &PartitionLog,
    max_uncompressed: usize,
) -> Result<Vec<StoredRecord>, ProtocolError> {
    let mut out = Vec::new();
    for stored in log.batches() {
        let batch = RecordBatch::parse(&stored.bytes())?;
        let header = *batch.header();
        let info = BatchInfo {
            base_offset: header.base_offset,
            last_offset: header.last_offset(),
            compression: header.compression()?,
            leader_epoch: header.partition_leader_epoch,
        };
        for record in batch.records(max_uncompressed)? {
            let record = record?;
            let delta = i32::try_from(record.offset - header.base_offset).unwrap_or(i32::MAX);
            out.push(StoredRecord {
                offset: record.offset,
                timestamp: record.timestamp,
                log_append_time: header.is_log_append_time(),
                key: record.key,
                value: record.value,
                headers: record.headers,
                producer_id: header.producer_id,
                producer_epoch: header.producer_epoch,
                sequence: if header.base_sequence < 0 {
                    -1
                } else {
                    increment_sequence(header.base_sequence, delta)
                },
                batch: info,
            });
        }
    }
    Ok(out)
}
