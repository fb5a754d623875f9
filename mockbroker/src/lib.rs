//! A Kafka-compatible mock cluster: the cluster model, its request handlers and the servers that
//! expose it over TCP or a simulated network.
//!
//! - [`model`]: the cluster as plain data (replication, ISR, high watermark, idempotence).
//! - [`groups`]: consumer groups and committed offsets (Kafka's classic group protocol) as data.
//! - [`faults`]: the fault plan (rules and cluster events) as data.
//! - [`journal`]: every request, response, fault and cluster change, with cluster time.
//! - [`control`]: the HTTP control API; [`clock`]: the one clock of the cluster; [`intercept`]: the escape hatch.
//! - [`handlers`]: one file per API, behind one dispatch stage.
//! - [`server`]: accept loops and connections over any [`Listener`].
//! - [`MockCluster`]: the in-process cluster for tests; [`standalone`]: `ktrial broker`.

pub mod clock;
pub mod control;
mod error;
pub mod faults;
pub mod groups;
pub mod handlers;
pub mod intercept;
pub mod journal;
mod mock_cluster;
pub mod model;
pub mod server;
pub mod shared;
pub mod standalone;

pub use clock::Clock;
pub use error::BrokerError;
pub use mock_cluster::{MockCluster, MockClusterBuilder};
pub use server::Listener;
pub use shared::SharedCluster;
