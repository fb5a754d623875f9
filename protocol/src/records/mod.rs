//! RecordBatch v2 (magic 2), the unit both the producer and the broker move around.
//!
//! Layout (`DefaultRecordBatch.java`), big-endian: baseOffset i64 · batchLength i32 ·
//! partitionLeaderEpoch i32 · magic i8 · crc u32 (CRC-32C of everything from attributes on) ·
//! attributes i16 · lastOffsetDelta i32 · baseTimestamp i64 · maxTimestamp i64 · producerId i64 ·
//! producerEpoch i16 · baseSequence i32 · recordsCount i32 · records (compressed as a whole).
//!
//! - [`RecordBatchBuilder`] appends records one by one into one buffer and finishes with
//!   compression and the CRC.
//! - [`RecordBatch::parse`] / [`parse_batches`] validate magic, lengths and CRC; [`Records`]
//!   hands out records that borrow the input (no copy when uncompressed).

mod batch;
mod builder;
mod record;

pub use batch::{
    BatchHeader, Batches, RecordBatch, parse_batches, set_base_offset, set_log_append_time,
    set_partition_leader_epoch, set_producer_state,
};
pub use builder::RecordBatchBuilder;
pub use record::{Record, Records};

/// Bytes of a batch before its records (`RECORD_BATCH_OVERHEAD`).
pub const BATCH_OVERHEAD: usize = 61;
/// Bytes before `batchLength` ends: baseOffset and batchLength themselves.
pub const LOG_OVERHEAD: usize = 12;
/// The most bytes a record adds beyond its key, value and headers (`MAX_RECORD_OVERHEAD`).
pub const MAX_RECORD_OVERHEAD: usize = 21;
/// `partitionLeaderEpoch`, `producerId`, `producerEpoch`, `baseSequence` when unset.
pub const NO_PRODUCER_ID: i64 = -1;
/// See [`NO_PRODUCER_ID`].
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// See [`NO_PRODUCER_ID`].
pub const NO_SEQUENCE: i32 = -1;
/// See [`NO_PRODUCER_ID`].
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

const MAGIC_OFFSET: usize = 16;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const MAGIC_V2: i8 = 2;

/// Attribute bit: timestamps are LogAppendTime (set by the broker).
pub const ATTR_LOG_APPEND_TIME: i16 = 0x08;
/// Attribute bit: the batch belongs to a transaction.
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
/// Attribute bit: a control batch (transaction markers).
pub const ATTR_CONTROL: i16 = 0x20;
/// Attribute bits 0-2: the compression codec.
pub const ATTR_COMPRESSION_MASK: i16 = 0x07;

/// A record header: a UTF-8 key and an optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The key's bytes (UTF-8 by contract; not checked, as the Java client does not check).
    pub key: bytes::Bytes,
    /// The value, or `None` for a null value.
    pub value: Option<bytes::Bytes>,
}

/// The producer identity stamped on a batch (idempotence): id, epoch, first sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerState {
    /// Producer id from InitProducerId, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    /// Producer epoch, or [`NO_PRODUCER_EPOCH`].
    pub producer_epoch: i16,
    /// Sequence of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
}

impl ProducerState {
    /// No producer identity: a plain, non-idempotent batch.
    pub const NONE: ProducerState = ProducerState {
        producer_id: NO_PRODUCER_ID,
        producer_epoch: NO_PRODUCER_EPOCH,
        base_sequence: NO_SEQUENCE,
    };
}

impl Default for ProducerState {
    fn default() -> Self {
        Self::NONE
    }
}

/// `DefaultRecordBatch.incrementSequence`: sequences live in `[0, i32::MAX]` and wrap to 0.
///
/// ```
/// use ktrial_protocol::records::increment_sequence;
/// assert_eq!(increment_sequence(5, 3), 8);
/// assert_eq!(increment_sequence(i32::MAX, 1), 0);
/// assert_eq!(increment_sequence(i32::MAX - 1, 4), 2);
/// ```
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    // Java's int arithmetic wraps; so does this, so that a corrupt header cannot panic.
    if sequence > i32::MAX.wrapping_sub(increment) {
        increment
            .wrapping_sub(i32::MAX.wrapping_sub(sequence))
            .wrapping_sub(1)
    } else {
        sequence.wrapping_add(increment)
    }
}

#[cfg(test)]
mod tests;
