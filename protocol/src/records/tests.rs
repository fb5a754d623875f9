//! Unit tests of the record batch codec: the exact byte layout the builder writes, the in-place
//! header edits a broker makes, and the header checks of `validate_records` (property tests and
//! corruption tests live in `protocol/tests/`).

use bytes::Bytes;

use super::*;
use crate::ProtocolError;
use crate::compression::Compression;

fn two_record_batch() -> Vec<u8> {
    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder
        .set_producer_state(ProducerState {
            producer_id: 0x0102_0304_0506_0708,
            producer_epoch: 9,
            base_sequence: 100,
        })
        .set_transactional(true);
    builder
        .append(1_000, Some(b"k"), Some(b"v"), &[("h", Some(b"x"))])
        .unwrap();
    builder.append(990, None, None, &[]).unwrap();
    builder.finish().unwrap().to_vec()
}

fn be_i64(bytes: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn be_i32(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The header fields at the offsets of `DefaultRecordBatch.java` (its `*_OFFSET` constants), and
/// the records section byte for byte as `DefaultRecord.writeTo` lays it out.
#[test]
fn builder_writes_the_kafka_layout() {
    let batch = two_record_batch();
    assert_eq!(be_i64(&batch, 0), 0, "baseOffset");
    assert_eq!(be_i32(&batch, 8) as usize, batch.len() - LOG_OVERHEAD);
    assert_eq!(be_i32(&batch, 12), -1, "partitionLeaderEpoch");
    assert_eq!(batch[MAGIC_OFFSET], 2);
    assert_eq!(
        u32::from_be_bytes(batch[17..21].try_into().unwrap()),
        crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..])
    );
    assert_eq!(
        &batch[21..23],
        &[0, 0x10],
        "attributes: transactional, uncompressed"
    );
    assert_eq!(be_i32(&batch, 23), 1, "lastOffsetDelta");
    assert_eq!(be_i64(&batch, 27), 1_000, "baseTimestamp");
    assert_eq!(be_i64(&batch, 35), 1_000, "maxTimestamp");
    assert_eq!(be_i64(&batch, 43), 0x0102_0304_0506_0708);
    assert_eq!(&batch[51..53], &[0, 9], "producerEpoch");
    assert_eq!(be_i32(&batch, 53), 100, "baseSequence");
    assert_eq!(be_i32(&batch, 57), 2, "recordsCount");
    let records: &[u8] = &[
        // length 12, attributes, timestamp delta 0, offset delta 0, key "k", value "v",
        // 1 header "h" = "x" (all varints zigzag-encoded)
        24, 0, 0, 0, 2, b'k', 2, b'v', 2, 2, b'h', 2, b'x', //
        // length 6, attributes, timestamp delta -10, offset delta 1, null key, null value,
        // no headers
        12, 0, 19, 2, 1, 1, 0,
    ];
    assert_eq!(&batch[BATCH_OVERHEAD..], records);
}

#[test]
fn base_offset_and_leader_epoch_are_set_without_touching_the_crc() {
    let mut batch = two_record_batch();
    let crc = batch[17..21].to_vec();
    set_base_offset(&mut batch, 5_000).unwrap();
    set_partition_leader_epoch(&mut batch, 7).unwrap();
    assert_eq!(&batch[17..21], &crc[..]);
    let parsed = RecordBatch::parse(&Bytes::from(batch)).unwrap();
    assert_eq!(parsed.header().base_offset, 5_000);
    assert_eq!(parsed.header().last_offset(), 5_001);
    assert_eq!(parsed.header().partition_leader_epoch, 7);
    let offsets: Vec<i64> = parsed
        .records(1024)
        .unwrap()
        .map(|r| r.unwrap().offset)
        .collect();
    assert_eq!(offsets, [5_000, 5_001]);
}

