//! Runs librdkafka's mock cluster (a broker not written here) until killed, for `ktrial perf
//! produce` and other clients to measure against:
//! `cargo run --release -p ktrial-producer --example rdkafka_mock_cluster -- BROKERS TOPIC:PARTITIONS...`
//! Prints `bootstrap=HOST:PORT,...` once it listens.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let brokers: i32 = args.next().and_then(|b| b.parse().ok()).unwrap_or(1);
    let cluster = rdkafka::mocking::MockCluster::new(brokers).unwrap();
    for topic in args {
        let (name, partitions) = topic.split_once(':').unwrap_or((&topic, "1"));
        cluster
            .create_topic(name, partitions.parse().unwrap(), 1)
            .unwrap();
    }
    println!("bootstrap={}", cluster.bootstrap_servers());
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}
