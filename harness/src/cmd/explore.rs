//! `ktrial explore SCENARIO --cases N [--seed S] [--out FILE]`: draws fault schedules around a
//! scenario, shrinks the first that breaks a property, writes it as a scenario file that
//! `ktrial run` reproduces, and prints the schedule and its timeline. Exits 1 on a violation.
//! `--client NAME` runs each case against a real client's driver in real time instead
//! (`--tries N` runs of each candidate while shrinking).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use ktrial_harness::explore::{
    Exploration, ExploreConfig, Finding, explore, explore_with, reproduction_file,
};
use ktrial_harness::live::{Driver, case_runner, judged_for};
use ktrial_harness::scenario::load_file;

/// Arguments of `ktrial explore`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file whose faults are replaced by generated ones.
    scenario: PathBuf,
    /// Schedules to try.
    #[arg(long, default_value_t = 100)]
    cases: u32,
    /// Seed of the schedule generator (the scenario's seed when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the minimal failing scenario (`<scenario>-explored.toml` here when absent).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Most faults in one schedule.
    #[arg(long, default_value_t = 6)]
    max_faults: usize,
    /// Most shrinking steps.
    #[arg(long, default_value_t = 512)]
    max_shrink_iters: u32,
    /// Explore against a real client (java, librdkafka, sarama, franz-go, kafka-python, kafkajs,
    /// ktrial, or a driver's command line) in real time instead of the simulation.
    #[arg(long)]
    client: Option<String>,
    /// With --client: runs of each candidate while shrinking (one run that holds proves little).
    #[arg(long, default_value_t = 3, requires = "client")]
    tries: u32,
    /// With --client: the drivers folder, as for `ktrial run --client`.
    #[arg(long, value_name = "DIR", requires = "client")]
    drivers: Option<PathBuf>,
}

/// Runs `ktrial explore`.
pub fn main(args: Args) -> ExitCode {
    let scenario = match load_file(&args.scenario) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("ktrial: {e}");
            return ExitCode::from(2);
        }
    };
    let config = ExploreConfig {
        cases: args.cases,
        seed: args.seed.unwrap_or(scenario.seed),
        max_faults: args.max_faults,
        max_shrink_iters: args.max_shrink_iters,
    };
    let started = Instant::now();
    let explored = match &args.client {
        None => explore(&scenario, &config),
        Some(spec) => {
            let driver =
                match Driver::resolve(spec, &super::live::drivers_dir(args.drivers.as_deref())) {
                    Ok(driver) => driver,
                    Err(e) => {
                        eprintln!("ktrial: {e}");
                        return ExitCode::from(2);
                    }
                };
            println!(
                "exploring against {} in real time: each candidate is run {} time(s) while shrinking",
                driver.name, args.tries
            );
            explore_with(
                &judged_for(&scenario, &driver.name),
                &config,
                &case_runner(&driver, args.tries),
            )
        }
    };
    let exploration = match explored {
        Ok(exploration) => exploration,
        Err(e) => {
            eprintln!("ktrial: {}: {e}", scenario.name);
            return ExitCode::from(2);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    print_statistics(&exploration, config.seed, seconds);
    let Some(finding) = exploration.finding else {
        println!("no violation in {} case(s)", exploration.cases);
        return ExitCode::SUCCESS;
    };
    let out = args
        .out
        .unwrap_or_else(|| default_out(&args.scenario, &scenario.name));
    let origin = format!(
        "`ktrial explore {} --cases {} --seed {}{}`",
        args.scenario.display(),
        config.cases,
        config.seed,
        args.client
            .as_ref()
            .map_or(String::new(), |c| format!(" --client {c}"))
    );
    match write_reproduction(&finding, &origin, &out) {
        Ok(()) => print_finding(&finding, &out),
        Err(e) => {
            eprintln!("ktrial: {}: {e}", out.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::FAILURE
}

fn print_statistics(exploration: &Exploration, seed: u64, seconds: f64) {
    let runs = exploration.cases + exploration.shrink_runs;
    println!(
        "explored {} case(s) and {} shrinking run(s) with seed {seed} in {seconds:.2} s ({:.1} runs/s)",
        exploration.cases,
        exploration.shrink_runs,
        f64::from(runs) / seconds.max(f64::EPSILON)
    );
}

fn default_out(scenario_path: &Path, name: &str) -> PathBuf {
    let stem = scenario_path
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}-explored.toml"))
}

fn write_reproduction(finding: &Finding, origin: &str, out: &Path) -> Result<(), String> {
    let text = reproduction_file(finding, origin).map_err(|e| e.to_string())?;
    std::fs::write(out, text).map_err(|e| e.to_string())
}

fn print_finding(finding: &Finding, out: &Path) {
    println!(
        "violation: {}; shrunk from {} to {} fault(s), seed {}",
        finding.summary(),
        finding.first.faults.len(),
        finding.minimal.faults.len(),
        finding.minimal.seed
    );
    if let Ok(report) = &finding.outcome {
        for verdict in finding.violations() {
            println!("    {}: {}", verdict.property, verdict.detail);
        }
        println!("    journal hash {}", report.journal_hash);
    }
    println!("minimal schedule:");
    match toml::to_string_pretty(&finding.scenario.faults) {
        Ok(faults) => println!("{faults}"),
        Err(e) => println!("    (cannot print: {e})"),
    }
    let run_says = if finding.is_demonstration() {
        "passes on it: a demonstration"
    } else {
        "fails on it"
    };
    println!("written to {} (`ktrial run` {run_says})", out.display());
    if let Ok(report) = &finding.outcome {
        println!("timeline:");
        print!("{}", report.timeline);
    }
}
