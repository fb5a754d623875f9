//! Ingest rate of librdkafka's producer (rust-rdkafka `BaseProducer`, 100-byte records, acks=1,
//! librdkafka's default batching) into an in-process ktrial `MockCluster` and, side by side in
//! the same run, into librdkafka's own `rdkafka::mocking::MockCluster` (the workload is in
//! `common/mod.rs`). Target: ktrial at least 1.2× as fast. `ingest_cpu` runs the same workload
//! alternating between the clusters and splits the CPU time by thread.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use common::{Clusters, RECORDS};

fn ingest(c: &mut Criterion) {
    let clusters = Clusters::start();
    let mut group = c.benchmark_group("ingest: rdkafka BaseProducer, 100-byte records, acks=1");
    group.throughput(Throughput::Elements(RECORDS));
    group.sample_size(10);
    group.bench_function("ktrial MockCluster", |b| {
        b.iter(|| clusters.to_ktrial.run())
    });
    group.bench_function("librdkafka MockCluster", |b| {
        b.iter(|| clusters.to_librdkafka.run())
    });
    group.finish();
    clusters.stop();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
