//! A Kafka-compatible mock cluster for tests: brokers with a replication model (leaders, ISR,
//! high watermark, idempotent producers, consumer groups), faults as data, and a journal of
//! everything that happened.
//!
//! A test needs only the crate root:
//!
//! - [`MockCluster`] (built with [`MockClusterBuilder`]): start brokers on 127.0.0.1, point a
//!   client at [`MockCluster::bootstrap_servers`], then read back [`StoredRecord`]s, leaders and
//!   ISRs; errors are [`BrokerError`]s.
//! - [`FaultRule`]: what happens to matching requests, in one line
//!   (`FaultRule::on(ApiKey::Produce).nth(3).lose_response()`); its parts are [`Match`],
//!   [`Action`], [`Limit`] and [`ErrorCode`]. [`ClusterEvent`]s (elections, brokers down and up,
//!   stalls, latency), now or as [`ScheduledEvent`]s; [`FaultFile`] reads both from TOML.
//! - [`JournalEntry`]: what happened, as a [`Happening`]; cluster changes are [`NoticeKind`]s,
//!   an unclean election's lost records a [`Truncation`].
//! - [`Clock`], [`Listener`] and [`Bind`]: the cluster on simulated time and networks.
//! - [`InterceptedRequest`]: the escape hatch, [`MockClusterBuilder::intercept`].
//!
//! ```
//! use ktrial_mockbroker::{ApiKey, FaultRule, Happening, MockCluster, NoticeKind};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ktrial_mockbroker::BrokerError> {
//! let cluster = MockCluster::builder()
//!     .brokers(3)
//!     .topic("orders", 3, 3)
//!     // A client's second Produce lands, but its answer never comes.
//!     .fault(FaultRule::on(ApiKey::Produce).nth(2).lose_response().once())
//!     .start()
//!     .await?;
//! // Point any Kafka client at `cluster.bootstrap_servers()`.
//! assert_eq!(cluster.leader("orders", 0), Some(1));
//! cluster.broker_down(1)?;
//! assert_eq!(cluster.leader("orders", 0), Some(2));
//! assert!(cluster.journal().iter().any(|e| matches!(
//!     &e.what,
//!     Happening::Cluster { notice: NoticeKind::Election { partition: 0, leader: 2, .. } }
//! )));
//! cluster.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Below the cluster, as plain data driven with an explicit `now`: [`model`] (replication,
//! produce, fetch), [`groups`] (the classic group protocol), [`faults`] (the fault plan and
//! its TOML files); [`control`] serves the HTTP control API of `ktrial broker`.

pub mod clock;
pub mod control;
mod error;
pub mod faults;
pub mod groups;
mod handlers;
mod intercept;
mod journal;
mod mock_cluster;
pub mod model;
mod server;
mod shared;
// The body of `ktrial broker` (the harness's binary), not an API of its own.
#[doc(hidden)]
pub mod standalone;

pub use clock::Clock;
pub use error::BrokerError;
pub use faults::{
    Action, ActiveRule, ClusterEvent, ErrorCode, FaultFile, FaultFileError, FaultRule, InvalidRule,
    Limit, Match, RuleId, ScheduledEvent,
};
pub use groups::{CommittedOffset, GroupDescription};
pub use intercept::InterceptedRequest;
pub use journal::{Happening, JournalEntry};
pub use ktrial_protocol::ResponseError;
pub use ktrial_protocol::messages::ApiKey;
pub use mock_cluster::{MockCluster, MockClusterBuilder};
pub use model::{
    BatchInfo, BrokerId, ClusterConfig, EventError, NoticeKind, StoredRecord, TimestampType,
    TopicConfig, Truncation,
};
pub use server::{Bind, Listener};
pub use shared::SharedCluster;
// The harness serves each simulated broker on its own turmoil host, with
// `MockClusterBuilder::build_shared`.
#[doc(hidden)]
pub use server::run_broker;
