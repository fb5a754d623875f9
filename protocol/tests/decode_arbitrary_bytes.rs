//! Arbitrary bytes into every decode entry point: each returns `Ok` or `Err`, never panics, and
//! never allocates from an unchecked length.
//!
//! The allocation bound is enforced, not sampled: this test binary runs under a global allocator
//! capped at [`HEAP_LIMIT`], so a decoder that reserves memory from a length it has not checked
//! makes an allocation fail and the process abort, which fails the test run.
#![allow(clippy::unwrap_used)]

use std::alloc::System;

use bytes::{BufMut, Bytes, BytesMut};
use cap::Cap;
use ktrial_protocol::ProtocolError;
use ktrial_protocol::codec::{
    decode_request, decode_response, encode_request, peek_request_prefix, supported_versions,
};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::{ApiKey, ProduceRequest, RequestHeader, RequestKind};
use ktrial_protocol::records::{RecordBatch, RecordBatchBuilder, parse_batches};
use ktrial_protocol::varint::{get_varint, get_varlong};
use proptest::collection::vec;
use proptest::prelude::*;

/// Far above what any input here justifies (they are at most a few KiB), far below what an
/// unchecked 32-bit length would ask for.
const HEAP_LIMIT: usize = 512 << 20;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, HEAP_LIMIT);

/// Limit for decompressed records in these tests.
const RECORDS_LIMIT: usize = 1 << 20;

fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..512)
}

/// Reads a whole batch the way the broker does: parse, header accessors, every record.
fn read_batch(batch: &RecordBatch) {
    let header = batch.header();
    let _ = (
        header.last_offset(),
        header.last_sequence(),
        header.size_in_bytes(),
        header.producer_state(),
    );
    if let Ok(records) = batch.records(RECORDS_LIMIT) {
        for record in records {
            if record.is_err() {
                break;
            }
        }
    }
    let _ = batch.validate_records(RECORDS_LIMIT);
}

fn read_batches(bytes: Bytes) {
    if let Ok(batch) = RecordBatch::parse(&bytes) {
        read_batch(&batch);
    }
    if let Ok(batch) = RecordBatch::parse_first(&bytes) {
        read_batch(&batch);
    }
    for batch in parse_batches(bytes).flatten() {
        read_batch(&batch);
    }
}

fn valid_batch(codec: Compression) -> Vec<u8> {
    let mut builder = RecordBatchBuilder::new(codec);
    for i in 0..3u8 {
        builder
            .append(
                1_700_000_000_000 + i64::from(i),
                Some(&[i; 4]),
                Some(b"some value bytes"),
                &[("h", Some(&[i]))],
            )
            .unwrap();
    }
    builder.finish().unwrap().to_vec()
}

