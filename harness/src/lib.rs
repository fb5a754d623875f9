//! Deterministic Kafka scenarios: a simulated network and clock, workloads, fault schedules,
//! checkers, scenario files, exploration with shrinking, timelines.
//!
//! - [`scenario`]: the scenario model (TOML files and the Rust builder) and its loader.
//! - [`check`]: checkers over delivery results and final logs.
//! - [`sim`]: the simulation: brokers and the producer on turmoil, and the runner.
//! - [`timeline`]: text and HTML timelines of a run.
//! - [`explore`]: random fault schedules around a scenario, shrunk to a minimal failing one.

pub mod check;
pub mod explore;
pub mod scenario;
pub mod sim;
pub mod timeline;
