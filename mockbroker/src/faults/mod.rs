//! Faults as data (docs/architecture.md): rules `when <match> do <action>` that intercept
//! requests, and cluster events (elections, brokers down and up, replication stalls, latency).
//! One serde schema serves the Rust API, TOML files and the HTTP control API.

mod build;
mod error_code;
mod event;
mod facts;
mod file;
mod plan;
pub(crate) mod responses;
mod rule;

pub use error_code::{ErrorCode, UnknownErrorCode};
pub use event::{ClusterEvent, ScheduledEvent};
pub(crate) use facts::named_partitions;
pub use file::{FaultFile, FaultFileError};
pub use plan::{ActiveRule, FaultPlan, Firing, RequestFacts, RuleId};
pub use rule::{Action, ApiName, FaultRule, InvalidRule, Limit, Match, Topology};
