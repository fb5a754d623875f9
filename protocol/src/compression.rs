//! Record-batch compression codecs as Kafka clients write them, and bounded decompression.
//!
//! - gzip: `flate2`, default level, as the Java client's `GZIPOutputStream`.
//! - snappy: written with xerial framing as the Java client does (`SnappyOutputStream`, 32 KiB
//!   blocks); read both xerial-framed and raw (librdkafka sends one raw block;
//!   `rdkafka_msgset_reader.c`).
//! - lz4: the LZ4 frame format with 64 KiB independent blocks (`KafkaLZ4BlockOutputStream`).
//! - zstd: the `zstd` crate at level 3, Kafka's default.
//!
//! Decompression never produces more than the caller's limit: a decompression bomb is an error,
//! not an allocation.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use crate::ProtocolError;

/// A record-batch compression codec (attribute bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// snappy.
    Snappy,
    /// lz4 (frame format).
    Lz4,
    /// zstd.
    Zstd,
}

/// xerial snappy-java stream magic: `82 'S' 'N' 'A' 'P' 'P' 'Y' 00`.
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Magic, then int32 version and int32 compatible version.
const XERIAL_HEADER_BYTES: usize = 16;
/// snappy-java's default block size.
const XERIAL_BLOCK_BYTES: usize = 32 * 1024;
/// Kafka's default zstd level (`compression.zstd.level`).
const ZSTD_LEVEL: i32 = 3;

impl Compression {
    /// Every codec, in id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec with this id (the low 3 bits of a batch's attributes).
    pub fn from_id(id: u8) -> Result<Self, ProtocolError> {
        Self::ALL
            .get(usize::from(id))
            .copied()
            .ok_or(ProtocolError::UnsupportedCompression(id))
    }

