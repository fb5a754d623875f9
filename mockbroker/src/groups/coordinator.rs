//! The group coordinator: every group of the cluster, the answers waiting to be collected, and
//! the timers. One coordinator serves the whole model; which broker answers for a group is
//! [`coordinator_for`](super::placement::coordinator_for)'s choice, checked by the handlers.

use std::collections::BTreeMap;

use ktrial_protocol::ResponseError;
use tokio::time::Instant;
use uuid::Uuid;

use super::config::GroupConfig;
use super::group::{Group, GroupState};
use super::messages::{GroupDescription, JoinResult, SyncResult};
use super::replies::{Replies, Ticket};

/// The first half of the deterministic UUIDs in member ids ("ktrial-m").
const MEMBER_ID_NAMESPACE: u64 = 0x6b74_7269_616c_2d6d;
/// Timers due at one instant fire in at most this many rounds (each round consumes a deadline).
const MAX_TIMER_ROUNDS: usize = 10_000;

/// Every group, as plain data driven by requests and an explicit `now`.
#[derive(Debug, Clone, Default)]
pub struct GroupCoordinator {
    pub(crate) config: GroupConfig,
    pub(crate) groups: BTreeMap<String, Group>,
    pub(crate) replies: Replies,
    member_ids_issued: u64,
    joins: u64,
}

impl GroupCoordinator {
    /// A coordinator without groups.
    pub fn new(config: GroupConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Its settings.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// One group.
    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    /// Every group, by id.
    pub fn groups(&self) -> &BTreeMap<String, Group> {
        &self.groups
    }

    /// A member id the way Kafka makes one: the client id (or the static instance id), a dash
    /// and a UUID; here the UUID counts up, so that a run is reproducible.
    pub(crate) fn new_member_id(&mut self, client_id: &str, instance: Option<&str>) -> String {
        self.member_ids_issued += 1;
        let uuid = Uuid::from_u64_pair(MEMBER_ID_NAMESPACE, self.member_ids_issued);
        format!("{}-{uuid}", instance.unwrap_or(client_id))
    }

    /// The next join order number.
    pub(crate) fn next_join_order(&mut self) -> u64 {
        self.joins += 1;
        self.joins
    }

    /// The JoinGroup answer filed under `ticket`, once the rebalance has given it.
    pub fn take_join(&mut self, ticket: Ticket) -> Option<JoinResult> {
        self.replies.take_join(ticket)
    }

    /// The SyncGroup answer filed under `ticket`, once the leader has assigned.
    pub fn take_sync(&mut self, ticket: Ticket) -> Option<SyncResult> {
        self.replies.take_sync(ticket)
    }

    /// Gives up on a ticket whose holder stops waiting: its member no longer counts as waiting,
    /// so its session runs again and a rebalance does not wait for it.
    pub fn cancel(&mut self, ticket: Ticket, now: Instant) {
        self.replies.forget(ticket);
        for group in self.groups.values_mut() {
            for member in group.members.values_mut() {
                if member.awaiting_join == Some(ticket) {
                    member.awaiting_join = None;
                    member.session_deadline = now + member.session_timeout;
                }
                if member.awaiting_sync == Some(ticket) {
                    member.awaiting_sync = None;
                    member.session_deadline = now + member.session_timeout;
                }
            }
        }
    }

    /// Answers filed or awaited and not yet collected (a bound check for tests).
    pub fn outstanding_tickets(&self) -> usize {
        self.replies.outstanding()
    }

    /// When a timer next fires: a session, a rebalance or initial delay, a sync wait.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.groups.values().filter_map(Group::next_deadline).min()
    }

    /// Fires every timer due by `now`, in deadline order, each at its own instant, so that a
    /// jump of virtual time replays what would have happened along the way.
    pub fn on_time(&mut self, now: Instant) {
        for _ in 0..MAX_TIMER_ROUNDS {
            let Some(at) = self.next_deadline().filter(|d| *d <= now) else {
                return;
            };
            let Self {
                config,
                groups,
                replies,
                ..
            } = self;
            for group in groups.values_mut() {
                if group.next_deadline().is_some_and(|d| d <= at) {
                    group.fire_timers(replies, config, at);
                }
            }
        }
        tracing::warn!("group timers still due after {MAX_TIMER_ROUNDS} rounds");
    }

    /// ListGroups: every group with its protocol type and state, filtered by state names
    /// (case-insensitive, as Kafka compares them) when `states` is not empty.
    pub fn list(&self, states: &[String]) -> Vec<GroupDescription> {
        self.groups
            .values()
            .filter(|g| {
                states.is_empty()
                    || states
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(g.state.as_str()))
            })
            .map(|g| self.describe_group(g))
            .collect()
    }

    /// DescribeGroups for one group, `None` when it does not exist.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        self.groups.get(group_id).map(|g| self.describe_group(g))
    }

    fn describe_group(&self, g: &Group) -> GroupDescription {
        GroupDescription {
            group_id: g.id.clone(),
            state: g.state.as_str(),
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol_name: if g.state == GroupState::Stable {
                g.protocol_name.clone().unwrap_or_default()
            } else {
                String::new()
            },
            generation_id: g.generation_id,
            leader: g.leader.clone(),
            members: g.member_descriptions(),
        }
    }

    /// DeleteGroups for one group: only an empty group can go (NON_EMPTY_GROUP otherwise); its
    /// committed offsets go with it.
    pub fn delete(&mut self, group_id: &str) -> Result<(), ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::GroupIdNotFound)?;
        if group.state != GroupState::Empty {
            return Err(ResponseError::NonEmptyGroup);
        }
        group.state = GroupState::Dead;
        self.groups.remove(group_id);
        Ok(())
    }

    /// The group, created empty if there is room (Kafka's `getOrMaybeCreateGroup`).
    pub(crate) fn group_or_create(&mut self, group_id: &str) -> Result<&mut Group, ResponseError> {
        if !self.groups.contains_key(group_id) && self.groups.len() >= self.config.max_groups {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        Ok(self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id)))
    }
}

impl crate::model::Cluster {
    /// The group coordinator.
    pub fn groups(&self) -> &GroupCoordinator {
        &self.groups
    }

    /// The group coordinator, to change.
    pub fn groups_mut(&mut self) -> &mut GroupCoordinator {
        &mut self.groups
    }
}
