//! Batches written by another implementation: kafka-python 3.0.12's
//! `DefaultRecordBatchBuilder`, which computes its own CRC-32C. Our decoder reads them field for
//! field, and our builder, given the same records, writes the same bytes (the uncompressed case;
//! compressed payloads differ by codec settings and gzip's timestamp, so those are only read).
//!
//! The bytes below were generated once (2026-11-21, `pip install kafka-python lz4 zstandard`)
//! with:
//!
//! ```python
//! # Builds RecordBatch v2 bytes with kafka-python's DefaultRecordBatchBuilder (an independent
//! # implementation, with its own CRC-32C), for ktrial-protocol's cross-implementation test.
//! from kafka.record.default_records import DefaultRecordBatchBuilder as B
//! def build(codec, records):
//!     b = B(magic=2, compression_type=codec, is_transactional=True, producer_id=4242,
//!           producer_epoch=3, base_sequence=17, batch_size=1 << 20)
//!     for i, (ts, key, value, headers) in enumerate(records):
//!         b.append(i, timestamp=ts, key=key, value=value, headers=headers)
//!     return bytes(b.build())
//! small = [(1700000000000, b"k1", b"value one", [("h", None), ("trace", b"abc")]),
//!          (1699999999990, None, b"", []),
//!          (1700000000005, b"", None, [])]
//! print("UNCOMPRESSED", build(0, small).hex())
//! big = [(1700000000000 + i, b"key-%d" % i, b"repetitive value " * 8, [("n", b"%d" % i)]) for i in range(20)]
//! for name, codec in [("GZIP", 1), ("LZ4", 3), ("ZSTD", 4)]:
//!     print(name, build(codec, big).hex())
//! ```
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{ProducerState, Record, RecordBatch, RecordBatchBuilder};

const UNCOMPRESSED: &str = concat!(
    "00000000000000000000005e00000000024ddf2a360010000000020000018bcfe568000000018bcfe5680500",
    "00000000001092000300000011000000033c000000046b311276616c7565206f6e65040268010a7472616365",
    "066162630c0013020100000c000a04000100",
);

const GZIP: &str = concat!(
    "00000000000000000000012400000000025b05f0320011000000130000018bcfe568000000018bcfe5681300",
    "00000000001092000300000011000000141f8b0800e8d9016b02ffcdd53b0ac2501484e1cb21888420224144",
    "2404113b2137ef2cc7e216a288880aeec2a5a470810ee72cc269a7faaaf94771cec5e7f03e141fb9875b789c",
    "1ea757c85fc7cb33e47f1a44ae528ce24454e6b9641eb2285259c9252b219b4c545671c92ac8a65395d55cb2",
    "1ab2385659c3256b204b1295b55cb216b2d94c651d97ac836c3e5759cf25eb215b2c543670c986afb8344df4",
    "69b92210f902b6e5d26c9ecce6615badcc5692d94ad8d66bb35564b60ab6cdc66c3599ad862dcbccd690d91a",
    "d8f2dc6c2d99ad856dbb355b4766eb60dbedccd693d97ad8f67bb30d64b6e107c5a328811c0c0000",
);

const LZ4: &str = concat!(
    "0000000000000000000001890000000002fdd702ad0013000000130000018bcfe568000000018bcfe5681300",
    "000000000010920003000000110000001404224d1868401c0c000000000000c141010000ff0fb0020000000a",
    "6b65792d309002726570657469746976652076616c756520110064a102026e0230b0020002029a001f319a00",
    "7b6131b0020004049a001f329a007b6132b0020006069a001f339a007b6133b0020008089a001f349a007b61",
    "34b002000a0a9a001f359a007b6135b002000c0c9a001f369a007b6136b002000e0e9a001f379a007b6137b0",
    "020010109a001f389a007b6138b0020012129a001f399a007b7039b4020014140c04061f3105067b82043130",
    "b4020016169c000f07067b82043131b4020018189c000f09067b82043132b402001a1a9c000f0b067b820431",
    "33b402001c1c9c000f0d067b82043134b402001e1e9c000f0f067b82043135b4020020209c000f11067b8204",
    "3136b4020022229c000f13067b82043137b4020024249c000f15067b82043138b4020026269c000f17067950",
    "026e04313900000000",
);

