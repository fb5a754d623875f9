//! The incremental RecordBatch v2 writer: each record is encoded straight into the batch buffer
//! when appended, so finishing costs one compression pass (if any) and one CRC pass.

use bytes::Bytes;

use super::{
    ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, ATTRIBUTES_OFFSET, BATCH_OVERHEAD, CRC_OFFSET,
    LOG_OVERHEAD, MAGIC_V2, NO_PARTITION_LEADER_EPOCH, ProducerState,
};
use crate::ProtocolError;
use crate::compression::Compression;
use crate::varint::{put_varint, put_varlong, varint_len, varlong_len};

/// Builds one record batch, one record at a time.
///
/// ```
/// use ktrial_protocol::compression::Compression;
/// use ktrial_protocol::records::{RecordBatch, RecordBatchBuilder};
///
/// let mut builder = RecordBatchBuilder::new(Compression::Lz4);
/// builder.append(1_700_000_000_000, Some(b"key"), Some(b"value"), &[("trace", Some(b"abc"))])?;
/// builder.append(1_700_000_000_005, None, Some(b"second"), &[])?;
/// let bytes = builder.finish()?;
///
/// let batch = RecordBatch::parse(&bytes)?;
/// assert_eq!(batch.header().records_count, 2);
/// let values: Vec<_> = batch
///     .records(1 << 20)?
///     .map(|r| r.map(|r| r.value))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(values[1].as_deref(), Some(&b"second"[..]));
/// # Ok::<(), ktrial_protocol::ProtocolError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecordBatchBuilder {
    /// `BATCH_OVERHEAD` bytes reserved for the header, then the uncompressed records.
    buf: Vec<u8>,
    compression: Compression,
    producer: ProducerState,
    transactional: bool,
    log_append_time: bool,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

impl RecordBatchBuilder {
    /// An empty batch with the given codec and no producer identity.
    pub fn new(compression: Compression) -> Self {
        Self::with_capacity(compression, 1024)
    }

    /// An empty batch whose buffer starts with room for `capacity` bytes of records.
    pub fn with_capacity(compression: Compression, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(BATCH_OVERHEAD + capacity);
        buf.resize(BATCH_OVERHEAD, 0);
        Self {
            buf,
            compression,
            producer: ProducerState::NONE,
            transactional: false,
            log_append_time: false,
            count: 0,
            base_timestamp: -1,
            max_timestamp: -1,
        }
    }

    /// Stamps the producer id, epoch and base sequence (idempotent producers assign the sequence
    /// when the batch is drained, so this may come after the appends).
    pub fn set_producer_state(&mut self, producer: ProducerState) -> &mut Self {
        self.producer = producer;
        self
    }

    /// Marks the batch transactional.
    pub fn set_transactional(&mut self, transactional: bool) -> &mut Self {
        self.transactional = transactional;
        self
    }

    /// Marks the timestamps as LogAppendTime (what a broker does for topics configured so).
    pub fn set_log_append_time(&mut self, log_append_time: bool) -> &mut Self {
        self.log_append_time = log_append_time;
        self
    }

    /// Records appended so far.
    pub fn record_count(&self) -> i32 {
        self.count
    }

    /// True before the first append.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The batch's size so far, uncompressed, header included.
    pub fn size_in_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The codec the batch will be compressed with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The producer identity that will be stamped.
    pub fn producer_state(&self) -> ProducerState {
        self.producer
    }

    /// The first record's timestamp, or -1 while empty.
    pub fn base_timestamp(&self) -> i64 {
        self.base_timestamp
    }

