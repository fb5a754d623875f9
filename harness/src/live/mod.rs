//! Scenarios against real clients: the same scenario file, cluster model, fault plan and
//! checkers as the simulation, with a client's driver (`docs/drivers.md`) producing on loopback
//! TCP in real time instead of ktrial's producer in simulated time.
//!
//! - [`Driver`]: a client's driver, by name ([`CLIENTS`]) or command line.
//! - [`run_live`]: one run, giving a [`LiveRun`] (a [`RunReport`](crate::RunReport) and what
//!   the driver said).
//! - [`Repeated`]: `--repeat N` runs, and per property how many violated it.

mod driver;
mod repeat;
mod runner;
mod tap;

/// The workload's record layout, which every driver follows: value = the id as 8 big-endian
/// bytes, then `.`; key = `key-<id mod keys>`.
pub use crate::progress::{ID_BYTES, key_of};
pub use driver::{CLIENTS, Driver, DriverError, DriverInput, Report, parse_line};
pub use repeat::{PropertyRate, Repeated};
pub use runner::{LiveRun, case_runner, judged_for, run_live};
