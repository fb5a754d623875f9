//! One partition's log on its leader: record batches as received, with broker-assigned offsets,
//! the leader epoch and (for LogAppendTime topics) the append time written into their headers.
//!
//! A batch is not copied on append. Its base offset and leader epoch lie outside the CRC, in
//! the first bytes of the header (`DefaultRecordBatch`: baseOffset at 0, partitionLeaderEpoch
//! at 12), so only the header is copied and stamped; the records stay in the request's buffer,
//! shared, so the request's buffer lives as long as the batch. A copy would cost CPU per byte
//! and fresh pages per batch, the broker's main cost when ingesting (BENCHMARKS.md, Mock
//! broker). LogAppendTime changes the attributes and max timestamp and so the CRC over the whole
//! batch: such a batch is copied whole.

use bytes::{Bytes, BytesMut};
use ktrial_protocol::ProtocolError;
use ktrial_protocol::records::{
    BATCH_OVERHEAD, RecordBatch, set_base_offset, set_log_append_time, set_partition_leader_epoch,
};
use tokio::time::Instant;

/// A batch as stored: its bytes ([`StoredBatch::bytes`]) are exactly what a Fetch returns.
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
    /// The stamped header (the whole batch when it had to be copied).
    head: Bytes,
    /// The rest of the batch, as received.
    tail: Bytes,
}

impl StoredBatch {
    /// Size of the whole batch in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Never true: a stored batch holds at least its header.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole batch in one buffer (a copy).
    pub fn bytes(&self) -> Bytes {
        let mut bytes = BytesMut::with_capacity(self.len());
        self.write_to(&mut bytes);
        bytes.freeze()
    }

    /// Appends the whole batch to `out`.
    pub(crate) fn write_to(&self, out: &mut BytesMut) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.tail);
    }
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
        let received = batch.as_bytes();
        let copied = match log_append_time {
            Some(_) => received.len(),
            None => BATCH_OVERHEAD.min(received.len()),
        };
        let mut head = BytesMut::from(&received[..copied]);
        set_base_offset(&mut head, base_offset)?;
        set_partition_leader_epoch(&mut head, leader_epoch)?;
        let max_timestamp = match log_append_time {
            Some(time) => {
                set_log_append_time(&mut head, time)?;
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
            head: head.freeze(),
            tail: received.slice(copied..),
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
    ) -> &[StoredBatch] {
        let first = self.batch_index(from);
        let mut end = first;
        let mut size = 0;
        for batch in &self.batches[first..] {
            if batch.last_offset >= upto {
                break;
            }
            if (!min_one_batch || end > first) && size + batch.len() > max_bytes {
                break;
            }
            size += batch.len();
            end += 1;
        }
        &self.batches[first..end]
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

#[cfg(test)]
mod tests {
    use ktrial_protocol::compression::Compression;
    use ktrial_protocol::records::RecordBatchBuilder;

    use super::*;

    fn received(records: usize) -> RecordBatch {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        for i in 0..records {
            builder
                .append(1_000 + i as i64, None, Some(&[b'v'; 100]), &[])
                .unwrap();
        }
        RecordBatch::parse(&builder.finish().unwrap()).unwrap()
    }

    #[test]
    fn append_stamps_the_header_and_shares_the_records_with_the_request() {
        let mut log = PartitionLog::default();
        let now = Instant::now();
        log.append(&received(2), 0, None, now).unwrap();
        let batch = received(3);
        let stored = log.append(&batch, 7, None, now).unwrap().clone();

        let bytes = stored.bytes();
        assert_eq!(bytes.len(), batch.as_bytes().len());
        assert_eq!(stored.len(), bytes.len());
        let reparsed = RecordBatch::parse(&bytes).unwrap();
        assert_eq!(reparsed.header().base_offset, 2);
        assert_eq!(reparsed.header().partition_leader_epoch, 7);
        assert_eq!(bytes[BATCH_OVERHEAD..], batch.as_bytes()[BATCH_OVERHEAD..]);
        assert_eq!(
            stored.tail.as_ptr(),
            batch.as_bytes()[BATCH_OVERHEAD..].as_ptr(),
            "the records are not copied"
        );
        assert_eq!(
            log.read(0, 5, usize::MAX, true)
                .iter()
                .map(StoredBatch::bytes)
                .collect::<Vec<_>>()
                .concat()
                .len(),
            received(2).as_bytes().len() + bytes.len()
        );
    }

    #[test]
    fn log_append_time_rewrites_the_crc_over_a_copy() {
        let mut log = PartitionLog::default();
        let batch = received(2);
        let stored = log
            .append(&batch, 3, Some(55_000), Instant::now())
            .unwrap()
            .clone();
        let reparsed = RecordBatch::parse(&stored.bytes()).unwrap();
        assert!(reparsed.header().is_log_append_time());
        assert_eq!(reparsed.header().max_timestamp, 55_000);
        assert_eq!(stored.max_timestamp, 55_000);
        assert_ne!(reparsed.header().crc, batch.header().crc);
    }
}