const ZSTD: &str = concat!(
    "00000000000000000000011c0000000002c1788a370014000000130000018bcfe568000000018bcfe5681300",
    "000000000010920003000000110000001428b52ffd601c0b0d0700b2ca232570b7cd0180ff7fae2a82fc57aa",
    "406784e9ffff44444444898f1012c488b177efdebddb1452523218fec6b858f80ba142e1ef7b29f9eb5c22e1",
    "6f6b0884bf8c1d0efeae6530f8ab54a1e06fa410c54090bf523e8faf313a8eaf10368dafef318cafce2d8baf",
    "ad298aaf8c2589af6b2188af4afdbe4627f8d33c180878a4f968381a8e59300d9e1001204c81c5f6352720d0",
    "53b51a0c2a8662d03b1403bd4331e81d8a41afa118f40ec5a07728067a876214bd1f39f0024162d62e8869e1",
    "82445b0bba6d2dd26d6b41b7ad055d6d2de8b6b5a0dbd682e976768ba4941227",
);

fn bytes(hex: &str) -> Bytes {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

const PRODUCER: ProducerState = ProducerState {
    producer_id: 4242,
    producer_epoch: 3,
    base_sequence: 17,
};

fn records(batch: &RecordBatch) -> Vec<Record> {
    batch
        .records(1 << 20)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_uncompressed_kafka_python_batch_reads_field_for_field() {
    let batch = RecordBatch::parse(&bytes(UNCOMPRESSED)).unwrap();
    let header = batch.header();
    assert_eq!(header.compression().unwrap(), Compression::None);
    assert!(header.is_transactional());
    assert_eq!(header.producer_state(), PRODUCER);
    assert_eq!(header.records_count, 3);
    assert_eq!(header.last_offset_delta, 2);
    assert_eq!(header.base_timestamp, 1_700_000_000_000);
    assert_eq!(header.max_timestamp, 1_700_000_000_005);
    let records = records(&batch);
    assert_eq!(records[0].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(records[0].value.as_deref(), Some(&b"value one"[..]));
    assert_eq!(records[0].headers.len(), 2);
    assert_eq!(&records[0].headers[0].key[..], b"h");
    assert_eq!(records[0].headers[0].value, None);
    assert_eq!(records[0].headers[1].value.as_deref(), Some(&b"abc"[..]));
    assert_eq!(records[1].timestamp, 1_699_999_999_990);
    assert_eq!(records[1].key, None);
    assert_eq!(records[1].value.as_deref(), Some(&b""[..]));
    assert_eq!(records[2].key.as_deref(), Some(&b""[..]));
    assert_eq!(records[2].value, None);
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[test]
fn our_builder_writes_the_same_bytes() {
    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder.set_producer_state(PRODUCER).set_transactional(true);
    builder
        .append(
            1_700_000_000_000,
            Some(b"k1"),
            Some(b"value one"),
            &[("h", None), ("trace", Some(b"abc"))],
        )
        .unwrap();
    builder
        .append(1_699_999_999_990, None, Some(b""), &[])
        .unwrap();
    builder
        .append(1_700_000_000_005, Some(b""), None, &[])
        .unwrap();
    let ours = builder.finish().unwrap();
    let theirs = bytes(UNCOMPRESSED);
    assert_eq!(ours.len(), theirs.len());
    // partitionLeaderEpoch (bytes 12..16, outside the CRC) is the one difference: the Java
    // client and we send -1 (NO_PARTITION_LEADER_EPOCH), kafka-python sends 0.
    assert_eq!(&ours[12..16], &[0xff; 4]);
    assert_eq!(&theirs[12..16], &[0; 4]);
    assert_eq!(&ours[..12], &theirs[..12]);
    assert_eq!(
        &ours[16..],
        &theirs[16..],
        "magic, CRC, attributes and everything after"
    );
}

#[test]
fn compressed_kafka_python_batches_read_field_for_field() {
    for (hex, codec) in [
        (GZIP, Compression::Gzip),
        (LZ4, Compression::Lz4),
        (ZSTD, Compression::Zstd),
    ] {
        let batch = RecordBatch::parse(&bytes(hex)).unwrap();
        assert_eq!(batch.header().compression().unwrap(), codec);
        assert_eq!(batch.header().producer_state(), PRODUCER);
        batch.validate_records(1 << 20).unwrap();
        let records = records(&batch);
        assert_eq!(records.len(), 20, "{codec}");
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record.offset, i as i64);
            assert_eq!(record.timestamp, 1_700_000_000_000 + i as i64);
            assert_eq!(record.key.as_deref(), Some(format!("key-{i}").as_bytes()));
            assert_eq!(
                record.value.as_deref(),
                Some("repetitive value ".repeat(8).as_bytes())
            );
            assert_eq!(
                record.headers[0].value.as_deref(),
                Some(i.to_string().as_bytes())
            );
        }
    }
}
