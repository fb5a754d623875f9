//! The simulation: brokers and the producer as turmoil hosts on virtual links and time.

mod deadlines;
mod jump;
mod net;
mod runner;
mod wire;
mod workload;

use net::{SimListener, SimTransport};
pub(crate) use runner::RunRecord;
pub use runner::{EPOCH_MS, RunError, RunOptions, RunReport, run, run_with};
