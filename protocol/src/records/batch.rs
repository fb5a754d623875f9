//! Reading record batches: a nom parser that validates the header (magic, lengths against the
//! buffer, CRC-32C) and hands the records section to [`Records`], plus in-place edits of the
//! header fields a broker rewrites on append.

use bytes::Bytes;
use nom::Parser;
use nom::number::complete::{be_i8, be_i16, be_i32, be_i64, be_u32};

use super::record::Records;

use super::{
    ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL,
    ATTRIBUTES_OFFSET, BATCH_OVERHEAD, CRC_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2,
    ProducerState, increment_sequence,
};
use crate::ProtocolError;
use crate::compression::Compression;

/// The fixed 61-byte header of a record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record (0 as sent by a producer; assigned by the broker).
    pub base_offset: i64,
    /// Bytes after this field.
    pub batch_length: i32,
    /// Leader epoch stamped by the broker (-1 from producers); outside the CRC.
    pub partition_leader_epoch: i32,
    /// Always 2 here.
    pub magic: i8,
    /// CRC-32C of the bytes from `attributes` to the end.
    pub crc: u32,
    /// Codec, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// Offset delta of the last record (also its sequence delta).
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch (the append time under LogAppendTime).
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Records in the batch, as declared.
    pub records_count: i32,
}

impl BatchHeader {
    /// The codec named by the attributes.
    pub fn compression(&self) -> Result<Compression, ProtocolError> {
        Compression::from_id((self.attributes & ATTR_COMPRESSION_MASK) as u8)
    }

    /// Timestamps are LogAppendTime.
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & ATTR_LOG_APPEND_TIME != 0
    }

    /// Part of a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// A control batch (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }

    /// Sequence of the last record (wrapping at `i32::MAX`), or -1 without a producer id.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return self.base_sequence;
        }
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }

    /// The producer identity of the batch.
    pub fn producer_state(&self) -> ProducerState {
        ProducerState {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
        }
    }

    /// Bytes of the whole batch, `baseOffset` and `batchLength` included.
    pub fn size_in_bytes(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }
}

/// One validated record batch; its records are read lazily from the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    header: BatchHeader,
    bytes: Bytes,
}

impl RecordBatch {
    /// Parses and validates exactly one batch filling `input` (as a Produce request carries it).
    pub fn parse(input: &Bytes) -> Result<RecordBatch, ProtocolError> {
        let batch = Self::parse_first(input)?;
        if batch.bytes.len() != input.len() {
            return Err(ProtocolError::Invalid {
                what: "records",
                detail: format!(
                    "{} bytes follow the first batch; one batch per partition is allowed",
                    input.len() - batch.bytes.len()
                ),
            });
        }
        Ok(batch)
    }

    /// Parses and validates the batch at the front of `input`; it may be followed by more.
    pub fn parse_first(input: &Bytes) -> Result<RecordBatch, ProtocolError> {
        let truncated = |_: nom::Err<nom::error::Error<&[u8]>>| ProtocolError::Truncated {
            what: "record batch header",
        };
        let (_, (base_offset, batch_length, partition_leader_epoch, magic)) =
            (be_i64, be_i32, be_i32, be_i8)
                .parse(&input[..])
                .map_err(truncated)?;
        if input.len() > MAGIC_OFFSET && magic != MAGIC_V2 {
            return Err(ProtocolError::UnknownMagic(magic));
        }
        let min_length = (BATCH_OVERHEAD - LOG_OVERHEAD) as i32;
        if batch_length < min_length {
            return Err(ProtocolError::Invalid {
                what: "batch length",
                detail: format!("{batch_length} is below the {min_length}-byte header"),
            });
        }
        let size = LOG_OVERHEAD + batch_length as usize;
        let Some(bytes) = input.get(..size) else {
            return Err(ProtocolError::Truncated {
                what: "record batch",
            });
        };
        let (_, (crc, attributes, last_offset_delta, base_timestamp, max_timestamp)) =
            (be_u32, be_i16, be_i32, be_i64, be_i64)
                .parse(&bytes[CRC_OFFSET..])
                .map_err(truncated)?;
        let (_, (producer_id, producer_epoch, base_sequence, records_count)) =
            (be_i64, be_i16, be_i32, be_i32)
                .parse(&bytes[43..])
                .map_err(truncated)?;
        let computed = crc32c::crc32c(&bytes[ATTRIBUTES_OFFSET..]);
        if computed != crc {
            return Err(ProtocolError::BadCrc {
                stored: crc,
                computed,
            });
        }
        let header = BatchHeader {
            base_offset,
            batch_length,
            partition_leader_epoch,
            magic,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            records_count,
        };
        header.compression()?;
        if records_count < 0 {
            return Err(ProtocolError::Invalid {
                what: "records count",
                detail: format!("negative ({records_count})"),
            });
        }
        Ok(RecordBatch {
            header,
            bytes: input.slice(..size),
        })
    }

