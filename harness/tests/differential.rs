//! Differential tests: real Apache Kafka is the oracle (issue 8).
//!
//! Every scenario in `differential/scenarios.rs` is sent by a raw client built on `ktrial-protocol`
//! to real Kafka (started by `scripts/real-kafka.sh`, or `KTRIAL_REAL_KAFKA_BOOTSTRAP`). Kafka's
//! answers must decode with the protocol crate and match Kafka's documented behaviour. When a
//! `ktrial broker` is available (`KTRIAL_BROKER_BOOTSTRAP`, or the `broker` subcommand of the
//! `ktrial` binary), the same scenarios run against it and the normalised answers are compared
//! field by field; the table goes to `docs/fidelity.md`.
//!
//! `KTRIAL_NO_REAL_KAFKA=1` skips everything (with a message).
#![allow(clippy::unwrap_used)]

#[path = "differential/client.rs"]
mod client;
#[path = "differential/normalise.rs"]
mod normalise;
#[path = "differential/report.rs"]
mod report;
#[path = "differential/scenarios.rs"]
mod scenarios;
#[path = "differential/session.rs"]
mod session;
#[path = "differential/targets.rs"]
mod targets;

use std::time::{SystemTime, UNIX_EPOCH};

use normalise::RunContext;
use report::ScenarioRun;
use scenarios::SCENARIOS;
use session::Session;
use targets::{KtrialBroker, RealKafka};

/// Runs every scenario against `addr`; with `is_oracle`, collects unmet expectations.
fn run_all(addr: &str, run: &RunContext, is_oracle: bool) -> (Vec<ScenarioRun>, Vec<String>) {
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let mut session = match Session::new(addr, run, is_oracle) {
            Ok(session) => session,
            Err(e) => {
                failures.push(format!("{}: {e}", scenario.name));
                continue;
            }
        };
        if let Err(e) = (scenario.run)(&mut session) {
            session.failures.push(format!("aborted: {e}"));
        }
        failures.extend(
            session
                .failures
                .iter()
                .map(|f| format!("{}: {f}", scenario.name)),
        );
        runs.push(ScenarioRun {
            name: scenario.name,
            steps: session.steps,
        });
    }
    (runs, if is_oracle { failures } else { Vec::new() })
}

#[test]
fn real_kafka_is_the_oracle() {
    if std::env::var("KTRIAL_NO_REAL_KAFKA").as_deref() == Ok("1") {
        println!("differential: SKIPPED, KTRIAL_NO_REAL_KAFKA=1 (no real-Kafka comparison ran)");
        return;
    }
    let kafka = RealKafka::start().expect("real Kafka");
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let run = RunContext {
        // Topic names unique to this run, so a reused cluster (KTRIAL_REAL_KAFKA_BOOTSTRAP) works.
        topic_prefix: format!(
            "kd{}-{}-",
            std::process::id(),
            since_epoch.as_millis() % 1_000_000
        ),
        // Timestamps near now: far older ones would fall to retention, newer ones be refused.
        base_timestamp: since_epoch.as_millis() as i64 / 1000 * 1000,
    };
    let (kafka_runs, failures) = run_all(kafka.first_broker(), &run, true);
    let steps: usize = kafka_runs.iter().map(|r| r.steps.len()).sum();
    println!(
        "differential: {} scenarios, {steps} requests against real Kafka at {}",
        kafka_runs.len(),
        kafka.bootstrap()
    );

    let ktrial = KtrialBroker::locate();
    let ktrial_runs = match &ktrial {
        Ok(broker) => {
            println!(
                "differential: comparing with ktrial broker at {}",
                broker.bootstrap()
            );
            Some(run_all(broker.first_broker(), &run, false).0)
        }
        Err(why) => {
            println!("differential: ktrial broker NOT compared: {why}; real-Kafka half only");
            None
        }
    };
    let table = report::compare(&kafka_runs, ktrial_runs.as_deref());
    println!(
        "differential: {} requests compared, {} differences",
        table.compared, table.differences
    );
    report::write_fidelity_md(&table, ktrial.as_ref().err().map(String::as_str))
        .expect("write docs/fidelity.md");
    assert!(
        failures.is_empty(),
        "real Kafka did not answer as documented (or its answer did not decode):\n{}",
        failures.join("\n")
    );
}
