//! Rebalances: preparing one, completing the join phase, and the timers that drive them
//! (Kafka's `prepareRebalance`, `DelayedJoin`, `InitialDelayedJoin`, `onCompleteJoin`,
//! `DelayedSync` and the heartbeat expiry of `GroupCoordinator.scala`, now `GroupMetadataManager`).

use ktrial_protocol::ResponseError;
use tokio::time::Instant;

use super::config::GroupConfig;
use super::group::{Group, GroupState, JoinTimer};
use super::messages::{JoinResult, SyncResult};
use super::replies::Replies;

/// The shortest wait before a join phase that found nobody to answer tries again.
const MIN_RETRY: tokio::time::Duration = tokio::time::Duration::from_millis(1);

impl Group {
    /// `maybePrepareRebalance`: only from Empty, Stable or CompletingRebalance.
    pub(crate) fn maybe_prepare_rebalance(
        &mut self,
        replies: &mut Replies,
        config: &GroupConfig,
        now: Instant,
    ) {
        if matches!(
            self.state,
            GroupState::Empty | GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(replies, config, now);
        }
    }

    /// `prepareRebalance`: a group mid-sync drops its assignment and tells the members waiting
    /// on SyncGroup REBALANCE_IN_PROGRESS; an empty group waits the initial delay, any other the
    /// rebalance timeout (completing at once if every member is already in).
    pub(crate) fn prepare_rebalance(
        &mut self,
        replies: &mut Replies,
        config: &GroupConfig,
        now: Instant,
    ) {
        if self.state == GroupState::CompletingRebalance {
            for member in self.members.values_mut() {
                member.assignment = bytes::Bytes::new();
                if let Some(ticket) = member.awaiting_sync.take() {
                    replies.answer_sync(
                        ticket,
                        SyncResult::error(ResponseError::RebalanceInProgress),
                    );
                    member.session_deadline = now + member.session_timeout;
                }
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        self.join_timer = Some(if self.state == GroupState::Empty {
            let delay = config.initial_rebalance_delay;
            JoinTimer::Initial {
                deadline: now + delay,
                remaining: self.rebalance_timeout().saturating_sub(delay),
                new_member_added: false,
            }
        } else {
            JoinTimer::Rebalance {
                deadline: now + self.rebalance_timeout(),
            }
        });
        self.state = GroupState::PreparingRebalance;
        self.try_complete_join(replies, now);
    }

    /// A `DelayedJoin` completes early once every member has rejoined; the initial delayed join
    /// never does (it exists to wait for more members).
    pub(crate) fn try_complete_join(&mut self, replies: &mut Replies, now: Instant) {
        if self.state == GroupState::PreparingRebalance
            && matches!(self.join_timer, Some(JoinTimer::Rebalance { .. }))
            && self.all_members_joined()
        {
            self.complete_join(replies, now);
        }
    }

    /// `onCompleteJoin`: dynamic members that did not rejoin are dropped (static ones keep their
    /// place until their session ends), a rejoined member leads, the generation advances, and
    /// every waiting member gets its answer; the leader gets the member list.
    pub(crate) fn complete_join(&mut self, replies: &mut Replies, now: Instant) {
        let absent: Vec<String> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.group_instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in absent {
            self.remove(&member_id, replies);
        }
        let leader_joined = self
            .leader
            .as_ref()
            .and_then(|id| self.members.get(id))
            .is_some_and(|m| m.awaiting_join.is_some());
        if !leader_joined {
            let joined = self
                .members
                .values()
                .filter(|m| m.awaiting_join.is_some())
                .min_by_key(|m| m.joined)
                .map(|m| m.member_id.clone());
            match joined {
                Some(id) => self.leader = Some(id),
                None if !self.members.is_empty() => {
                    // Only absent static members: wait another round for them or their expiry
                    // (at least a tick, so that a zero timeout cannot fire again at once).
                    self.join_timer = Some(JoinTimer::Rebalance {
                        deadline: now + self.rebalance_timeout().max(MIN_RETRY),
                    });
                    return;
                }
                None => {}
            }
        }
        self.join_timer = None;
        self.generation_id = self.generation_id.wrapping_add(1);
        if self.members.is_empty() {
            self.protocol_name = None;
            self.state = GroupState::Empty;
            return;
        }
        self.protocol_name = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        self.pending_sync = self.members.keys().cloned().collect();
        self.sync_deadline = Some(now + self.rebalance_timeout());
        let leader = self.leader.clone().unwrap_or_default();
        let everyone = self.member_metadata();
        for member in self.members.values_mut() {
            let Some(ticket) = member.awaiting_join.take() else {
                continue;
            };
            member.session_deadline = now + member.session_timeout;
            let is_leader = member.member_id == leader;
            replies.answer_join(
                ticket,
                JoinResult {
                    error: None,
                    generation_id: self.generation_id,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    leader: leader.clone(),
                    member_id: member.member_id.clone(),
                    skip_assignment: false,
                    members: if is_leader {
                        everyone.clone()
                    } else {
                        Vec::new()
                    },
                },
            );
        }
    }

    /// `removeMemberAndUpdateGroup`: a stable or syncing group rebalances, a rebalancing one may
    /// now be complete.
    pub(crate) fn remove_member_and_update(
        &mut self,
        member_id: &str,
        replies: &mut Replies,
        config: &GroupConfig,
        now: Instant,
    ) {
        if self.remove(member_id, replies).is_none() {
            return;
        }
        match self.state {
            GroupState::Dead | GroupState::Empty => {}
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(replies, config, now);
            }
            GroupState::PreparingRebalance => self.try_complete_join(replies, now),
        }
    }

    /// Fires every timer due at `at`: handed-out member ids and sessions that ended, the join
    /// phase, the sync wait.
    pub(crate) fn fire_timers(&mut self, replies: &mut Replies, config: &GroupConfig, at: Instant) {
        let before = self.pending_members.len();
        self.pending_members.retain(|_, deadline| *deadline > at);
        if self.pending_members.len() != before {
            self.try_complete_join(replies, at);
        }
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.is_awaiting() && m.session_deadline <= at)
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in expired {
            tracing::info!(group = %self.id, member = %member_id, "session timed out");
            self.remove_member_and_update(&member_id, replies, config, at);
        }
        match self.join_timer {
            Some(JoinTimer::Initial {
                deadline,
                remaining,
                new_member_added,
            }) if deadline <= at => {
                if new_member_added && !remaining.is_zero() {
                    let delay = config.initial_rebalance_delay.min(remaining);
                    self.join_timer = Some(JoinTimer::Initial {
                        deadline: at + delay,
                        remaining: remaining - delay,
                        new_member_added: false,
                    });
                } else {
                    self.complete_join(replies, at);
                }
            }
            Some(JoinTimer::Rebalance { deadline }) if deadline <= at => {
                self.complete_join(replies, at);
            }
            _ => {}
        }
        if self.sync_deadline.is_some_and(|deadline| deadline <= at) {
            self.sync_deadline = None;
            if matches!(
                self.state,
                GroupState::CompletingRebalance | GroupState::Stable
            ) && !self.pending_sync.is_empty()
            {
                let missing: Vec<String> = self.pending_sync.iter().cloned().collect();
                for member_id in missing {
                    tracing::info!(group = %self.id, member = %member_id, "no SyncGroup within the rebalance timeout");
                    self.remove(&member_id, replies);
                }
                self.prepare_rebalance(replies, config, at);
            }
        }
    }
}
