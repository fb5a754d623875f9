//! Start-up cost of an in-process cluster: 3 brokers, 10 topics of 6 partitions (3 replicas),
//! listening on 127.0.0.1 ephemeral ports; and the model alone. Target: < 1 ms median.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ktrial_mockbroker::{MockCluster, MockClusterBuilder};
use tokio::time::Instant;

fn builder() -> MockClusterBuilder {
    (0..10).fold(MockCluster::builder().brokers(3), |b, i| {
        b.topic(&format!("topic-{i}"), 6, 3)
    })
}

fn startup(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    c.bench_function("start 3 brokers, 10 topics, then shut down", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let cluster = builder().start().await.unwrap();
                cluster.shutdown().await;
            })
        });
    });
    c.bench_function("model only: 3 brokers, 10 topics", |b| {
        let builder = builder();
        b.iter(|| builder.build_model(Instant::now()).unwrap());
    });
}

criterion_group!(benches, startup);
criterion_main!(benches);
