//! The `ktrial` command: one subcommand per file under `cmd/`.

mod cmd;

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
    Run(cmd::run::Args),
    /// Rerun one scenario exactly and print its timeline (and write it as HTML with --html).
    Replay(cmd::replay::Args),
    /// Generate fault schedules around a scenario, shrink the first violation, write it as a scenario.
    Explore(cmd::explore::Args),
    /// Run a mock Kafka cluster until SIGINT/SIGTERM; prints `bootstrap=...` once it listens.
    Broker(cmd::broker::Args),
    /// Measure the producer, like kafka-producer-perf-test (`ktrial perf produce --help`).
    Perf(cmd::perf::Args),
    /// ktrial's producer as a client driver: a workload as JSON on stdin, a JSON line per
    /// delivery report on stdout (docs/drivers.md); what `ktrial run --client ktrial` runs.
    Driver(cmd::driver::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run(args) => cmd::run::main(args),
        Command::Replay(args) => cmd::replay::main(args),
        Command::Explore(args) => cmd::explore::main(args),
        Command::Broker(args) => cmd::broker::main(args),
        Command::Perf(args) => cmd::perf::main(args),
        Command::Driver(args) => cmd::driver::main(args),
    }
}
