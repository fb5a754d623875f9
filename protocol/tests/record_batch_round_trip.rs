//! RecordBatch v2 round trips, property-tested: arbitrary records built with
//! `RecordBatchBuilder` and read back with `RecordBatch::parse` come out field for field equal,
//! with every codec, and the header describes them as Kafka's `DefaultRecordBatch` would.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{ProducerState, RecordBatch, RecordBatchBuilder};
use proptest::collection::vec;
use proptest::prelude::*;

/// One record as a producer would hand it over.
#[derive(Debug, Clone)]
struct Input {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Input {
    /// The headers as `RecordBatchBuilder::append` takes them.
    fn header_refs(&self) -> Vec<(&str, Option<&[u8]>)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect()
    }
}

/// Null, empty, short, and (rarely) large byte fields.
fn field() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        2 => Just(None),
        2 => Just(Some(Vec::new())),
        6 => vec(any::<u8>(), 1..64).prop_map(Some),
        1 => vec(any::<u8>(), 2_000..20_000).prop_map(Some),
    ]
}

/// Realistic epoch milliseconds, small and negative values, and the extremes, so that deltas are
/// negative (out of order) and overflow as Kafka's wrap-around arithmetic expects.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 1_600_000_000_000i64..1_800_000_000_000,
        2 => -1_000i64..1_000,
        1 => any::<i64>(),
        1 => prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0]),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    let header = ("\\PC{0,12}", field());
    (timestamp(), field(), field(), vec(header, 0..4)).prop_map(
        |(timestamp, key, value, headers)| Input {
            timestamp,
            key,
            value,
            headers,
        },
    )
}

fn producer() -> impl Strategy<Value = ProducerState> {
    prop_oneof![
        Just(ProducerState::NONE),
        (any::<i64>(), any::<i16>(), any::<i32>()).prop_map(
            |(producer_id, producer_epoch, base_sequence)| ProducerState {
                producer_id,
                producer_epoch,
                base_sequence,
            }
        ),
    ]
}

fn build(
    codec: Compression,
    inputs: &[Input],
    producer: ProducerState,
    transactional: bool,
) -> Bytes {
    let mut builder = RecordBatchBuilder::new(codec);
    builder
        .set_producer_state(producer)
        .set_transactional(transactional);
    for (i, input) in inputs.iter().enumerate() {
        let headers = input.header_refs();
        let delta = builder
            .append(
                input.timestamp,
                input.key.as_deref(),
                input.value.as_deref(),
                &headers,
            )
            .unwrap();
        assert_eq!(delta, i as i32);
    }
    assert_eq!(builder.record_count(), inputs.len() as i32);
    builder.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_field_survives_every_codec(
        inputs in vec(input(), 0..12),
        producer in producer(),
        transactional in any::<bool>(),
    ) {
        for codec in Compression::ALL {
            let bytes = build(codec, &inputs, producer, transactional);
            let batch = RecordBatch::parse(&bytes).unwrap();
            let header = batch.header();
            prop_assert_eq!(header.base_offset, 0);
            prop_assert_eq!(header.size_in_bytes(), bytes.len());
            prop_assert_eq!(header.magic, 2);
            prop_assert_eq!(header.partition_leader_epoch, -1);
            prop_assert_eq!(header.compression().unwrap(), codec);
            prop_assert_eq!(header.is_transactional(), transactional);
            prop_assert!(!header.is_control() && !header.is_log_append_time());
            prop_assert_eq!(header.producer_state(), producer);
            prop_assert_eq!(header.records_count, inputs.len() as i32);
            prop_assert_eq!(header.last_offset_delta, (inputs.len() as i32 - 1).max(0));
            let first = inputs.first().map_or(-1, |r| r.timestamp);
            let max = inputs.iter().map(|r| r.timestamp).max().unwrap_or(-1);
            prop_assert_eq!(header.base_timestamp, first);
            prop_assert_eq!(header.max_timestamp, max);

            let limit = bytes.len() * 2 + 20_000 * 24;
            batch.validate_records(limit).unwrap();
            let records: Vec<_> = batch.records(limit).unwrap().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(records.len(), inputs.len());
            for (i, (record, input)) in records.iter().zip(&inputs).enumerate() {
                prop_assert_eq!(record.offset, i as i64);
                prop_assert_eq!(record.timestamp, input.timestamp);
                prop_assert_eq!(record.key.as_deref(), input.key.as_deref());
                prop_assert_eq!(record.value.as_deref(), input.value.as_deref());
                prop_assert_eq!(record.headers.len(), input.headers.len());
                for (header, (key, value)) in record.headers.iter().zip(&input.headers) {
                    prop_assert_eq!(&header.key[..], key.as_bytes());
                    prop_assert_eq!(header.value.as_deref(), value.as_deref());
                }
            }
        }
    }

    /// What the accumulator relies on: `record_size` is exactly what `append` adds.
    #[test]
    fn record_size_predicts_the_bytes_appended(inputs in vec(input(), 1..8)) {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        let base = inputs[0].timestamp;
        for (i, input) in inputs.iter().enumerate() {
            let headers = input.header_refs();
            let expected = RecordBatchBuilder::record_size(
                i as i32,
                input.timestamp.wrapping_sub(base),
                input.key.as_deref(),
                input.value.as_deref(),
                &headers,
            );
            let before = builder.size_in_bytes();
            builder
                .append(input.timestamp, input.key.as_deref(), input.value.as_deref(), &headers)
                .unwrap();
            prop_assert_eq!(builder.size_in_bytes() - before, expected);
        }
    }
}

/// Batches concatenated as a Fetch response carries them come apart again, in order.
#[test]
fn concatenated_batches_parse_one_by_one() {
    let one = |value: &[u8], codec| {
        let mut builder = RecordBatchBuilder::new(codec);
        builder.append(1, None, Some(value), &[]).unwrap();
        builder.finish().unwrap()
    };
    let mut all = Vec::new();
    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        all.extend_from_slice(&one(&[i as u8; 3], codec));
    }
    let batches: Vec<_> = ktrial_protocol::records::parse_batches(Bytes::from(all))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.len(), 5);
    for (i, batch) in batches.iter().enumerate() {
        let record = batch.records(100).unwrap().next().unwrap().unwrap();
        assert_eq!(record.value.as_deref(), Some(&[i as u8; 3][..]));
    }
}
