//! The ingest workload of `ingest.rs` (`common/mod.rs`), run in rounds that alternate between
//! ktrial's cluster and librdkafka's, so that both see the same load on a shared machine. Each
//! round prints the rate into each cluster, their ratio, and the CPU time per record of each
//! group of threads: the application thread (`send`, `poll`), librdkafka's producer threads
//! (`rdk:*` except the mock), and the broker (ktrial's tokio runtime, or `rdk:mock`). The CPU
//! split shows what share of the work a broker could save at all.
//!
//! `cargo bench -p ktrial-mockbroker --bench ingest_cpu -- [ROUNDS] [RUNS_PER_ROUND]`
//! (Linux: it reads `/proc/self/task/*/schedstat`).
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{Clusters, Ingest, KTRIAL_THREADS, RECORDS};

/// Thread groups, in print order.
const GROUPS: [&str; 3] = ["application", "producer threads", "broker"];

fn group_of(thread: &str) -> &'static str {
    if thread.starts_with(KTRIAL_THREADS) || thread == "rdk:mock" {
        "broker"
    } else if thread.starts_with("rdk:") {
        "producer threads"
    } else {
        "application"
    }
}

/// Nanoseconds on a CPU so far, by thread group.
fn cpu_by_group() -> BTreeMap<&'static str, u64> {
    let mut by_group = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_group;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let (Ok(comm), Ok(schedstat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
        ) else {
            continue; // the thread ended meanwhile
        };
        let on_cpu: u64 = schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .unwrap_or(0);
        *by_group.entry(group_of(comm.trim())).or_default() += on_cpu;
    }
    by_group
}

/// Runs `runs` times; records per second and CPU ns per record by group.
fn measure(ingest: &Ingest, runs: u64) -> (f64, BTreeMap<&'static str, f64>) {
    let before = cpu_by_group();
    let start = Instant::now();
    for _ in 0..runs {
        ingest.run();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let records = (runs * RECORDS) as f64;
    let per_record = cpu_by_group()
        .into_iter()
        .map(|(group, ns)| {
            let spent = ns.saturating_sub(before.get(group).copied().unwrap_or(0));
            (group, spent as f64 / records)
        })
        .collect();
    (records / elapsed, per_record)
}

fn line(name: &str, rate: f64, per_record: &BTreeMap<&'static str, f64>) -> String {
    let split: Vec<String> = GROUPS
        .iter()
        .map(|g| format!("{g} {:.0}", per_record.get(g).copied().unwrap_or(0.0)))
        .collect();
    format!(
        "{name:>10}: {:>5.0} k records/s; CPU ns/record: {}",
        rate / 1e3,
        split.join(", ")
    )
}

fn main() {
    // `cargo bench` passes `--bench`; the numbers are ours.
    let numbers: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let rounds = numbers.first().copied().unwrap_or(5);
    let runs = numbers.get(1).copied().unwrap_or(10);
    let clusters = Clusters::start();
    clusters.to_ktrial.run();
    clusters.to_librdkafka.run();
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let (ktrial, ktrial_cpu) = measure(&clusters.to_ktrial, runs);
        let (librdkafka, librdkafka_cpu) = measure(&clusters.to_librdkafka, runs);
        println!(
            "round {round}: ratio ktrial/librdkafka {:.2}",
            ktrial / librdkafka
        );
        println!("{}", line("ktrial", ktrial, &ktrial_cpu));
        println!("{}", line("librdkafka", librdkafka, &librdkafka_cpu));
        ratios.push(ktrial / librdkafka);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median ratio over {rounds} rounds of {runs} × {RECORDS} records: {:.2}",
        ratios[ratios.len() / 2]
    );
    clusters.stop();
}
