//! Reading the records section of a batch (`DefaultRecord.java`): each record is a varint
//! length, then attributes, timestamp delta, offset delta, key, value and headers, all
//! varint-framed. Records come out one by one, their bytes shared with the batch.
//!
//! This is a plain cursor rather than nom combinators like the batch header: it runs once per
//! record, and the combinator version spent about half its time moving large results through
//! the stack (profiled; see BENCHMARKS.md). Every read is checked against the bytes remaining.

use bytes::Bytes;

use super::Header;
use super::batch::BatchHeader;
use crate::ProtocolError;
use crate::varint::{read_unsigned, unsigned_error, zigzag32, zigzag64};

/// One decoded record, its key, value and headers sharing the batch's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Absolute offset (base offset + delta).
    pub offset: i64,
    /// Absolute timestamp (the batch's max timestamp under LogAppendTime).
    pub timestamp: i64,
    /// Key, or `None` for a null key.
    pub key: Option<Bytes>,
    /// Value, or `None` for a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<Header>,
}

/// Iterator over a batch's records; stops after the first error.
#[derive(Debug, Clone)]
pub struct Records {
    data: Bytes,
    pos: usize,
    left: i32,
    base_offset: i64,
    base_timestamp: i64,
    log_append_time: Option<i64>,
}

/// Errors are boxed on the per-record path, so that results stay two words wide.
type Fail = Box<ProtocolError>;

impl Records {
    /// The records of `data` (uncompressed), as described by `header`.
    pub(super) fn new(data: Bytes, header: &BatchHeader) -> Self {
        Records {
            data,
            pos: 0,
            left: header.records_count,
            base_offset: header.base_offset,
            base_timestamp: header.base_timestamp,
            log_append_time: header.is_log_append_time().then_some(header.max_timestamp),
        }
    }

    /// Bytes of the records section, uncompressed (what `batch.size` counts, less the header).
    pub fn uncompressed_len(&self) -> usize {
        self.data.len()
    }

    fn next_record(&mut self) -> Result<Record, Fail> {
        let data = &self.data;
        let slice = |s: &[u8]| data.slice_ref(s);
        let mut outer = Cursor(&data[self.pos..]);
        let length = outer.varint()?;
        let Some(body) = usize::try_from(length)
            .ok()
            .and_then(|len| outer.0.get(..len))
        else {
            return Err(invalid(
                "record length",
                format!("{length} with {} bytes left", outer.0.len()),
            ));
        };
        let mut cursor = Cursor(body);
        cursor.byte()?; // attributes: unused since magic 2
        let timestamp_delta = cursor.varlong()?;
        let offset_delta = cursor.varint()?;
        let key = cursor.nullable_bytes()?;
        let value = cursor.nullable_bytes()?;
        let header_count = cursor.varint()?;
        // Each header takes at least two bytes: a count beyond that cannot be real.
        if header_count < 0 || header_count as usize > cursor.0.len() / 2 {
            return Err(invalid(
                "record header count",
                format!("{header_count} with {} bytes left", cursor.0.len()),
            ));
        }
        let mut headers = Vec::with_capacity(header_count as usize);
        for _ in 0..header_count {
            let Some(key) = cursor.nullable_bytes()? else {
                return Err(invalid("record header key", "null".into()));
            };
            let value = cursor.nullable_bytes()?;
            headers.push(Header {
                key: slice(key),
                value: value.map(slice),
            });
        }
        if !cursor.0.is_empty() {
            return Err(invalid(
                "record",
                format!("{} bytes beyond its fields", cursor.0.len()),
            ));
        }
        self.pos = data.len() - (outer.0.len() - body.len());
        Ok(Record {
            offset: self.base_offset.wrapping_add(i64::from(offset_delta)),
            timestamp: self
                .log_append_time
                .unwrap_or_else(|| self.base_timestamp.wrapping_add(timestamp_delta)),
            key: key.map(slice),
            value: value.map(slice),
            headers,
        })
    }
}

impl Iterator for Records {
    type Item = Result<Record, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            if self.pos != self.data.len() {
                self.pos = self.data.len();
                return Some(Err(ProtocolError::Invalid {
                    what: "records",
                    detail: "bytes remain after the declared record count".into(),
                }));
            }
            return None;
        }
        match self.next_record() {
            Ok(record) => {
                self.left -= 1;
                Some(Ok(record))
            }
            Err(e) => {
                self.left = 0;
                self.pos = self.data.len();
                Some(Err(*e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize + 1))
    }
}

/// The unread rest of a record.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn byte(&mut self) -> Result<u8, Fail> {
        let Some((&byte, rest)) = self.0.split_first() else {
            return Err(truncated("record"));
        };
        self.0 = rest;
        Ok(byte)
    }

    #[inline(always)]
    fn unsigned(&mut self, max_bytes: usize, what: &'static str) -> Result<u64, Fail> {
        let (value, used) = read_unsigned(self.0, max_bytes);
        if used == 0 {
            return Err(Box::new(unsigned_error(self.0, max_bytes, what)));
        }
        self.0 = &self.0[used..];
        Ok(value)
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<i32, Fail> {
        let raw = self.unsigned(5, "varint")?;
        let Ok(raw) = u32::try_from(raw) else {
            return Err(invalid("varint", "value exceeds 32 bits".into()));
        };
        Ok(zigzag32(raw))
    }

    #[inline(always)]
    fn varlong(&mut self) -> Result<i64, Fail> {
        Ok(zigzag64(self.unsigned(10, "varlong")?))
    }

    /// A varint length (-1 for null) and that many bytes.
    #[inline(always)]
    fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, Fail> {
        let len = self.varint()?;
        if len == -1 {
            return Ok(None);
        }
        let Ok(len) = usize::try_from(len) else {
            return Err(invalid("record field length", format!("{len}")));
        };
        let Some((field, rest)) = self.0.split_at_checked(len) else {
            return Err(truncated("record field"));
        };
        self.0 = rest;
        Ok(Some(field))
    }
}

#[cold]
fn invalid(what: &'static str, detail: String) -> Fail {
    Box::new(ProtocolError::Invalid { what, detail })
}

#[cold]
fn truncated(what: &'static str) -> Fail {
    Box::new(ProtocolError::Truncated { what })
}
