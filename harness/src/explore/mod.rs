//! Exploration: proptest draws fault schedules around a scenario (Produce fault rules, cluster
//! events, broker outages, network partitions and holds), runs each in simulated time, shrinks the
//! first that breaks a property to a minimal schedule, and writes it as a scenario file that
//! `ktrial run` reproduces exactly.

mod reproduce;
mod schedule;
mod search;
mod space;

pub use reproduce::reproduction_file;
pub use schedule::{Fault, Schedule};
pub use search::{
    CaseRunner, Exploration, ExploreConfig, ExploreError, Finding, explore, explore_with,
    explored_expectations,
};
pub use space::FaultSpace;
