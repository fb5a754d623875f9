//! The simulation: brokers and the producer as turmoil hosts on virtual links and time.

mod net;

pub use net::{SimListener, SimTransport};