    /// The largest timestamp so far, or -1 while empty.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// Bytes a record would add to a batch (`DefaultRecord.sizeInBytes`), given its offset and
    /// timestamp deltas; the accumulator uses it to decide whether a record still fits.
    pub fn record_size(
        offset_delta: i32,
        timestamp_delta: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> usize {
        let body = Self::record_body_size(offset_delta, timestamp_delta, key, value, headers);
        varint_len(body as i32) + body
    }

    fn record_body_size(
        offset_delta: i32,
        timestamp_delta: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> usize {
        let mut size = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
        size += bytes_field_len(key) + bytes_field_len(value);
        size += varint_len(headers.len() as i32);
        for (hkey, hvalue) in headers {
            size += bytes_field_len(Some(hkey.as_bytes())) + bytes_field_len(*hvalue);
        }
        size
    }

    /// Appends a record; returns its offset delta. Fails only when a length exceeds what the
    /// format can express (2 GiB) or the batch already holds `i32::MAX` records.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<i32, ProtocolError> {
        let offset_delta = self.count;
        if offset_delta == i32::MAX {
            return Err(too_large("record count", offset_delta as usize));
        }
        for field in [key, value].into_iter().flatten() {
            check_len(field.len())?;
        }
        for (hkey, hvalue) in headers {
            check_len(hkey.len())?;
            check_len(hvalue.map_or(0, <[u8]>::len))?;
        }
        if self.count == 0 {
            // Not `max(-1, ..)`: a batch of negative timestamps still has a true maximum.
            self.base_timestamp = timestamp;
            self.max_timestamp = timestamp;
        }
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp);
        let body = Self::record_body_size(offset_delta, timestamp_delta, key, value, headers);
        let body_len = i32::try_from(body).map_err(|_| too_large("record", body))?;

        let buf = &mut self.buf;
        buf.reserve(varint_len(body_len) + body);
        put_varint(buf, body_len);
        buf.push(0); // record attributes: unused
        put_varlong(buf, timestamp_delta);
        put_varint(buf, offset_delta);
        put_bytes_field(buf, key);
        put_bytes_field(buf, value);
        put_varint(buf, headers.len() as i32);
        for (hkey, hvalue) in headers {
            put_bytes_field(buf, Some(hkey.as_bytes()));
            put_bytes_field(buf, *hvalue);
        }

        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(offset_delta)
    }

    /// Compresses the records, writes the header and the CRC; the batch bytes, base offset 0.
    pub fn finish(self) -> Result<Bytes, ProtocolError> {
        let Self {
            mut buf,
            compression,
            producer,
            transactional,
            log_append_time,
            count,
            base_timestamp,
            max_timestamp,
        } = self;
        if compression != Compression::None {
            let mut packed = Vec::with_capacity(BATCH_OVERHEAD + (buf.len() - BATCH_OVERHEAD) / 2);
            packed.resize(BATCH_OVERHEAD, 0);
            compression.compress(&buf[BATCH_OVERHEAD..], &mut packed)?;
            buf = packed;
        }
        let batch_length = i32::try_from(buf.len() - LOG_OVERHEAD)
            .map_err(|_| too_large("record batch", buf.len()))?;
        let mut attributes = i16::from(compression.id());
        if transactional {
            attributes |= ATTR_TRANSACTIONAL;
        }
        if log_append_time {
            attributes |= ATTR_LOG_APPEND_TIME;
        }
        let header = &mut buf[..BATCH_OVERHEAD];
        header[0..8].copy_from_slice(&0i64.to_be_bytes());
        header[8..12].copy_from_slice(&batch_length.to_be_bytes());
        header[12..16].copy_from_slice(&NO_PARTITION_LEADER_EPOCH.to_be_bytes());
        header[16] = MAGIC_V2 as u8;
        header[21..23].copy_from_slice(&attributes.to_be_bytes());
        header[23..27].copy_from_slice(&(count - 1).max(0).to_be_bytes());
        header[27..35].copy_from_slice(&base_timestamp.to_be_bytes());
        header[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
        header[43..51].copy_from_slice(&producer.producer_id.to_be_bytes());
        header[51..53].copy_from_slice(&producer.producer_epoch.to_be_bytes());
        header[53..57].copy_from_slice(&producer.base_sequence.to_be_bytes());
        header[57..61].copy_from_slice(&count.to_be_bytes());
        let crc = crc32c::crc32c(&buf[ATTRIBUTES_OFFSET..]);
        buf[CRC_OFFSET..ATTRIBUTES_OFFSET].copy_from_slice(&crc.to_be_bytes());
        Ok(Bytes::from(buf))
    }
}

fn bytes_field_len(field: Option<&[u8]>) -> usize {
    match field {
        None => 1,
        Some(bytes) => varint_len(bytes.len() as i32) + bytes.len(),
    }
}

fn put_bytes_field(buf: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => put_varint(buf, -1),
        Some(bytes) => {
            put_varint(buf, bytes.len() as i32);
            buf.extend_from_slice(bytes);
        }
    }
}

fn check_len(len: usize) -> Result<(), ProtocolError> {
    if len > i32::MAX as usize {
        return Err(too_large("record field", len));
    }
    Ok(())
}

fn too_large(what: &'static str, len: usize) -> ProtocolError {
    ProtocolError::TooLarge {
        what,
        len: len as u64,
        limit: i32::MAX as u64,
    }
}
