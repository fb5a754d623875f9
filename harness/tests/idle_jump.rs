//! Jumping over idle simulated time is exact: every fixture, and fault schedules drawn the way
//! `ktrial explore` draws them, run with the jump and with a step for every millisecond, give
//! the same journal, findings and simulated time (see `sim::jump`). A difference means a timer
//! on some host is not registered, or a wake source the runner does not see.

use std::path::{Path, PathBuf};

use ktrial_harness::explore::FaultSpace;
use ktrial_harness::scenario::{Scenario, load_file};
use ktrial_harness::sim::{RunOptions, RunReport, run_with};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// What must not depend on the jump.
fn outcome(report: &RunReport) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        &report.journal_hash,
        &report.findings,
        report.simulated_ms,
        report.passed(),
    )
}

/// Runs `scenario` with `seed` stepped and jumped; `None` when they agree, else what differs.
fn difference(scenario: &Scenario, seed: u64) -> (Option<String>, u64, u64) {
    let stepped = run_with(scenario, seed, RunOptions { idle_jump: false })
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    let jumped = run_with(scenario, seed, RunOptions { idle_jump: true })
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    assert_eq!(stepped.steps, stepped.simulated_ms, "{}", scenario.name);
    let differs = (outcome(&stepped) != outcome(&jumped)).then(|| {
        format!(
            "{} seed {seed}: {} in {} ms stepped, {} in {} ms jumped",
            scenario.name,
            stepped.journal_hash,
            stepped.simulated_ms,
            jumped.journal_hash,
            jumped.simulated_ms
        )
    });
    (differs, stepped.steps, jumped.steps)
}

fn fixtures(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(folder);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures exist")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_gives_the_same_journal_with_and_without_the_jump() {
    let files = fixtures("scenarios");
    assert!(files.len() >= 10, "the fixture suite is there");
    let mut different = Vec::new();
    let (mut steps_stepped, mut steps_jumped) = (0, 0);
    for file in files {
        let scenario = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let (differs, stepped, jumped) = difference(&scenario, scenario.seed);
        different.extend(differs);
        steps_stepped += stepped;
        steps_jumped += jumped;
    }
    assert!(different.is_empty(), "{different:#?}");
    // The jump is taken, not only harmless: the fixtures are short and mostly busy, yet it
    // saves about half of their steps (11,664 of 22,324 on 2026-11-21).
    assert!(
        steps_jumped * 3 < steps_stepped * 2,
        "{steps_jumped} steps jumped, {steps_stepped} stepped"
    );
}

#[test]
fn explored_schedules_give_the_same_journal_with_and_without_the_jump() {
    // Request timeouts, lost responses, outages, partitions and holds: where the jump matters.
    let mut different = Vec::new();
    let (mut steps_stepped, mut steps_jumped) = (0, 0);
    for name in [
        "non-idempotent-inflight5-retries",
        "lost-response-with-idempotence",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/scenarios")
            .join(format!("{name}.toml"));
        let scenario = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let baseline = run_with(&scenario, scenario.seed, RunOptions::default()).unwrap();
        let schedules = FaultSpace::new(&scenario, &baseline).schedules(3);
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        for _ in 0..10 {
            let schedule = schedules.new_tree(&mut runner).unwrap().current();
            let (differs, stepped, jumped) =
                difference(&schedule.apply_to(&scenario), schedule.seed);
            different.extend(differs);
            steps_stepped += stepped;
            steps_jumped += jumped;
        }
    }
    assert!(different.is_empty(), "{different:#?}");
    assert!(
        steps_jumped * 3 < steps_stepped,
        "{steps_jumped} steps jumped, {steps_stepped} stepped"
    );
}
