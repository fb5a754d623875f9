//! librdkafka's own mock cluster (`rdkafka::mocking::MockCluster`) as a process: one of the brokers
//! of the compatibility matrix. Prints `bootstrap=H:P,...` on stdout, then serves until killed.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use rdkafka::mocking::MockCluster;

/// Start librdkafka's mock cluster and serve until killed.
#[derive(Debug, Parser)]
struct Args {
    /// Number of brokers in the cluster.
    #[arg(long, default_value_t = 3)]
    brokers: i32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cluster = match MockCluster::new(args.brokers) {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("rdkafka-mock-cluster: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("bootstrap={}", cluster.bootstrap_servers());
    if std::io::stdout().flush().is_err() {
        return ExitCode::FAILURE;
    }
    // The cluster runs on librdkafka's own threads; this thread only keeps it alive until a signal
    // ends the process.
    loop {
        std::thread::park();
    }
}
