//! Jumping over idle simulated time is exact: every fixture, run with the jump and with a step
//! for every millisecond, gives the same journal, findings and simulated time (see
//! `sim::jump`). A difference means a timer on some host is not registered, or a wake source
//! the runner does not see.

use std::path::{Path, PathBuf};

use ktrial_harness::scenario::load_file;
use ktrial_harness::sim::{RunOptions, run_with};

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
        let stepped = run_with(&scenario, scenario.seed, RunOptions { idle_jump: false })
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        let jumped = run_with(&scenario, scenario.seed, RunOptions { idle_jump: true })
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        assert_eq!(stepped.steps, stepped.simulated_ms, "{}", scenario.name);
        eprintln!("{} {} {}", scenario.name, stepped.steps, jumped.steps);
        steps_stepped += stepped.steps;
        steps_jumped += jumped.steps;
        if (
            &stepped.journal_hash,
            &stepped.findings,
            stepped.simulated_ms,
            stepped.passed(),
        ) != (
            &jumped.journal_hash,
            &jumped.findings,
            jumped.simulated_ms,
            jumped.passed(),
        ) {
            different.push(format!(
                "{}: {} in {} ms stepped, {} in {} ms jumped",
                scenario.name,
                stepped.journal_hash,
                stepped.simulated_ms,
                jumped.journal_hash,
                jumped.simulated_ms
            ));
        }
    }
    assert!(different.is_empty(), "{different:#?}");
    // The jump is taken, not only harmless: the fixtures are short and mostly busy, yet it
    // saves about half of their steps (11,664 of 22,324 on 2026-11-21).
    assert!(
        steps_jumped * 3 < steps_stepped * 2,
        "{steps_jumped} steps jumped, {steps_stepped} stepped"
    );
}
