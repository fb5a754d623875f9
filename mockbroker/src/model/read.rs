//! Reads on the leader: Fetch (whole batches below the high watermark) and ListOffsets
//! (earliest, latest, max timestamp, by timestamp), with Kafka's leader and leader-epoch checks.

use bytes::{Bytes, BytesMut};
use ktrial_protocol::ResponseError;
use ktrial_protocol::records::RecordBatch;

use super::cluster::{BrokerId, Cluster};
use super::log::StoredBatch;
use super::partition::Partition;

/// ListOffsets timestamp asking for the log start offset.
pub const EARLIEST_TIMESTAMP: i64 = -2;
/// ListOffsets timestamp asking for the high watermark.
pub const LATEST_TIMESTAMP: i64 = -1;
/// ListOffsets timestamp (v7+, KIP-734) asking for the record with the largest timestamp.
pub const MAX_TIMESTAMP: i64 = -3;
/// ListOffsets timestamp (v8+, KIP-405) asking for the first offset on local disk: the log
/// start offset, as nothing is tiered here.
pub const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;
/// ListOffsets timestamp (v9+, KIP-1005) asking for the last tiered offset: -1 without tiered
/// storage.
pub const LATEST_TIERED_TIMESTAMP: i64 = -5;

/// What a Fetch gets from one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPartition {
    /// The high watermark.
    pub high_watermark: i64,
    /// The log start offset.
    pub log_start_offset: i64,
    /// Whole batches, concatenated.
    pub records: Bytes,
}

impl Cluster {
    /// The partition, if `broker` leads it at `current_leader_epoch` (-1: not checked).
    fn led_partition(
        &self,
        broker: BrokerId,
        topic: &str,
        partition: i32,
        current_leader_epoch: i32,
    ) -> Result<&Partition, ResponseError> {
        let p = self
            .partition(topic, partition)
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        if p.leader() != broker {
            return Err(ResponseError::NotLeaderOrFollower);
        }
        match current_leader_epoch {
            e if e >= 0 && e < p.leader_epoch() => Err(ResponseError::FencedLeaderEpoch),
            e if e > p.leader_epoch() => Err(ResponseError::UnknownLeaderEpoch),
            _ => Ok(p),
        }
    }

    /// A consumer's Fetch of one partition from `offset`: batches below the high watermark, up
    /// to `max_bytes` (at least one batch with `min_one_batch`). Offsets past the log end or before its start are
    /// OFFSET_OUT_OF_RANGE; offsets between the high watermark and the log end read nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn fetch(
        &self,
        broker: BrokerId,
        topic: &str,
        partition: i32,
        current_leader_epoch: i32,
        offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<FetchedPartition, ResponseError> {
        let p = self.led_partition(broker, topic, partition, current_leader_epoch)?;
        let log = p.log();
        if offset < log.log_start_offset() || offset > log.log_end_offset() {
            return Err(ResponseError::OffsetOutOfRange);
        }
        let batches = log.read(offset, p.high_watermark(), max_bytes, min_one_batch);
        let mut records = BytesMut::with_capacity(batches.iter().map(StoredBatch::len).sum());
        for batch in batches {
            batch.write_to(&mut records);
        }
        Ok(FetchedPartition {
            high_watermark: p.high_watermark(),
            log_start_offset: log.log_start_offset(),
            records: records.freeze(),
        })
    }

    /// ListOffsets for one partition: `(offset, timestamp, leader_epoch)`. Earliest is the log
    /// start, latest the high watermark; max timestamp the first committed record carrying the
    /// largest timestamp; a timestamp finds the first committed record at or after it. Offset -1
    /// when there is none.
    pub fn list_offset(
        &self,
        broker: BrokerId,
        topic: &str,
        partition: i32,
        current_leader_epoch: i32,
        timestamp: i64,
    ) -> Result<(i64, i64, i32), ResponseError> {
        let p = self.led_partition(broker, topic, partition, current_leader_epoch)?;
        let epoch = p.leader_epoch();
        let not_found = Ok((-1, -1, -1));
        match timestamp {
            EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => {
                Ok((p.log().log_start_offset(), -1, epoch))
            }
            LATEST_TIMESTAMP => Ok((p.high_watermark(), -1, epoch)),
            LATEST_TIERED_TIMESTAMP => not_found,
            MAX_TIMESTAMP => {
                // The first batch holding the largest timestamp, then its first record with it
                // (`UnifiedLog.fetchOffsetByTimestamp`, `DefaultRecordBatch.offsetOfMaxTimestamp`).
                let mut newest: Option<&StoredBatch> = None;
                for stored in p.log().batches_from_timestamp(i64::MIN, p.high_watermark()) {
                    if newest.is_none_or(|n| stored.max_timestamp > n.max_timestamp) {
                        newest = Some(stored);
                    }
                }
                match newest {
                    Some(stored) => self
                        .first_record_at_or_after(stored, stored.max_timestamp)
                        .map(|found| {
                            found.unwrap_or((
                                stored.base_offset,
                                stored.max_timestamp,
                                stored.leader_epoch,
                            ))
                        }),
                    None => not_found,
                }
            }
            t if t < 0 => Err(ResponseError::InvalidRequest),
            t => {
                for stored in p.log().batches_from_timestamp(t, p.high_watermark()) {
                    if let Some(found) = self.first_record_at_or_after(stored, t)? {
                        return Ok(found);
                    }
                }
                not_found
            }
        }
    }

    /// The first record of `stored` with a timestamp at or after `t`.
    fn first_record_at_or_after(
        &self,
        stored: &StoredBatch,
        t: i64,
    ) -> Result<Option<(i64, i64, i32)>, ResponseError> {
        let batch =
            RecordBatch::parse(&stored.bytes()).map_err(|_| ResponseError::CorruptMessage)?;
        let records = batch
            .records(self.config.max_uncompressed_batch_bytes)
            .map_err(|_| ResponseError::CorruptMessage)?;
        for record in records {
            let record = record.map_err(|_| ResponseError::CorruptMessage)?;
            if record.timestamp >= t {
                return Ok(Some((record.offset, record.timestamp, stored.leader_epoch)));
            }
        }
        Ok(None)
    }
}
