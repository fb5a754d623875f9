//! Record batch encode and decode+validate throughput, in bytes of record data (keys and
//! values) per second, for batches of 100-byte records with 10-byte keys.
//!
//! Targets (issue 2), uncompressed, one core: encode >= 1 GB/s, decode+CRC >= 2 GB/s.
//! Run: `cargo bench -p ktrial-protocol --bench record_batch`; figures go to BENCHMARKS.md.
//!
//! The clock is the benchmark thread's CPU time, not wall time: the targets are per core, and
//! on a machine shared with builds and tests wall time mostly measures the other processes.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{RecordBatch, RecordBatchBuilder};

const KEY_BYTES: usize = 10;
const VALUE_BYTES: usize = 90;
/// Records per batch: about 100 KB of record data, a typical full batch.
const RECORDS: usize = 1_000;
const CODECS: [Compression; 3] = [Compression::None, Compression::Lz4, Compression::Zstd];

/// Keys and values that look like application data: distinct ids, JSON-ish text that
/// compresses the way real payloads do rather than like zeros.
fn records() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..RECORDS)
        .map(|i| {
            let key = format!("user-{i:05}").into_bytes();
            let mut value = format!(
                r#"{{"id":{i},"event":"click","page":"/item/{}","ms":{}}}"#,
                i * 7919 % 10_007,
                1_700_000_000_000u64 + (i as u64) * 37
            )
            .into_bytes();
            value.resize(VALUE_BYTES, b' ');
            assert_eq!(key.len(), KEY_BYTES);
            (key, value)
        })
        .collect()
}

fn encode(codec: Compression, records: &[(Vec<u8>, Vec<u8>)]) -> Bytes {
    let mut builder = RecordBatchBuilder::with_capacity(codec, RECORDS * 112);
    for (i, (key, value)) in records.iter().enumerate() {
        builder
            .append(1_700_000_000_000 + i as i64, Some(key), Some(value), &[])
            .unwrap();
    }
    builder.finish().unwrap()
}

/// Parse (lengths, magic, CRC-32C), decompress if needed, and decode every record.
fn decode(batch: &Bytes) -> usize {
    let batch = RecordBatch::parse(batch).unwrap();
    let mut bytes = 0;
    for record in batch.records(16 << 20).unwrap() {
        let record = record.unwrap();
        bytes += record.key.map_or(0, |k| k.len()) + record.value.map_or(0, |v| v.len());
    }
    bytes
}

/// Criterion measurement by `CLOCK_THREAD_CPUTIME_ID`, in nanoseconds like `WallTime`.
struct ThreadCpuTime;

/// `WallTime`'s formatter (nanoseconds as durations and rates), borrowed for `'static`.
static WALL_TIME: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

fn record_batch(c: &mut Criterion<ThreadCpuTime>) {
    let records = records();
    let data_bytes = (RECORDS * (KEY_BYTES + VALUE_BYTES)) as u64;

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(data_bytes));
    for codec in CODECS {
        group.bench_with_input(BenchmarkId::from_parameter(codec), &codec, |b, &codec| {
            b.iter(|| encode(codec, black_box(&records)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode_validate");
    group.throughput(Throughput::Bytes(data_bytes));
    for codec in CODECS {
        let batch = encode(codec, &records);
        assert_eq!(decode(&batch) as u64, data_bytes);
        group.bench_with_input(BenchmarkId::from_parameter(codec), &batch, |b, batch| {
            b.iter(|| decode(black_box(batch)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = record_batch
}
criterion_main!(benches);
