//! Determinism (docs/architecture.md): the same scenario and seed give the same journal byte for
//! byte; another seed gives another journal where the scenario has randomness; and the text
//! timelines of three fixtures are pinned as snapshots.

use std::path::{Path, PathBuf};

use ktrial_harness::scenario::{Scenario, load_file};
use ktrial_harness::sim::run;
use ktrial_harness::timeline;

fn fixture(name: &str) -> Scenario {
    load_file(&fixtures().join(format!("{name}.toml"))).unwrap_or_else(|e| panic!("{e}"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios")
}

#[test]
fn every_fixture_twice_gives_the_same_journal() {
    let mut files: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixtures exist")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for file in files {
        let scenario = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let first = run(&scenario, scenario.seed).expect("first run");
        let second = run(&scenario, scenario.seed).expect("second run");
        assert_eq!(first.journal_hash, second.journal_hash, "{}", scenario.name);
        assert_eq!(first.timeline, second.timeline, "{}", scenario.name);
        assert_eq!(first.findings, second.findings, "{}", scenario.name);
        assert!(!first.timeline.is_empty(), "{}", scenario.name);
    }
}

#[test]
fn another_seed_gives_another_journal() {
    // Network latencies, backoff jitter and sticky partitions all come from the seed.
    let scenario = fixture("acks1-unclean-election");
    let one = run(&scenario, 4).expect("seed 4");
    let other = run(&scenario, 5).expect("seed 5");
    assert_ne!(one.journal_hash, other.journal_hash);
    assert_ne!(one.timeline, other.timeline);
}

#[test]
fn timeline_of_a_lost_response_without_idempotence() {
    let scenario = fixture("lost-response-without-idempotence");
    let report = run(&scenario, scenario.seed).expect("run");
    insta::assert_snapshot!(timeline::text(&report));
}

#[test]
fn timeline_of_flush() {
    let scenario = fixture("flush");
    let report = run(&scenario, scenario.seed).expect("run");
    insta::assert_snapshot!(timeline::text(&report));
}

#[test]
fn timeline_of_acks_all_with_a_clean_election() {
    let scenario = fixture("acks-all-min-isr2-clean-election");
    let report = run(&scenario, scenario.seed).expect("run");
    insta::assert_snapshot!(timeline::text(&report));
}
