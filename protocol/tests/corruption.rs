//! One flipped bit, at every bit position of a small batch, for every codec: what the decoder
//! must say about it.
//!
//! The CRC-32C covers the bytes from `attributes` (offset 21) to the end, so any flip there is
//! `BadCrc`. The 21 bytes before it are not covered, by Kafka's design: `baseOffset` and
//! `partitionLeaderEpoch` are rewritten by the broker on append without recomputing the CRC
//! (`DefaultRecordBatch` javadoc: "the CRC covers the data from the attributes to the end of the
//! batch ... the partition leader epoch field is not included in the CRC computation to avoid
//! the need to recompute the CRC when this field is assigned for every batch that is received by
//! the broker"). A flip there must still parse, with the changed value; a flip in `batchLength`
//! or `magic` is caught by the length and magic checks; a flip in the stored CRC is `BadCrc`.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use ktrial_protocol::ProtocolError;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{ProducerState, RecordBatch, RecordBatchBuilder};

fn small_batch(codec: Compression) -> Vec<u8> {
    let mut builder = RecordBatchBuilder::new(codec);
    builder.set_producer_state(ProducerState {
        producer_id: 4242,
        producer_epoch: 3,
        base_sequence: 17,
    });
    builder
        .append(
            1_700_000_000_000,
            Some(b"k1"),
            Some(b"value one"),
            &[("h", None)],
        )
        .unwrap();
    builder
        .append(1_700_000_000_007, None, Some(b"value two"), &[])
        .unwrap();
    builder.finish().unwrap().to_vec()
}

fn flipped(batch: &[u8], bit: usize) -> Bytes {
    let mut bytes = batch.to_vec();
    bytes[bit / 8] ^= 1 << (bit % 8);
    Bytes::from(bytes)
}

fn check_every_bit(codec: Compression) {
    let original = small_batch(codec);
    let clean = RecordBatch::parse(&Bytes::from(original.clone())).unwrap();
    let values = |batch: &RecordBatch| -> Vec<_> {
        batch
            .records(1 << 16)
            .unwrap()
            .map(|r| r.unwrap().value)
            .collect()
    };
    let original_length = clean.header().batch_length;
    for bit in 0..original.len() * 8 {
        let byte = bit / 8;
        let result = RecordBatch::parse(&flipped(&original, bit));
        let at = format!("{codec} bit {bit} (byte {byte})");
        match byte {
            // baseOffset and partitionLeaderEpoch: outside the CRC, the batch stays valid.
            0..8 | 12..16 => {
                let batch = result.unwrap_or_else(|e| panic!("{at}: {e}"));
                let changed = if byte < 8 {
                    batch.header().base_offset != 0
                } else {
                    batch.header().partition_leader_epoch != -1
                };
                assert!(changed, "{at}");
                assert_eq!(values(&batch), values(&clean), "{at}");
            }
            8..12 => {
                let length = i32::from_be_bytes(flipped(&original, bit)[8..12].try_into().unwrap());
                let err = result.unwrap_err();
                if length < 49 {
                    assert!(matches!(err, ProtocolError::Invalid { .. }), "{at}: {err}");
                } else if length > original_length {
                    assert!(
                        matches!(err, ProtocolError::Truncated { .. }),
                        "{at}: {err}"
                    );
                } else {
                    // Shorter but plausible: the CRC then covers a prefix of the batch.
                    assert!(matches!(err, ProtocolError::BadCrc { .. }), "{at}: {err}");
                }
            }
            16 => assert_eq!(
                result.unwrap_err(),
                ProtocolError::UnknownMagic(2 ^ (1 << (bit % 8)) as i8),
                "{at}"
            ),
            // The stored CRC itself, then everything it covers.
            _ => {
                let err = result.unwrap_err();
                assert!(matches!(err, ProtocolError::BadCrc { .. }), "{at}: {err}");
            }
        }
    }
}

#[test]
fn every_bit_of_an_uncompressed_batch() {
    check_every_bit(Compression::None);
}

#[test]
fn every_bit_of_compressed_batches() {
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        check_every_bit(codec);
    }
}

/// The CRC-32C check value (`crc32c("123456789")`), as Kafka's `Crc32C` computes it.
#[test]
fn crc32c_check_value() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}
