//! The search: proptest's [`TestRunner`] draws schedules around a scenario, runs each in
//! simulated time, and shrinks the first one that breaks a property to a minimal schedule.

use std::cell::{Cell, RefCell};

use proptest::test_runner::{
    Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner, basic_result_cache,
};

use super::{FaultSpace, Schedule};
use crate::check::{PropertyVerdict, judge};
use crate::scenario::{Expect, Expectations, Scenario};
use crate::sim::{RunError, RunReport, run};

/// How an exploration runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExploreConfig {
    /// Schedules to try before declaring that none breaks a property.
    pub cases: u32,
    /// Seed of the generator: the same seed draws the same schedules and shrinks them the same way.
    pub seed: u64,
    /// Most faults in one schedule.
    pub max_faults: usize,
    /// Most shrinking steps after the first failure.
    pub max_shrink_iters: u32,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        Self {
            cases: 100,
            seed: 0,
            max_faults: 6,
            max_shrink_iters: 512,
        }
    }
}

/// An exploration that could not take place.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The scenario does not run even without faults.
    #[error("the scenario does not run without faults: {0}")]
    Baseline(RunError),
    /// proptest gave up (too many rejected cases).
    #[error("exploration aborted: {0}")]
    Aborted(String),
}

/// What an exploration did and found.
#[derive(Debug)]
pub struct Exploration {
    /// Schedules run up to and including the first failing one (all of them when none failed),
    /// the fault-free baseline included.
    pub cases: u32,
    /// Runs spent shrinking the first failing schedule.
    pub shrink_runs: u32,
    /// The violation found, shrunk; none when every case held.
    pub finding: Option<Finding>,
}

/// A violation and the smallest schedule found that still shows it.
#[derive(Debug)]
pub struct Finding {
    /// The first failing schedule, as drawn.
    pub first: Schedule,
    /// The schedule after shrinking.
    pub minimal: Schedule,
    /// The scenario with the minimal schedule in place: what the reproduction file holds. Its
    /// expectations are the scenario's: what must hold still must, and what the scenario expects
    /// violated is `violated` when the minimal run shows it (a demonstration) and `ignored` when
    /// it does not.
    pub scenario: Scenario,
    /// Its run, judged by those expectations: the report, or why the simulation itself failed.
    pub outcome: Result<RunReport, RunError>,
}

impl Finding {
    /// The checked properties the minimal schedule breaks, wanted (a demonstration) or not;
    /// none when the simulation itself failed.
    pub fn violations(&self) -> Vec<&PropertyVerdict> {
        self.outcome.as_ref().map(broken).unwrap_or_default()
    }

    /// Whether only properties the scenario expects violated broke, so that `ktrial run` passes
    /// on the reproduction file (and fails once the demonstration stops reproducing).
    pub fn is_demonstration(&self) -> bool {
        self.outcome.as_ref().is_ok_and(RunReport::passed)
    }

    /// One line on what broke: `ordered violated`, or the simulation's error.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Ok(report) => violated(report),
            Err(e) => e.to_string(),
        }
    }
}

/// The expectations a case is judged by: every property the scenario checks must hold, so that
/// any violation is a finding: of a property expected to hold, a bug; of one expected violated,
/// a demonstration of the known failure mode, which is searched for the same way. Properties the
/// scenario ignores stay ignored: a non-idempotent scenario that does not claim `no_duplicates`
/// would otherwise drown its reordering in the duplicates it is known to make.
pub fn explored_expectations(expect: &Expectations) -> Expectations {
    let judged = |e: Expect| match e {
        Expect::Ignored => Expect::Ignored,
        Expect::Holds | Expect::Violated => Expect::Holds,
    };
    expect.map_properties(|_, e| judged(e))
}

/// Explores fault schedules around `scenario` (its own faults are replaced) and shrinks the first
/// that breaks a property.
///
/// ```
/// use ktrial_harness::explore::{ExploreConfig, explore};
/// use ktrial_harness::scenario::parse;
///
/// let scenario = parse(r#"
///     seed = 1
///     [producer]
///     "enable.idempotence" = false
///     "max.in.flight.requests.per.connection" = 5
///     "linger.ms" = 1
///     "batch.size" = 512
///     "request.timeout.ms" = 500
///     [workload]
///     topic = "t"
///     records = 100
///     [expect]
///     ordered = "holds"
/// "#, "doc.toml".as_ref())?;
/// let config = ExploreConfig { cases: 20, seed: 7, ..ExploreConfig::default() };
/// let exploration = explore(&scenario, &config)?;
/// let finding = exploration.finding.expect("five requests in flight without idempotence reorder");
/// assert_eq!(finding.summary(), "ordered violated");
/// assert!(finding.minimal.faults.len() <= finding.first.faults.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn explore(scenario: &Scenario, config: &ExploreConfig) -> Result<Exploration, ExploreError> {
    explore_with(scenario, config, &|scenario, seed, _| run(scenario, seed))
}

