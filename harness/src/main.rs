//! The `ktrial` command: runs scenario suites, and (as the other parts land) serves a mock cluster
//! and measures producers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kafka mock broker, producer and deterministic test harness.
#[derive(Debug, Parser)]
#[command(name = "ktrial", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files, or every scenario file under the given folders.
    Run {
        /// Scenario files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run { paths } => run(&paths),
    }
}

fn run(paths: &[PathBuf]) -> ExitCode {
    let mut found = Vec::new();
    for path in paths {
        if let Err(e) = collect_scenarios(path, &mut found) {
            eprintln!("ktrial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if found.is_empty() {
        println!("no scenarios found under {}", display_paths(paths));
    } else {
        println!(
            "{} scenario file(s) found; the scenario runner is not built yet",
            found.len()
        );
    }
    ExitCode::SUCCESS
}

fn collect_scenarios(path: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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
