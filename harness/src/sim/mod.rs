//! The simulation: brokers and the producer as turmoil hosts on virtual links and time.

mod deadlines;
mod jump;
mod net;
mod runner;
mod wire;
mod workload;

pub use deadlines::{Deadlines, RegisteredSleep, SimTimeFn};
pub use net::{SimListener, SimTransport};
pub use runner::{BROKER_PORT, EPOCH_MS, RunError, RunOptions, RunReport, run, run_with};
pub use wire::{BatchSent, ProduceSent, RecordingTransport, RequestSent, ResponseSeen, WireLog};
pub use workload::{ClientReport, ID_BYTES, key_of};
