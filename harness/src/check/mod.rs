//! Checkers: what the producer was told, set against what the cluster kept. Pure functions over
//! an [`Observation`]; the runner fills it from delivery results and the final logs.

mod batches;
mod delivery;
mod verdict;

pub use batches::{BatchBounds, LINGER_SLACK_MS, check_batches};
pub use delivery::{Findings, Observation, Outcome, Reordering, Sent, Stored, check_deliveries};
pub use verdict::{PropertyVerdict, judge};
