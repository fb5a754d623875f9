//! Scenarios: the serde model shared by TOML files and the Rust builder ([`Scenario::builder`]),
//! and the loader that checks a file before anything runs.

mod builder;
mod load;
mod model;

pub use builder::ScenarioBuilder;
pub use load::{LoadError, load_file, parse};
pub use model::{
    ClientExpectations, ClusterSpec, Expect, Expectations, Faults, NetworkFault, PROPERTIES,
    PropertyValue, Scenario, ScenarioEvent, SendMode, TopicSpec, Workload,
};