    /// The batch header.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The whole batch as it was received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The records, decompressed into at most `max_uncompressed` bytes when the batch is
    /// compressed; borrowed from the batch otherwise.
    pub fn records(&self, max_uncompressed: usize) -> Result<Records, ProtocolError> {
        let payload = self.bytes.slice(BATCH_OVERHEAD..);
        let data = match self.header.compression()? {
            Compression::None => payload,
            codec => Bytes::from(codec.decompress(&payload, max_uncompressed)?),
        };
        Ok(Records::new(data, &self.header))
    }

    /// Decodes every record and checks that they match the header (count, offset deltas,
    /// no bytes left over): what a broker does before accepting a batch.
    pub fn validate_records(&self, max_uncompressed: usize) -> Result<(), ProtocolError> {
        let mut last_delta = -1i64;
        for record in self.records(max_uncompressed)? {
            let delta = record?.offset.wrapping_sub(self.header.base_offset);
            if delta != last_delta + 1 {
                return Err(ProtocolError::Invalid {
                    what: "record offset delta",
                    detail: format!("expected {}, found {delta}", last_delta + 1),
                });
            }
            last_delta = delta;
        }
        if last_delta != i64::from(self.header.last_offset_delta) && self.header.records_count > 0 {
            return Err(ProtocolError::Invalid {
                what: "last offset delta",
                detail: format!(
                    "header says {}, records end at {last_delta}",
                    self.header.last_offset_delta
                ),
            });
        }
        Ok(())
    }
}

/// Iterates over the concatenated batches of a records field (a Fetch response, a log segment).
/// A trailing partial batch, which Fetch responses may end with, is reported as
/// [`ProtocolError::Truncated`].
pub fn parse_batches(input: Bytes) -> Batches {
    Batches { rest: input }
}

/// Iterator returned by [`parse_batches`]; stops after the first error.
#[derive(Debug, Clone)]
pub struct Batches {
    rest: Bytes,
}

impl Iterator for Batches {
    type Item = Result<RecordBatch, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RecordBatch::parse_first(&self.rest) {
            Ok(batch) => {
                self.rest = self.rest.slice(batch.bytes.len()..);
                Some(Ok(batch))
            }
            Err(e) => {
                self.rest = Bytes::new();
                Some(Err(e))
            }
        }
    }
}

/// Sets `baseOffset` of a batch in place (outside the CRC).
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), ProtocolError> {
    header_mut(batch)?[0..8].copy_from_slice(&base_offset.to_be_bytes());
    Ok(())
}

/// Sets `partitionLeaderEpoch` of a batch in place (outside the CRC).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), ProtocolError> {
    header_mut(batch)?[12..16].copy_from_slice(&epoch.to_be_bytes());
    Ok(())
}

/// Marks a batch LogAppendTime with `timestamp` as its max timestamp and recomputes the CRC,
/// as a broker does for topics with `message.timestamp.type=LogAppendTime`.
pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) -> Result<(), ProtocolError> {
    let header = header_mut(batch)?;
    let attributes = i16::from_be_bytes([header[21], header[22]]) | ATTR_LOG_APPEND_TIME;
    header[21..23].copy_from_slice(&attributes.to_be_bytes());
    header[35..43].copy_from_slice(&timestamp.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
    batch[CRC_OFFSET..ATTRIBUTES_OFFSET].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// Rewrites the producer id, epoch and base sequence of a finished batch and recomputes the CRC.
pub fn set_producer_state(batch: &mut [u8], producer: ProducerState) -> Result<(), ProtocolError> {
    let header = header_mut(batch)?;
    header[43..51].copy_from_slice(&producer.producer_id.to_be_bytes());
    header[51..53].copy_from_slice(&producer.producer_epoch.to_be_bytes());
    header[53..57].copy_from_slice(&producer.base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
    batch[CRC_OFFSET..ATTRIBUTES_OFFSET].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

fn header_mut(batch: &mut [u8]) -> Result<&mut [u8], ProtocolError> {
    batch
        .get_mut(..BATCH_OVERHEAD)
        .ok_or(ProtocolError::Truncated {
            what: "record batch header",
        })
}