    /// The codec's id, as stored in batch attributes.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The name Kafka's `compression.type` uses.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Appends `input`, compressed, to `out`.
    ///
    /// ```
    /// use ktrial_protocol::compression::Compression;
    /// let mut packed = Vec::new();
    /// Compression::Snappy.compress(b"hello hello hello", &mut packed)?;
    /// assert_eq!(Compression::Snappy.decompress(&packed, 1024)?, b"hello hello hello");
    /// # Ok::<(), ktrial_protocol::ProtocolError>(())
    /// ```
    pub fn compress(self, input: &[u8], out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let fail = |e: &dyn fmt::Display| self.error("compress", e);
        match self {
            Compression::None => out.extend_from_slice(input),
            Compression::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(out, flate2::Compression::default());
                encoder.write_all(input).map_err(|e| fail(&e))?;
                encoder.finish().map_err(|e| fail(&e))?;
            }
            Compression::Snappy => {
                out.extend_from_slice(&XERIAL_MAGIC);
                out.extend_from_slice(&1i32.to_be_bytes());
                out.extend_from_slice(&1i32.to_be_bytes());
                let mut encoder = snap::raw::Encoder::new();
                for block in input.chunks(XERIAL_BLOCK_BYTES) {
                    let len_at = out.len();
                    out.extend_from_slice(&[0; 4]);
                    let start = out.len();
                    out.resize(start + snap::raw::max_compress_len(block.len()), 0);
                    let written = encoder
                        .compress(block, &mut out[start..])
                        .map_err(|e| fail(&e))?;
                    out.truncate(start + written);
                    out[len_at..start].copy_from_slice(&(written as i32).to_be_bytes());
                }
            }
            Compression::Lz4 => {
                let info = lz4_flex::frame::FrameInfo::new()
                    .block_size(lz4_flex::frame::BlockSize::Max64KB)
                    .block_mode(lz4_flex::frame::BlockMode::Independent);
                let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
                encoder.write_all(input).map_err(|e| fail(&e))?;
                encoder.finish().map_err(|e| fail(&e))?;
            }
            Compression::Zstd => {
                let packed = zstd::bulk::compress(input, ZSTD_LEVEL).map_err(|e| fail(&e))?;
                out.extend_from_slice(&packed);
            }
        }
        Ok(())
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes.
    pub fn decompress(self, input: &[u8], limit: usize) -> Result<Vec<u8>, ProtocolError> {
        match self {
            Compression::None => {
                self.check_limit(input.len(), limit)?;
                Ok(input.to_vec())
            }
            Compression::Gzip => {
                self.read_bounded(flate2::read::MultiGzDecoder::new(input), input, limit)
            }
            Compression::Snappy => self.snappy_decompress(input, limit),
            Compression::Lz4 => {
                self.read_bounded(lz4_flex::frame::FrameDecoder::new(input), input, limit)
            }
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::new(input)
                    .map_err(|e| self.error("decompress", &e))?;
                self.read_bounded(decoder, input, limit)
            }
        }
    }

    fn snappy_decompress(self, input: &[u8], limit: usize) -> Result<Vec<u8>, ProtocolError> {
        let mut decoder = snap::raw::Decoder::new();
        let mut out = Vec::new();
        let mut append_block = |block: &[u8], out: &mut Vec<u8>| {
            let len = snap::raw::decompress_len(block).map_err(|e| self.error("decompress", &e))?;
            self.check_limit(out.len().saturating_add(len), limit)?;
            let start = out.len();
            out.resize(start + len, 0);
            let written = decoder
                .decompress(block, &mut out[start..])
                .map_err(|e| self.error("decompress", &e))?;
            out.truncate(start + written);
            Ok::<(), ProtocolError>(())
        };
        if input.len() >= XERIAL_HEADER_BYTES && input.starts_with(&XERIAL_MAGIC) {
            // Version fields are not checked, as librdkafka does not check them.
            let mut rest = &input[XERIAL_HEADER_BYTES..];
            while !rest.is_empty() {
                let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                    return Err(ProtocolError::Truncated {
                        what: "xerial snappy block length",
                    });
                };
                let len = i32::from_be_bytes(*len);
                let block = usize::try_from(len)
                    .ok()
                    .and_then(|len| tail.get(..len))
                    .ok_or(ProtocolError::Invalid {
                        what: "xerial snappy block length",
                        detail: format!("{len} with {} bytes left", tail.len()),
                    })?;
                append_block(block, &mut out)?;
                rest = &tail[block.len()..];
            }
        } else {
            append_block(input, &mut out)?;
        }
        Ok(out)
    }

    fn read_bounded(
        self,
        reader: impl Read,
        input: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, ProtocolError> {
        let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(limit));
        reader
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| self.error("decompress", &e))?;
        self.check_limit(out.len(), limit)?;
        Ok(out)
    }

    fn check_limit(self, len: usize, limit: usize) -> Result<(), ProtocolError> {
        if len > limit {
            return Err(ProtocolError::TooLarge {
                what: "decompressed records",
                len: len as u64,
                limit: limit as u64,
            });
        }
        Ok(())
    }

    fn error(self, op: &'static str, e: &dyn fmt::Display) -> ProtocolError {
        ProtocolError::Compression {
            codec: self.name(),
            op,
            detail: e.to_string(),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `compression.type` value that names no codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compression type {0:?} (expected none, gzip, snappy, lz4 or zstd)")]
pub struct UnknownCompression(pub String);

impl FromStr for Compression {
    type Err = UnknownCompression;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCompression(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_respects_the_limit() {
        let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for codec in Compression::ALL {
            let mut packed = Vec::new();
            codec.compress(&input, &mut packed).unwrap();
            assert_eq!(
                codec.decompress(&packed, input.len()).unwrap(),
                input,
                "{codec}"
            );
            assert!(
                matches!(
                    codec.decompress(&packed, input.len() - 1),
                    Err(ProtocolError::TooLarge { .. })
                ),
                "{codec} limit"
            );
        }
    }

    #[test]
    fn snappy_reads_raw_blocks_as_librdkafka_sends_them() {
        let raw = snap::raw::Encoder::new()
            .compress_vec(b"raw snappy block")
            .unwrap();
        assert_eq!(
            Compression::Snappy.decompress(&raw, 100).unwrap(),
            b"raw snappy block"
        );
    }

    #[test]
    fn snappy_writes_xerial_framing() {
        let mut packed = Vec::new();
        Compression::Snappy
            .compress(&[7; 70_000], &mut packed)
            .unwrap();
        assert_eq!(&packed[..8], &XERIAL_MAGIC);
        assert_eq!(&packed[8..16], &[0, 0, 0, 1, 0, 0, 0, 1]);
    }

    #[test]
    fn a_bomb_is_refused() {
        let mut packed = Vec::new();
        Compression::Zstd
            .compress(&vec![0; 50_000_000], &mut packed)
            .unwrap();
        assert!(packed.len() < 100_000);
        assert!(matches!(
            Compression::Zstd.decompress(&packed, 1 << 20),
            Err(ProtocolError::TooLarge { .. })
        ));
    }

    #[test]
    fn names_parse_and_ids_map() {
        assert_eq!("LZ4".parse::<Compression>(), Ok(Compression::Lz4));
        assert!("brotli".parse::<Compression>().is_err());
        assert_eq!(Compression::from_id(4), Ok(Compression::Zstd));
        assert_eq!(
            Compression::from_id(5),
            Err(ProtocolError::UnsupportedCompression(5))
        );
    }
}