#[test]
fn log_append_time_and_producer_state_are_rewritten_with_a_new_crc() {
    let mut batch = two_record_batch();
    set_log_append_time(&mut batch, 77_777).unwrap();
    let new_producer = ProducerState {
        producer_id: 12,
        producer_epoch: 1,
        base_sequence: i32::MAX,
    };
    set_producer_state(&mut batch, new_producer).unwrap();
    let parsed = RecordBatch::parse(&Bytes::from(batch)).unwrap();
    let header = parsed.header();
    assert!(header.is_log_append_time() && header.is_transactional());
    assert_eq!(header.max_timestamp, 77_777);
    assert_eq!(header.producer_state(), new_producer);
    assert_eq!(header.last_sequence(), 0, "sequences wrap after i32::MAX");
    // Under LogAppendTime every record reports the append time.
    for record in parsed.records(1024).unwrap() {
        assert_eq!(record.unwrap().timestamp, 77_777);
    }
}

#[test]
fn header_edits_refuse_a_short_buffer() {
    let mut short = [0u8; BATCH_OVERHEAD - 1];
    assert!(matches!(
        set_base_offset(&mut short, 1),
        Err(ProtocolError::Truncated { .. })
    ));
    assert!(set_producer_state(&mut short, ProducerState::NONE).is_err());
}

/// A header that disagrees with its records, with a valid CRC: parse accepts it (the header
/// is well-formed), `validate_records` does not, as Kafka's `LogValidator` would not.
#[test]
fn validate_records_checks_count_and_last_offset_delta() {
    let reseal = |batch: &mut Vec<u8>| {
        let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
    };
    let mut wrong_delta = two_record_batch();
    wrong_delta[23..27].copy_from_slice(&5i32.to_be_bytes());
    reseal(&mut wrong_delta);
    let batch = RecordBatch::parse(&Bytes::from(wrong_delta)).unwrap();
    assert!(matches!(
        batch.validate_records(1024),
        Err(ProtocolError::Invalid {
            what: "last offset delta",
            ..
        })
    ));

    let mut too_few = two_record_batch();
    too_few[57..61].copy_from_slice(&1i32.to_be_bytes());
    reseal(&mut too_few);
    let batch = RecordBatch::parse(&Bytes::from(too_few)).unwrap();
    assert!(matches!(
        batch.validate_records(1024),
        Err(ProtocolError::Invalid {
            what: "records",
            ..
        })
    ));

    let batch = RecordBatch::parse(&Bytes::from(two_record_batch())).unwrap();
    assert_eq!(batch.validate_records(1024), Ok(()));
}

/// `DefaultRecordBatch.incrementSequence`, including the wrap at `i32::MAX` and the inputs a
/// corrupt header can produce, where Java's int arithmetic wraps instead of failing.
#[test]
fn increment_sequence_matches_java() {
    assert_eq!(increment_sequence(0, 0), 0);
    assert_eq!(increment_sequence(10, 4), 14);
    assert_eq!(increment_sequence(i32::MAX, 0), i32::MAX);
    assert_eq!(increment_sequence(i32::MAX, 1), 0);
    assert_eq!(increment_sequence(i32::MAX - 2, 5), 2);
    // Java: MAX - (-3) wraps to MIN + 2, so -5 > it holds, and the result is
    // -3 - (MAX - (-5), wrapped to MIN + 4) - 1, which wraps to 2^31 - 8.
    assert_eq!(increment_sequence(-5, -3), 2_147_483_640);
    // Java: MAX - MIN wraps to -1; 5 > -1; MIN - (MAX - 5) - 1 wraps to 5.
    assert_eq!(increment_sequence(5, i32::MIN), 5);
    // (Values checked against an emulation of Java's 32-bit arithmetic.)
}

#[test]
fn an_empty_batch_is_well_formed() {
    let bytes = RecordBatchBuilder::new(Compression::Zstd).finish().unwrap();
    let batch = RecordBatch::parse(&bytes).unwrap();
    assert_eq!(batch.header().records_count, 0);
    assert_eq!(batch.header().last_offset_delta, 0);
    assert_eq!(batch.header().max_timestamp, -1);
    assert_eq!(batch.records(1024).unwrap().count(), 0);
}
