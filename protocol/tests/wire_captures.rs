//! Golden vectors: real Produce request frames captured from real clients (kcat/librdkafka 2.0.2,
//! kafka-python, kafkajs, rust-rdkafka/librdkafka 2.12.1) on their way to `ktrial broker`, one per
//! client and codec, in `fixtures/wire/` (see its README for versions and how to refresh them).
//!
//! Each capture holds 5 records `key-<i>` = `<client>-<codec>-<i>` (i = 1..5) written by an
//! idempotent producer to partition 0 of topic `wire`. The frame is decoded with
//! `codec::decode_request`, its batch with `RecordBatch::parse`, and every field the client set is
//! checked: API version, acks, topic, codec, record count, keys, values, producer id, epoch and
//! first sequence.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ktrial_protocol::codec::decode_request;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::{ApiKey, RequestKind};
use ktrial_protocol::records::RecordBatch;

const TOPIC: &str = "wire";
const RECORDS: i32 = 5;
const MAX_UNCOMPRESSED: usize = 1 << 20;

/// One capture: who sent it and what its header must say.
struct Capture {
    client: &'static str,
    /// `client.id` the client put in the request header.
    client_id: &'static str,
    /// Produce version the client chose against ktrial's ApiVersions answer.
    version: i16,
    codec: &'static str,
    compression: Compression,
}

const CODECS: [(&str, Compression); 5] = [
    ("none", Compression::None),
    ("gzip", Compression::Gzip),
    ("snappy", Compression::Snappy),
    ("lz4", Compression::Lz4),
    ("zstd", Compression::Zstd),
];

/// Every capture expected in `fixtures/wire/`: (client, client.id, Produce version, codecs).
fn captures() -> Vec<Capture> {
    let clients: [(&str, &str, i16, usize); 4] = [
        ("kcat", "rdkafka", 7, 5),
        ("kafka-python", "ktrial-kafka-python", 9, 5),
        // kafkajs has none, gzip and snappy (through kafkajs-snappy); CODECS lists those first.
        ("kafkajs", "ktrial-kafkajs", 7, 3),
        ("rust-rdkafka", "ktrial-rust-rdkafka", 10, 5),
    ];
    clients
        .into_iter()
        .flat_map(|(client, client_id, version, codecs)| {
            CODECS[..codecs]
                .iter()
                .map(move |&(codec, compression)| Capture {
                    client,
                    client_id,
                    version,
                    codec,
                    compression,
                })
        })
        .collect()
}

fn wire_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/wire")
}

fn check(capture: &Capture) {
    let name = format!("{}-{}", capture.client, capture.codec);
    let frame = Bytes::from(std::fs::read(wire_dir().join(format!("{name}.bin"))).unwrap());
    let request = decode_request(frame).unwrap();
    assert_eq!(request.api_key, ApiKey::Produce, "{name}");
    assert_eq!(request.version(), capture.version, "{name}");
    assert_eq!(
        request.header.client_id.as_deref(),
        Some(capture.client_id),
        "{name}"
    );
    let RequestKind::Produce(produce) = request.body else {
        panic!("{name}: not a Produce body");
    };
    assert_eq!(produce.acks, -1, "{name}: idempotence needs acks=all");
    assert_eq!(produce.transactional_id, None, "{name}");
    let [topic] = produce.topic_data.as_slice() else {
        panic!("{name}: {} topics", produce.topic_data.len());
    };
    assert_eq!(topic.name.as_str(), TOPIC, "{name}");
    let [partition] = topic.partition_data.as_slice() else {
        panic!("{name}: {} partitions", topic.partition_data.len());
    };
    assert_eq!(partition.index, 0, "{name}");

    let batch = RecordBatch::parse(partition.records.as_ref().unwrap()).unwrap();
    let header = batch.header();
    assert_eq!(header.compression().unwrap(), capture.compression, "{name}");
    assert_eq!(header.records_count, RECORDS, "{name}");
    assert_eq!(header.last_offset_delta, RECORDS - 1, "{name}");
    assert_eq!(header.base_offset, 0, "{name}");
    assert!(!header.is_transactional() && !header.is_control(), "{name}");
    assert!(
        !header.is_log_append_time(),
        "{name}: producers send CreateTime"
    );
    // Idempotence: an id from InitProducerId, its first epoch, the partition's first sequence.
    assert!(
        header.producer_id >= 0,
        "{name}: producer id {}",
        header.producer_id
    );
    assert_eq!(header.producer_epoch, 0, "{name}");
    assert_eq!(header.base_sequence, 0, "{name}");
    batch.validate_records(MAX_UNCOMPRESSED).unwrap();

    let records: Vec<_> = batch
        .records(MAX_UNCOMPRESSED)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 5, "{name}");
    for (record, i) in records.iter().zip(1..) {
        assert_eq!(record.offset, i64::from(i - 1), "{name}");
        let key = format!("key-{i}");
        let value = format!("{}-{}-{i}", capture.client, capture.codec);
        assert_eq!(record.key.as_deref(), Some(key.as_bytes()), "{name}");
        assert_eq!(record.value.as_deref(), Some(value.as_bytes()), "{name}");
        assert!(record.headers.is_empty(), "{name}");
        assert!(
            (header.base_timestamp..=header.max_timestamp).contains(&record.timestamp),
            "{name}: record {i} timestamp outside the batch's range"
        );
    }
}

#[test]
fn every_capture_decodes_to_what_its_client_sent() {
    let captures = captures();
    for capture in &captures {
        check(capture);
    }
    assert_eq!(captures.len(), 18);
}

#[test]
fn every_file_in_fixtures_wire_is_checked() {
    let mut expected: Vec<String> = captures()
        .iter()
        .map(|c| format!("{}-{}.bin", c.client, c.codec))
        .collect();
    let mut found: Vec<String> = std::fs::read_dir(wire_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".bin"))
        .collect();
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
}
