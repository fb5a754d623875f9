//! Length-prefixed frames: every Kafka request and response is a big-endian `int32` size followed by
//! that many bytes. The size is checked against a limit before anything is buffered for it.

use bytes::{Buf, Bytes, BytesMut};

use crate::ProtocolError;

/// Kafka's default `socket.request.max.bytes` (100 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 104_857_600;

/// Bytes of the size prefix.
pub const SIZE_PREFIX_BYTES: usize = 4;

/// Splits a byte stream into frames, sans-IO: feed it whatever the socket gave, take whole frames out.
///
/// ```
/// use bytes::BytesMut;
/// use ktrial_protocol::frame::FrameDecoder;
///
/// let mut decoder = FrameDecoder::new(1024);
/// let mut buf = BytesMut::from(&[0, 0, 0, 3, b'a', b'b'][..]);
/// assert_eq!(decoder.decode(&mut buf)?, None); // one byte short
/// buf.extend_from_slice(b"c");
/// assert_eq!(decoder.decode(&mut buf)?.as_deref(), Some(&b"abc"[..]));
/// # Ok::<(), ktrial_protocol::ProtocolError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    max_frame_bytes: usize,
}

impl FrameDecoder {
    /// A decoder refusing frames larger than `max_frame_bytes`.
    pub fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }

    /// Bytes a frame may hold at most.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// Takes the next whole frame (without its size prefix) off the front of `buf`, or `None` when
    /// more bytes are needed. Reserves room for the announced frame only after checking its size.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, ProtocolError> {
        let Some(len) = self.peek_len(buf)? else {
            return Ok(None);
        };
        if buf.len() < SIZE_PREFIX_BYTES + len {
            buf.reserve(SIZE_PREFIX_BYTES + len - buf.len());
            return Ok(None);
        }
        buf.advance(SIZE_PREFIX_BYTES);
        Ok(Some(buf.split_to(len).freeze()))
    }

    /// The size announced by the prefix at the front of `buf`, checked, or `None` before 4 bytes.
    pub fn peek_len(&self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(prefix) = buf.first_chunk::<SIZE_PREFIX_BYTES>() else {
            return Ok(None);
        };
        let len = i32::from_be_bytes(*prefix);
        let len = usize::try_from(len).map_err(|_| ProtocolError::Invalid {
            what: "frame size",
            detail: format!("negative size {len}"),
        })?;
        if len > self.max_frame_bytes {
            return Err(ProtocolError::TooLarge {
                what: "frame",
                len: len as u64,
                limit: self.max_frame_bytes as u64,
            });
        }
        Ok(Some(len))
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_negative_sizes_are_refused_before_buffering() {
        let mut decoder = FrameDecoder::new(16);
        let mut huge = BytesMut::from(&0x7fff_ffffi32.to_be_bytes()[..]);
        assert!(matches!(
            decoder.decode(&mut huge),
            Err(ProtocolError::TooLarge { .. })
        ));
        assert!(huge.capacity() < 1024);
        let mut negative = BytesMut::from(&(-5i32).to_be_bytes()[..]);
        assert!(matches!(
            decoder.decode(&mut negative),
            Err(ProtocolError::Invalid { .. })
        ));
    }

    #[test]
    fn splits_pipelined_frames() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0, 2, 8][..]);
        assert_eq!(decoder.decode(&mut buf).unwrap().as_deref(), Some(&[7][..]));
        assert_eq!(decoder.decode(&mut buf).unwrap().as_deref(), Some(&[][..]));
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[9]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap().as_deref(),
            Some(&[8, 9][..])
        );
        assert!(buf.is_empty());
    }
}
