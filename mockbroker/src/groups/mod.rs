//! Consumer groups and committed offsets: Kafka's classic group protocol as plain data, driven
//! by requests and an explicit `now` on the cluster's tokio clock, like the rest of the model.
//!
//! - [`coordinator`]: every group, the answers waiting to be collected, timers, admin views.
//! - [`group`]: one group's state, generation, members and offsets.
//! - [`join`], [`sync`], [`membership`]: JoinGroup, SyncGroup, Heartbeat and LeaveGroup.
//! - [`rebalance`]: preparing and completing rebalances, and the timers behind them.
//! - [`offsets`]: OffsetCommit and OffsetFetch.
//! - [`replies`]: tickets for answers that wait on the group.
//! - [`report`]: the groups as JSON for the control API.
//! - [`placement`]: which broker coordinates which group.
//!
//! The state machine is Kafka's: Empty → PreparingRebalance → CompletingRebalance → Stable,
//! back to PreparingRebalance when members join, leave, miss `session.timeout.ms` or fail to
//! sync within `rebalance.timeout.ms`, and Dead when deleted. Timers are deadlines that a
//! driver fires: [`GroupCoordinator::next_deadline`] and [`GroupCoordinator::on_time`], called
//! by [`Cluster::tick`](crate::model::Cluster::tick), so that under the harness they are virtual.
//!
//! ```
//! use bytes::Bytes;
//! use ktrial_mockbroker::groups::{GroupConfig, GroupCoordinator, JoinRequest, Pending, Protocol, SyncRequest};
//! use tokio::time::{Duration, Instant};
//!
//! let config = GroupConfig { initial_rebalance_delay: Duration::ZERO, ..GroupConfig::default() };
//! let mut groups = GroupCoordinator::new(config);
//! let t0 = Instant::now();
//! let join = JoinRequest {
//!     group_id: "app".into(),
//!     member_id: String::new(),
//!     group_instance_id: None,
//!     client_id: "consumer-1".into(),
//!     client_host: "/127.0.0.1".into(),
//!     session_timeout_ms: 10_000,
//!     rebalance_timeout_ms: 30_000,
//!     protocol_type: "consumer".into(),
//!     protocols: vec![Protocol { name: "range".into(), metadata: Bytes::from_static(b"sub") }],
//!     require_known_member_id: false,
//!     supports_skip_assignment: false,
//! };
//! let Pending::Wait(ticket) = groups.join(&join, t0) else { panic!("a join waits for the rebalance") };
//! groups.on_time(t0); // the initial delay (0 here) ends
//! let joined = groups.take_join(ticket).expect("the rebalance completed");
//! assert_eq!((joined.generation_id, joined.leader.clone()), (1, joined.member_id.clone()));
//! let sync = SyncRequest {
//!     group_id: "app".into(),
//!     generation_id: 1,
//!     member_id: joined.member_id.clone(),
//!     group_instance_id: None,
//!     protocol_type: None,
//!     protocol_name: None,
//!     assignments: vec![(joined.member_id.clone(), Bytes::from_static(b"p0"))],
//! };
//! let Pending::Ready(synced) = groups.sync(&sync, t0) else { panic!("the leader's sync answers at once") };
//! assert_eq!(synced.assignment, Bytes::from_static(b"p0"));
//! assert_eq!(groups.group("app").map(|g| g.state().as_str()), Some("Stable"));
//! ```

pub mod config;
pub mod coordinator;
pub mod group;
pub mod join;
pub mod membership;
pub mod messages;
pub mod offsets;
pub mod placement;
pub mod rebalance;
pub mod replies;
pub mod report;
pub mod sync;

pub use config::GroupConfig;
pub use coordinator::GroupCoordinator;
pub use group::{Group, GroupState};
pub use messages::{
    CommitPartition, CommittedOffset, GroupDescription, JoinRequest, JoinResult, JoinedMember,
    MemberDescription, MemberRef, Protocol, SyncRequest, SyncResult,
};
pub use offsets::{CommitRequest, FetchedTopic};
pub use placement::coordinator_for;
pub use replies::{Pending, Ticket};
