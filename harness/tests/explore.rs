//! `explore` on the non-idempotent, five-in-flight scenario: it finds the reordering, shrinks it
//! to at most three faults, and the file it writes reproduces the run exactly, through the
//! library and through `ktrial run`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ktrial_harness::explore::{ExploreConfig, Finding, explore, reproduction_file};
use ktrial_harness::scenario::{Expect, PropertyValue, Scenario, load_file};
use ktrial_harness::sim::run;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/scenarios")
        .join(name)
}

fn broken(finding: &Finding) -> Vec<&'static str> {
    finding.violations().iter().map(|v| v.property).collect()
}

/// The non-idempotent fixture with a 1 s request timeout: a dropped request or lost response
/// costs request.timeout.ms of simulated time, stepped every millisecond, and 1 s instead of the
/// default 30 s keeps a debug build's cases fast.
fn non_idempotent_inflight5() -> Scenario {
    let mut scenario = load_file(&fixture("non-idempotent-inflight5-retries.toml")).unwrap();
    scenario
        .producer
        .insert("request.timeout.ms".into(), PropertyValue("1000".into()));
    scenario
}

fn config(cases: u32, seed: u64) -> ExploreConfig {
    ExploreConfig {
        cases,
        seed,
        ..ExploreConfig::default()
    }
}

#[test]
fn explore_finds_a_reordering_shrinks_it_and_the_written_file_reproduces_it() {
    let scenario = non_idempotent_inflight5();
    let exploration = explore(&scenario, &config(40, 1)).unwrap();
    let finding = exploration.finding.expect("a violation within 40 cases");
    assert_eq!(broken(&finding), ["ordered"], "{}", finding.summary());
    assert!(
        finding.minimal.faults.len() <= 3,
        "shrunk to {:?}",
        finding.minimal
    );
    assert!(finding.minimal.faults.len() <= finding.first.faults.len());
    assert!(exploration.cases <= 41);
    let report = finding.outcome.as_ref().unwrap();
    assert!(!report.findings.reordered.is_empty());
    // The scenario's own fault rule is gone: only the schedule's faults remain.
    assert_ne!(finding.scenario.faults, scenario.faults);
    // The reordering the scenario expects is kept as a demonstration; what must hold still must.
    assert_eq!(finding.scenario.expect.ordered, Expect::Violated);
    assert_eq!(finding.scenario.expect.no_loss, Expect::Holds);
    assert!(finding.is_demonstration());

    let text = reproduction_file(&finding, "the explore test").unwrap();
    assert!(text.starts_with("# Minimal schedule found by the explore test: ordered violated"));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("non-idempotent-explored.toml");
    std::fs::write(&path, &text).unwrap();

    let loaded = load_file(&path).unwrap();
    assert_eq!(loaded, finding.scenario);
    let rerun = run(&loaded, loaded.seed).unwrap();
    assert!(rerun.passed());
    assert_eq!(rerun.journal_hash, report.journal_hash);
    assert_eq!(rerun.findings, report.findings);
    assert_eq!(rerun.verdicts, report.verdicts);

    // `ktrial run` on the file: exit 0, the same violation and the same journal hash.
    let output = Command::new(env!("CARGO_BIN_EXE_ktrial"))
        .args(["run", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["journal_hash"], report.journal_hash.as_str());
    assert_eq!(line["seed"], finding.minimal.seed);
    let found: Vec<_> = line["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["violated"] == true)
        .map(|v| v["property"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["ordered"]);
}

#[test]
fn the_same_seed_explores_and_shrinks_the_same_way() {
    let scenario = non_idempotent_inflight5();
    let first = explore(&scenario, &config(20, 5)).unwrap();
    let again = explore(&scenario, &config(20, 5)).unwrap();
    assert_eq!(
        (first.cases, first.shrink_runs),
        (again.cases, again.shrink_runs)
    );
    let (first, again) = (first.finding.unwrap(), again.finding.unwrap());
    assert_eq!(first.first, again.first);
    assert_eq!(first.minimal, again.minimal);
    assert_eq!(
        first.outcome.unwrap().journal_hash,
        again.outcome.unwrap().journal_hash
    );
}

#[test]
fn a_scenario_that_survives_every_case_has_no_finding() {
    // Idempotence with a 500 ms request timeout: eight schedules of lost responses, errors,
    // outages and partitions lose, duplicate, reorder and fail nothing.
    let scenario = load_file(&fixture("lost-response-with-idempotence.toml")).unwrap();
    let exploration = explore(&scenario, &config(8, 1)).unwrap();
    assert!(exploration.finding.is_none());
    assert_eq!((exploration.cases, exploration.shrink_runs), (9, 0));
}