/// Writes a valid CRC back, so that a mutated batch reaches the record decoder.
fn fix_crc(batch: &mut [u8]) {
    if batch.len() > 21 {
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

fn every_api_at_min_and_max() -> Vec<(ApiKey, i16)> {
    ApiKey::iter()
        .flat_map(|api| {
            let range = supported_versions(api);
            [(api, range.min), (api, range.max)]
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn frame_decoder(input in arbitrary_bytes(), max in 0usize..4096) {
        let mut decoder = FrameDecoder::new(max);
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(frame)) = decoder.decode(&mut buf) {
            prop_assert!(frame.len() <= max);
        }
        // Room is reserved only for a frame within the limit.
        prop_assert!(buf.capacity() <= 2 * (input.len() + max + 4));
    }

    #[test]
    fn request_prefix_and_request(input in arbitrary_bytes()) {
        let prefix = peek_request_prefix(&input);
        prop_assert_eq!(prefix.is_ok(), input.len() >= 8);
        let _ = decode_request(Bytes::from(input));
    }

    /// A valid prefix for every API and supported version, then garbage: reaches the header and
    /// body decoders of every message type.
    #[test]
    fn requests_with_a_valid_prefix(tail in arbitrary_bytes(), correlation_id in any::<i32>()) {
        for api in ApiKey::iter() {
            let range = supported_versions(api);
            for version in range.min..=range.max {
                let mut frame = BytesMut::new();
                frame.put_i16(api as i16);
                frame.put_i16(version);
                frame.put_i32(correlation_id);
                frame.extend_from_slice(&tail);
                match decode_request(frame.freeze()) {
                    Ok(request) => prop_assert_eq!(request.header.correlation_id, correlation_id),
                    Err(ProtocolError::Malformed { .. }) => {}
                    Err(e) => prop_assert!(false, "{api:?} v{version}: unexpected {e}"),
                }
            }
        }
    }

    #[test]
    fn responses_of_every_api(input in arbitrary_bytes()) {
        for (api, version) in every_api_at_min_and_max() {
            let _ = decode_response(api, version, Bytes::from(input.clone()));
        }
    }

    #[test]
    fn record_batches(input in arbitrary_bytes()) {
        read_batches(Bytes::from(input));
    }

    /// A real batch with bytes overwritten, with and without a valid CRC afterwards.
    #[test]
    fn mutated_record_batches(
        codec in prop::sample::select(Compression::ALL.to_vec()),
        mutations in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        truncate in any::<prop::sample::Index>(),
    ) {
        let mut batch = valid_batch(codec);
        for (at, byte) in &mutations {
            let at = at.index(batch.len());
            batch[at] = *byte;
        }
        read_batches(Bytes::from(batch.clone()));
        fix_crc(&mut batch);
        read_batches(Bytes::from(batch.clone()));
        batch.truncate(truncate.index(batch.len() + 1));
        read_batches(Bytes::from(batch));
    }

    /// Every fixed header field set to any value (CRC fixed up): offsets, deltas, sequences
    /// and timestamps at their extremes must not overflow in the accessors or the records.
    #[test]
    fn header_fields_take_any_value(
        codec in prop::sample::select(Compression::ALL.to_vec()),
        base_offset in any::<i64>(),
        last_offset_delta in any::<i32>(),
        base_timestamp in any::<i64>(),
        base_sequence in any::<i32>(),
        records_count in any::<i32>(),
        attributes in any::<i16>(),
    ) {
        let mut batch = valid_batch(codec);
        batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
        batch[21..23].copy_from_slice(&attributes.to_be_bytes());
        batch[23..27].copy_from_slice(&last_offset_delta.to_be_bytes());
        batch[27..35].copy_from_slice(&base_timestamp.to_be_bytes());
        batch[53..57].copy_from_slice(&base_sequence.to_be_bytes());
        batch[57..61].copy_from_slice(&records_count.to_be_bytes());
        fix_crc(&mut batch);
        read_batches(Bytes::from(batch));
    }

    #[test]
    fn decompression(input in arbitrary_bytes(), limit in 0usize..(1 << 16)) {
        for codec in Compression::ALL {
            if let Ok(out) = codec.decompress(&input, limit) {
                prop_assert!(out.len() <= limit);
            }
        }
    }

    #[test]
    fn varints(input in vec(any::<u8>(), 0..12)) {
        if let Ok((_, used)) = get_varint(&input) {
            prop_assert!((1..=5).contains(&used));
        }
        if let Ok((_, used)) = get_varlong(&input) {
            prop_assert!((1..=10).contains(&used));
        }
    }
}

/// A batch whose header claims `i32::MAX` records but holds three: parsing succeeds (the header
/// is consistent and the CRC valid), reading the records stops with an error at the fourth.
#[test]
fn a_huge_records_count_is_an_error_not_an_allocation() {
    for codec in Compression::ALL {
        let mut batch = valid_batch(codec);
        batch[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        fix_crc(&mut batch);
        let batch = RecordBatch::parse(&Bytes::from(batch)).unwrap();
        let results: Vec<_> = batch.records(RECORDS_LIMIT).unwrap().collect();
        assert_eq!(results.len(), 4, "{codec}");
        assert!(results[..3].iter().all(Result::is_ok), "{codec}");
        assert!(
            matches!(results[3], Err(ProtocolError::Truncated { .. })),
            "{codec}: {:?}",
            results[3]
        );
        assert!(batch.validate_records(RECORDS_LIMIT).is_err());
    }
}

/// Regression: a Produce v3 body declaring 2^31-1 topics in 16 bytes once made kafka-protocol
/// reserve ~200 GB and abort (the vendored patch, `vendor/README.md`). It must be an error.
#[test]
fn produce_declaring_two_billion_topics_is_refused() {
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Produce as i16)
        .with_request_api_version(3)
        .with_correlation_id(5);
    let frame = encode_request(
        &header,
        &RequestKind::Produce(
            ProduceRequest::default()
                .with_acks(-1)
                .with_timeout_ms(30_000),
        ),
    )
    .unwrap();
    let mut frame = BytesMut::from(&frame[4..]);
    // Body: transactional_id (null), acks, timeout_ms, then the topics array count.
    let count_at = frame.len() - 4;
    frame[count_at..].copy_from_slice(&i32::MAX.to_be_bytes());
    assert_eq!(
        &frame[count_at - 8..count_at],
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0x75, 0x30],
        "null transactional id, acks -1, timeout 30000"
    );
    let err = decode_request(frame.freeze()).unwrap_err();
    assert!(matches!(err, ProtocolError::Malformed { .. }), "{err}");
}
