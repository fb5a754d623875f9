//! One partition's log on its leader: record batches as received, with broker-assigned offsets,
//! the leader epoch and (for LogAppendTime topics) the append time written into their headers.

use bytes::{Bytes, BytesMut};
use ktrial_protocol::ProtocolError;
use ktrial_protocol::records::{
    RecordBatch, set_base_offset, set_log_append_time, set_partition_leader_epoch,
};
use tokio::time::Instant;

/// A batch as stored: its bytes are exactly what a Fetch returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// Largest timestamp (the append time under LogAppendTime).
    pub max_timestamp: i64,
    /// The leader epoch stamped into the batch.
    pub leader_epoch: i32,
    /// When the leader appended it (replication delays count from here).
    pub appended_at: Instant,
    /// The whole batch.
    pub bytes: Bytes,
}

/// The leader's log of one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionLog {
    batches: Vec<StoredBatch>,
    log_start_offset: i64,
    log_end_offset: i64,
}

impl PartitionLog {
    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// Offset the next record will get (LEO).
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// The stored batches, oldest first.
    pub fn batches(&self) -> &[StoredBatch] {
        &self.batches
    }

    /// Appends a validated batch at the log end; `log_append_time` is set for LogAppendTime topics.
    pub(crate) fn append(
        &mut self,
        batch: &RecordBatch,
        leader_epoch: i32,
        log_append_time: Option<i64>,
        now: Instant,
    ) -> Result<&StoredBatch, ProtocolError> {
        let base_offset = self.log_end_offset;
        let mut bytes = BytesMut::from(&batch.as_bytes()[..]);
        set_base_offset(&mut bytes, base_offset)?;
        set_partition_leader_epoch(&mut bytes, leader_epoch)?;
        let max_timestamp = match log_append_time {
            Some(time) => {
                set_log_append_time(&mut bytes, time)?;
                time
            }
            None => batch.header().max_timestamp,
        };
        let last_offset = base_offset + i64::from(batch.header().last_offset_delta);
        self.log_end_offset = last_offset + 1;
        self.batches.push(StoredBatch {
            base_offset,
            last_offset,
            max_timestamp,
            leader_epoch,
            appended_at: now,
            bytes: bytes.freeze(),
        });
        Ok(&self.batches[self.batches.len() - 1])
    }

    /// Cuts the log at `offset` (a batch boundary): the batches from there on are gone.
    pub(crate) fn truncate_to(&mut self, offset: i64) {
        let keep = self.batch_index(offset);
        self.batches.truncate(keep);
        self.log_end_offset = offset.max(self.log_start_offset);
    }

    /// The log end offset as it was at `at`: what a follower that copies with a delay has.
    pub(crate) fn end_offset_at(&self, at: Instant) -> i64 {
        let appended = self.batches.partition_point(|b| b.appended_at <= at);
        match appended.checked_sub(1) {
            Some(last) => self.batches[last].last_offset + 1,
            None => self.log_start_offset,
        }
    }

    /// Index of the batch holding `offset`, or of the first batch after it.
    fn batch_index(&self, offset: i64) -> usize {
        self.batches.partition_point(|b| b.last_offset < offset)
    }

    /// When the batch holding `offset` was appended, if it is in the log.
    pub(crate) fn appended_at(&self, offset: i64) -> Option<Instant> {
        self.batches
            .get(self.batch_index(offset))
            .map(|b| b.appended_at)
    }

    /// Whole batches from the one holding `from`, below `upto`, until `max_bytes` are reached.
    /// With `min_one_batch` the first batch is returned even when larger (KIP-74), so that a
    /// consumer always makes progress.
    pub(crate) fn read(
        &self,
        from: i64,
        upto: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut size = 0;
        for batch in &self.batches[self.batch_index(from)..] {
            if batch.last_offset >= upto {
                break;
            }
            if (!min_one_batch || !out.is_empty()) && size + batch.bytes.len() > max_bytes {
                break;
            }
            size += batch.bytes.len();
            out.push(batch.bytes.clone());
        }
        out
    }

    /// Batches that may hold a record with a timestamp at or after `timestamp`, below `upto`.
    pub(crate) fn batches_from_timestamp(
        &self,
        timestamp: i64,
        upto: i64,
    ) -> impl Iterator<Item = &StoredBatch> {
        self.batches
            .iter()
            .take_while(move |b| b.last_offset < upto)
            .filter(move |b| b.max_timestamp >= timestamp)
    }
}