/// One run of a candidate: the scenario with a schedule in place, its seed, and whether the
/// search is shrinking (a real-time runner then runs it more than once, since one run that held
/// proves little).
pub type CaseRunner<'a> = dyn Fn(&Scenario, u64, bool) -> Result<RunReport, RunError> + 'a;

/// [`explore`] with another way to run a case: against a real client's driver
/// ([`crate::live`]) instead of the simulation.
pub fn explore_with(
    scenario: &Scenario,
    config: &ExploreConfig,
    run: &CaseRunner<'_>,
) -> Result<Exploration, ExploreError> {
    let judged = Scenario {
        name: format!("{}-explored", scenario.name),
        expect: explored_expectations(&scenario.expect),
        ..scenario.clone()
    };
    let fault_free = Schedule {
        seed: scenario.seed,
        faults: Vec::new(),
    };
    let baseline = run(&fault_free.apply_to(&judged), fault_free.seed, false)
        .map_err(ExploreError::Baseline)?;
    if broke_a_property(&baseline) {
        return Ok(Exploration {
            cases: 1,
            shrink_runs: 0,
            finding: Some(finding(
                &judged,
                &scenario.expect,
                fault_free.clone(),
                fault_free,
                run,
            )),
        });
    }

    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: config.cases,
            max_shrink_iters: config.max_shrink_iters,
            failure_persistence: None,
            result_cache: basic_result_cache,
            fork: false,
            timeout: 0,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(config.seed)),
    );
    let runs = Cell::new(1_u32);
    let first = RefCell::new(None::<(u32, Schedule)>);
    let result = runner.run(
        &FaultSpace::new(&judged, &baseline).schedules(config.max_faults),
        |schedule| {
            runs.set(runs.get() + 1);
            let shrinking = first.borrow().is_some();
            let failure = match run(&schedule.apply_to(&judged), schedule.seed, shrinking) {
                Ok(report) if broke_a_property(&report) => violated(&report),
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            };
            first
                .borrow_mut()
                .get_or_insert_with(|| (runs.get(), schedule.clone()));
            Err(TestCaseError::fail(failure))
        },
    );
    let runs = runs.get();
    match (result, first.into_inner()) {
        (Ok(()), _) => Ok(Exploration {
            cases: runs,
            shrink_runs: 0,
            finding: None,
        }),
        (Err(TestError::Fail(_, minimal)), Some((cases, first))) => Ok(Exploration {
            cases,
            shrink_runs: runs - cases,
            finding: Some(finding(&judged, &scenario.expect, first, minimal, run)),
        }),
        (Err(TestError::Fail(reason, _)), None) | (Err(TestError::Abort(reason)), _) => {
            Err(ExploreError::Aborted(reason.to_string()))
        }
    }
}

fn broke_a_property(report: &RunReport) -> bool {
    !report.verdicts.iter().all(PropertyVerdict::passed)
}

/// The checked properties a run broke.
fn broken(report: &RunReport) -> Vec<&PropertyVerdict> {
    report
        .verdicts
        .iter()
        .filter(|v| v.violated && v.expected != Expect::Ignored)
        .collect()
}

/// `ordered violated`, `no_loss, all_delivered violated`: the checked properties a run broke.
fn violated(report: &RunReport) -> String {
    let names: Vec<_> = broken(report).iter().map(|v| v.property).collect();
    format!("{} violated", names.join(", "))
}

/// The reproduction file's expectations: `expect` (the scenario's own), with each property
/// expected violated kept as `violated` where `verdicts` show it and `ignored` where they do not.
fn reproduction_expectations(expect: &Expectations, verdicts: &[PropertyVerdict]) -> Expectations {
    let shown = |property: &str, e: Expect| match e {
        Expect::Violated
            if !verdicts
                .iter()
                .any(|v| v.property == property && v.violated) =>
        {
            Expect::Ignored
        }
        e => e,
    };
    expect.map_properties(shown)
}

/// Runs the minimal schedule once more, for its report and timeline, and judges it by the
/// expectations the reproduction file will carry (`expect` being the scenario's own).
fn finding(
    judged: &Scenario,
    expect: &Expectations,
    first: Schedule,
    minimal: Schedule,
    run: &CaseRunner<'_>,
) -> Finding {
    let mut scenario = minimal.apply_to(judged);
    let mut outcome = run(&scenario, minimal.seed, true);
    if let Ok(report) = &mut outcome {
        scenario.expect = reproduction_expectations(expect, &report.verdicts);
        report.verdicts = judge(&report.findings, &scenario.expect);
    }
    let what = match &outcome {
        Ok(report) => violated(report),
        Err(_) => "the simulation fails".into(),
    };
    scenario.description = format!(
        "{} fault(s) explored around {}: {what}",
        minimal.faults.len(),
        judged.name.trim_end_matches("-explored")
    );
    Finding {
        first,
        minimal,
        scenario,
        outcome,
    }
}

/// The generator's 32-byte ChaCha seed from a `u64`.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}
