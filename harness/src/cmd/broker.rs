//! `ktrial broker`: a standalone mock Kafka cluster for offline development and for CI suites in
//! any language. Prints `bootstrap=H:P1,...` once every broker listens; SIGINT/SIGTERM stop it.

use std::process::ExitCode;
use std::str::FromStr;

use ktrial_mockbroker::faults::FaultFile;
use ktrial_mockbroker::{BrokerError, MockCluster};

/// Arguments of `ktrial broker`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of brokers (ids 1..=N).
    #[arg(long, default_value_t = 1)]
    brokers: i32,
    /// Host to listen on and advertise.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of broker 1; broker k listens on PORT+k-1. 0 picks ephemeral ports.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A topic to create, with its partition count and, optionally, its replication (default 1).
    #[arg(long = "topic", value_name = "NAME:PARTITIONS[:REPLICATION]")]
    topics: Vec<TopicArg>,
    /// Refuse unknown topics (UNKNOWN_TOPIC_OR_PARTITION) instead of creating them.
    #[arg(long)]
    no_auto_create: bool,
    /// Partitions of auto-created topics.
    #[arg(long, default_value_t = 1)]
    default_partitions: i32,
    /// `min.insync.replicas` of the cluster.
    #[arg(long, default_value_t = 1)]
    min_insync_replicas: usize,
    /// `group.initial.rebalance.delay.ms`: how long a new group's first rebalance waits for
    /// more members (Kafka's default 3000; 0 makes single-consumer tests start at once).
    #[arg(long, default_value_t = 3000)]
    group_initial_rebalance_delay_ms: u64,
    /// A fault plan: TOML with `[[rules]]` and `[[events]]` (docs/faults.md).
    #[arg(long, value_name = "FILE")]
    faults: Option<std::path::PathBuf>,
    /// Serve the HTTP control API on HOST:PORT (port 0 picks one; printed as `control=H:P`).
    #[arg(long, value_name = "HOST:PORT")]
    control: Option<String>,
    /// Seed of the cluster's RNG (fault probabilities).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// `NAME:PARTITIONS[:REPLICATION]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TopicArg {
    name: String,
    partitions: i32,
    replication: i16,
}

impl FromStr for TopicArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':');
        let name = parts.next().filter(|n| !n.is_empty());
        let partitions = parts.next().map(str::parse::<i32>);
        let replication = parts.next().map(str::parse::<i16>).unwrap_or(Ok(1));
        match (name, partitions, replication, parts.next()) {
            (Some(name), Some(Ok(partitions)), Ok(replication), None) => Ok(TopicArg {
                name: name.to_string(),
                partitions,
                replication,
            }),
            _ => Err(format!("{s:?} is not NAME:PARTITIONS[:REPLICATION]")),
        }
    }
}

/// Runs `ktrial broker`.
pub fn main(args: Args) -> ExitCode {
    let mut builder = MockCluster::builder()
        .brokers(args.brokers)
        .bind_host(&args.host)
        .port(args.port)
        .auto_create_topics(!args.no_auto_create)
        .default_partitions(args.default_partitions)
        .min_insync_replicas(args.min_insync_replicas)
        .initial_rebalance_delay(std::time::Duration::from_millis(
            args.group_initial_rebalance_delay_ms,
        ))
        .seed(args.seed);
    for topic in &args.topics {
        builder = builder.topic(&topic.name, topic.partitions, topic.replication);
    }
    let plan = match args.faults.as_deref().map(read_fault_file).transpose() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("ktrial broker: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(plan) = &plan {
        for rule in plan.rules() {
            builder = builder.fault(rule.clone());
        }
        for event in plan.events() {
            builder = builder.event(event.clone());
        }
    }
    let result = ktrial_mockbroker::standalone::run_with_control(
        builder,
        args.control.as_deref(),
        &mut std::io::stdout().lock(),
    );
    match (result, &plan, &args.faults) {
        (Ok(()), _, _) => ExitCode::SUCCESS,
        (Err(BrokerError::Faults(e)), Some(plan), Some(path)) => {
            eprintln!("ktrial broker: {}: {}", path.display(), plan.locate(&e));
            ExitCode::from(2)
        }
        (Err(e), _, _) => {
            eprintln!("ktrial broker: {e}");
            ExitCode::from(2)
        }
    }
}

fn read_fault_file(path: &std::path::Path) -> Result<FaultFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    FaultFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arguments() {
        assert_eq!(
            "orders:6:3".parse(),
            Ok(TopicArg {
                name: "orders".into(),
                partitions: 6,
                replication: 3
            })
        );
        assert_eq!("t:2".parse::<TopicArg>().map(|t| t.replication), Ok(1));
        for bad in ["", ":3", "t", "t:x", "t:1:2:3", "t:1:y"] {
            assert!(bad.parse::<TopicArg>().is_err(), "{bad}");
        }
    }
}
