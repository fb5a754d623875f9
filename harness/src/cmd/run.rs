//! `ktrial run PATH...`: finds scenario files, checks them, runs each in simulated time and prints
//! a table (or one JSON object per scenario); exits non-zero when any expectation fails.
//! `--client NAME` runs them against a real client's driver instead, in real time
//! (`--repeat N` times each; see [`live`](super::live)).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use ktrial_harness::scenario::load_file;
use ktrial_harness::sim::{RunReport, run};

/// Arguments of `ktrial run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files, or folders searched for `*.toml` scenario files.
    #[arg(required = true)]
    pub(super) paths: Vec<PathBuf>,
    /// Run with this seed instead of each scenario's own.
    #[arg(long)]
    pub(super) seed: Option<u64>,
    /// Print one JSON object per scenario instead of the table.
    #[arg(long)]
    pub(super) json: bool,
    /// Run against a real client instead of ktrial's producer in simulation: java, librdkafka,
    /// sarama, franz-go, kafka-python, kafkajs, ktrial (its producer over TCP), a comma-separated
    /// list, `all`, or a driver's command line (docs/drivers.md).
    #[arg(long)]
    pub(super) client: Option<String>,
    /// With --client: runs of each scenario (real time is not deterministic).
    #[arg(long, default_value_t = 1, requires = "client", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(super) repeat: u32,
    /// With --client: keep the timeline, journal and report of every failing run under DIR.
    #[arg(long, value_name = "DIR", requires = "client")]
    pub(super) keep: Option<PathBuf>,
    /// With --client: the drivers folder (`drivers/bin/<client>`); $KTRIAL_DRIVERS, else
    /// ./drivers, else the repository's next to this program.
    #[arg(long, value_name = "DIR", requires = "client")]
    pub(super) drivers: Option<PathBuf>,
}

/// Runs `ktrial run`.
pub fn main(args: Args) -> ExitCode {
    let mut found = Vec::new();
    for path in &args.paths {
        if let Err(e) = collect_scenarios(path, &mut found) {
            eprintln!("ktrial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if found.is_empty() {
        println!("no scenarios found under {}", display_paths(&args.paths));
        return ExitCode::SUCCESS;
    }
    // Every file is checked before anything runs.
    let mut scenarios = Vec::new();
    for file in &found {
        match load_file(file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(e) => {
                eprintln!("ktrial: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(client) = &args.client {
        return super::live::main(&args, client, &scenarios);
    }
    if !args.json {
        println!("{}", header());
    }
    let mut failed = 0;
    for scenario in &scenarios {
        let seed = args.seed.unwrap_or(scenario.seed);
        let started = Instant::now();
        let result = run(scenario, seed);
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(report) => {
                if !report.passed() {
                    failed += 1;
                }
                if args.json {
                    println!("{}", json_line(&report, wall_ms));
                } else {
                    println!("{}", row(&report, wall_ms));
                    for verdict in report.verdicts.iter().filter(|v| !v.passed()) {
                        println!(
                            "    {} expected {:?}: {}",
                            verdict.property, verdict.expected, verdict.detail
                        );
                    }
                    for problem in &report.problems {
                        println!("    problem: {problem}");
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("ktrial: {}: {e}", scenario.name);
            }
        }
    }
    if !args.json {
        println!(
            "scenarios: {} passed, {failed} failed",
            scenarios.len() - failed
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn header() -> String {
    format!(
        "{:<46} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>7} {:>7} {:>9}",
        "scenario",
        "seed",
        "sent",
        "acked",
        "failed",
        "lost",
        "dup",
        "reord",
        "batches",
        "verdict",
        "wall ms"
    )
}

fn row(report: &RunReport, wall_ms: f64) -> String {
    let f = &report.findings;
    format!(
        "{:<46} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>7} {:>7} {:>9.1}",
        report.scenario,
        report.seed,
        f.sent,
        f.acked,
        f.failed,
        f.lost.len(),
        f.duplicated.len(),
        f.reordered.len(),
        report.batches,
        if report.passed() { "pass" } else { "FAIL" },
        wall_ms
    )
}

fn json_line(report: &RunReport, wall_ms: f64) -> String {
    let f = &report.findings;
    serde_json::json!({
        "scenario": report.scenario,
        "seed": report.seed,
        "sent": f.sent,
        "acked": f.acked,
        "failed": f.failed,
        "lost": f.lost.len(),
        "duplicated": f.duplicated.len(),
        "reordered": f.reordered.len(),
        "reordered_per_key": f.reordered_per_key.len(),
        "batches": report.batches,
        "requests": report.requests,
        "simulated_ms": report.simulated_ms,
        "wall_ms": wall_ms,
        "journal_hash": report.journal_hash,
        "passed": report.passed(),
        "verdicts": report.verdicts,
        "problems": report.problems,
    })
    .to_string()
}

fn collect_scenarios(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort();
        for entry in entries {
            collect_scenarios(&entry, out)?;
        }
    } else if path.extension().is_some_and(|ext| ext == "toml") {
        out.push(path.to_path_buf());
    } else if !path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or folder",
        ));
    }
    Ok(())
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
