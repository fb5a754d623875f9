//! `ktrial replay FILE`: reruns one scenario exactly (same seed, same journal) and prints its
//! timeline; `--html OUT` also writes the sequence diagram. Given a run kept by
//! `ktrial run --client … --keep DIR` (a folder; real time cannot be rerun), it shows that run.

use std::path::PathBuf;
use std::process::ExitCode;

use ktrial_harness::scenario::load_file;
use ktrial_harness::sim::run;
use ktrial_harness::timeline;

/// Arguments of `ktrial replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file, or a folder kept by `ktrial run --client … --keep DIR`.
    file: PathBuf,
    /// Run with this seed instead of the scenario's own.
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the timeline as a self-contained HTML file here.
    #[arg(long)]
    html: Option<PathBuf>,
}

/// Runs `ktrial replay`.
pub fn main(args: Args) -> ExitCode {
    if args.file.is_dir() {
        return show_kept(&args);
    }
    let scenario = match load_file(&args.file) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("ktrial: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&scenario, args.seed.unwrap_or(scenario.seed)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ktrial: {}: {e}", scenario.name);
            return ExitCode::FAILURE;
        }
    };
    print!("{}", timeline::text(&report));
    if let Some(path) = &args.html {
        let page = timeline::html(&report, scenario.cluster.brokers);
        if let Err(e) = std::fs::write(path, page) {
            eprintln!("ktrial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("timeline written to {}", path.display());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Shows a kept real-time run: its text timeline, and its HTML one copied to `--html`.
fn show_kept(args: &Args) -> ExitCode {
    let read = |name: &str| std::fs::read_to_string(args.file.join(name));
    match read("timeline.txt") {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!(
                "ktrial: {}: not a kept run (timeline.txt: {e})",
                args.file.display()
            );
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.html {
        if let Err(e) = read("timeline.html").and_then(|page| std::fs::write(path, page)) {
            eprintln!("ktrial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("timeline written to {}", path.display());
    }
    ExitCode::SUCCESS
}
