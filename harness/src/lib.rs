//! Deterministic Kafka scenarios: the ktrial producer against the mock cluster on a simulated
//! network and clock, with a workload, a fault schedule and expectations; the same scenario and
//! seed give the same run, byte for byte.
//!
//! A test needs only the crate root:
//!
//! - [`Scenario`]: built in Rust with [`Scenario::builder`] ([`ScenarioBuilder`]), or read from
//!   a TOML file with [`load_file`] ([`LoadError`] says what is wrong, with line and field).
//!   Faults are the mock cluster's [`FaultRule`]s and [`ClusterEvent`]s, plus [`NetworkFault`]s.
//! - [`run`] (or [`run_with`] and [`RunOptions`]): one run with a seed, giving a [`RunReport`]
//!   or a [`RunError`].
//! - The verdict: [`RunReport::passed`], and per property a [`PropertyVerdict`] of an
//!   [`Expect`]ation against the [`Findings`].
//! - [`explore`](explore()): random fault schedules around a scenario ([`ExploreConfig`]),
//!   the first violation shrunk to a minimal [`Finding`].
//!
//! ```
//! use ktrial_harness::{ApiKey, Expect, FaultRule, Scenario, SendMode, run};
//!
//! // Without idempotence, retrying a request whose answer was lost writes its batch twice.
//! let scenario = Scenario::builder("lost-response")
//!     .topic("payments", 1, 1)
//!     .producer("enable.idempotence", "false")
//!     .producer("request.timeout.ms", "500")
//!     .workload("payments", 100)
//!     .mode(SendMode::Sync)
//!     .fault(FaultRule::on(ApiKey::Produce).nth(5).lose_response_and_close().once())
//!     .expect_no_loss(Expect::Holds)
//!     .expect_no_duplicates(Expect::Violated)
//!     .build()?;
//! let report = run(&scenario, 3)?;
//! assert!(report.passed(), "{:?}", report.verdicts);
//! assert_eq!(report.findings.acked, 100);
//! assert!(!report.findings.duplicated.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The parts: [`scenario`] (the model and its loader), [`sim`] (the runner on turmoil),
//! [`check`] (checkers over what the producer was told and what the cluster kept),
//! [`timeline`] (text and HTML timelines of a run), [`explore`](mod@explore) (schedules and
//! shrinking).

pub mod check;
mod cluster;
pub mod explore;
pub mod live;
mod progress;
pub mod scenario;
pub mod sim;
pub mod timeline;
pub mod wire;

pub use check::{Findings, PropertyVerdict};
pub use explore::{Exploration, ExploreConfig, ExploreError, Finding, explore};
pub use ktrial_mockbroker::{ApiKey, ClusterEvent, FaultRule, ResponseError};
pub use scenario::{
    Expect, Expectations, LoadError, NetworkFault, Scenario, ScenarioBuilder, SendMode, load_file,
};
pub use sim::{RunError, RunOptions, RunReport, run, run_with};
