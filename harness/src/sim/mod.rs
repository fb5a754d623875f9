//! The simulation: brokers and the producer as turmoil hosts on virtual links and time.

mod net;
mod runner;
mod wire;
mod workload;

pub use net::{SimListener, SimTransport};
pub use runner::{BROKER_PORT, EPOCH_MS, RunError, RunReport, run};
pub use wire::{BatchSent, ProduceSent, RecordingTransport, WireLog};
pub use workload::{ClientReport, ID_BYTES, key_of};
