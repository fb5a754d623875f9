//! JoinGroup: a member enters or re-enters a group and waits for the rebalance to finish
//! (Kafka's `handleJoinGroup`, `doNewMemberJoinGroup`, `doCurrentMemberJoinGroup` and
//! `updateStaticMemberAndRebalance`; `GroupMetadataManager.classicGroupJoin` in Kafka 4).

use bytes::Bytes;
use ktrial_protocol::ResponseError;
use tokio::time::{Duration, Instant};

use super::config::GroupConfig;
use super::coordinator::GroupCoordinator;
use super::group::{Group, GroupState, JoinTimer, Member};
use super::messages::{JoinRequest, JoinResult};
use super::replies::{Pending, Replies};

/// What a join asks of the group, with the timeouts checked.
struct Joining<'a> {
    request: &'a JoinRequest,
    session_timeout: Duration,
    rebalance_timeout: Duration,
}

impl GroupCoordinator {
    /// Handles a JoinGroup: an error or an answer now, or a ticket answered when the rebalance
    /// completes (collect it with [`GroupCoordinator::take_join`]).
    pub fn join(&mut self, request: &JoinRequest, now: Instant) -> Pending<JoinResult> {
        match self.try_join(request, now) {
            Ok(pending) => pending,
            Err(error) => Pending::Ready(JoinResult::error(&request.member_id, error)),
        }
    }

    fn try_join(
        &mut self,
        request: &JoinRequest,
        now: Instant,
    ) -> Result<Pending<JoinResult>, ResponseError> {
        if request.group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let millis = |ms: i32| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        let session_timeout = millis(request.session_timeout_ms);
        if request.session_timeout_ms < 0
            || session_timeout < self.config.min_session_timeout
            || session_timeout > self.config.max_session_timeout
        {
            return Err(ResponseError::InvalidSessionTimeout);
        }
        let joining = Joining {
            request,
            session_timeout,
            rebalance_timeout: millis(request.rebalance_timeout_ms),
        };
        let new_member = request.member_id.is_empty();
        if !self.groups.contains_key(&request.group_id) {
            if !new_member {
                return Err(ResponseError::UnknownMemberId);
            }
            // An empty group accepts only a non-empty protocol type and list; check before
            // creating it, so that a rejected join leaves nothing behind.
            if request.protocol_type.is_empty() || request.protocols.is_empty() {
                return Err(ResponseError::InconsistentGroupProtocol);
            }
        }
        let member_id = if new_member {
            self.new_member_id(&request.client_id, request.group_instance_id.as_deref())
        } else {
            request.member_id.clone()
        };
        let order = self.next_join_order();
        let max_size = self.config.max_group_size;
        self.group_or_create(&request.group_id)?;
        let Self {
            config,
            groups,
            replies,
            ..
        } = self;
        let group = groups
            .get_mut(&request.group_id)
            .ok_or(ResponseError::CoordinatorNotAvailable)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        if !group.supports_protocols(&request.protocol_type, &request.protocols) {
            return Err(ResponseError::InconsistentGroupProtocol);
        }
        let known = group.members.contains_key(&member_id)
            || request
                .group_instance_id
                .as_ref()
                .is_some_and(|i| group.static_members.contains_key(i));
        if !known && group.members.len() >= max_size {
            return Err(ResponseError::GroupMaxSizeReached);
        }
        let mut ctx = JoinContext {
            group,
            replies,
            config,
            now,
            order,
        };
        let pending = if new_member {
            ctx.new_member(&member_id, &joining)
        } else {
            ctx.current_member(&member_id, &joining)?
        };
        ctx.group.try_complete_join(ctx.replies, now);
        Ok(pending)
    }
}

/// One join being applied to one group.
struct JoinContext<'a> {
    group: &'a mut Group,
    replies: &'a mut Replies,
    config: &'a GroupConfig,
    now: Instant,
    order: u64,
}

impl JoinContext<'_> {
    /// `doNewMemberJoinGroup`: a static member takes over its instance's place; a dynamic one on
    /// v4+ first gets its id with MEMBER_ID_REQUIRED (KIP-394); otherwise it joins.
    fn new_member(&mut self, member_id: &str, joining: &Joining<'_>) -> Pending<JoinResult> {
        let request = joining.request;
        if let Some(instance) = &request.group_instance_id {
            if let Some(old_id) = self.group.static_members.get(instance).cloned() {
                return self.replace_static_member(&old_id, member_id, joining);
            }
            return self.add_member(member_id, joining);
        }
        if request.require_known_member_id {
            self.group
                .pending_members
                .insert(member_id.to_string(), self.now + joining.session_timeout);
            return Pending::Ready(JoinResult::error(
                member_id,
                ResponseError::MemberIdRequired,
            ));
        }
        self.add_member(member_id, joining)
    }

    /// `doCurrentMemberJoinGroup`.
    fn current_member(
        &mut self,
        member_id: &str,
        joining: &Joining<'_>,
    ) -> Result<Pending<JoinResult>, ResponseError> {
        let request = joining.request;
        if self.group.pending_members.contains_key(member_id) {
            return Ok(self.add_member(member_id, joining));
        }
        self.group
            .validate_member(member_id, request.group_instance_id.as_deref())?;
        let (matches, is_leader) = match self.group.members.get(member_id) {
            Some(m) => (
                m.matches(&request.protocols),
                self.group.is_leader(member_id),
            ),
            None => return Err(ResponseError::UnknownMemberId),
        };
        match self.group.state {
            GroupState::PreparingRebalance => Ok(self.update_member(member_id, joining)),
            // The member lost the JoinGroup answer: give it again.
            GroupState::CompletingRebalance if matches => Ok(Pending::Ready(
                self.current_generation(member_id, is_leader),
            )),
            GroupState::CompletingRebalance => Ok(self.update_member(member_id, joining)),
            // A leader's rejoin forces a rebalance (topic metadata may have changed); a follower
            // with unchanged metadata just learns the current generation.
            GroupState::Stable if is_leader || !matches => {
                Ok(self.update_member(member_id, joining))
            }
            GroupState::Stable => Ok(Pending::Ready(self.current_generation(member_id, false))),
            GroupState::Empty | GroupState::Dead => Err(ResponseError::UnknownMemberId),
        }
    }

    /// The answer for the generation in force, with the member list for the leader.
    fn current_generation(&self, member_id: &str, with_members: bool) -> JoinResult {
        JoinResult {
            error: None,
            generation_id: self.group.generation_id,
            protocol_type: self.group.protocol_type.clone(),
            protocol_name: self.group.protocol_name.clone(),
            leader: self.group.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            skip_assignment: false,
            members: if with_members {
                self.group.member_metadata()
            } else {
                Vec::new()
            },
        }
    }

    /// `addMemberAndRebalance`.
    fn add_member(&mut self, member_id: &str, joining: &Joining<'_>) -> Pending<JoinResult> {
        let request = joining.request;
        let ticket = self.replies.issue();
        if self.group.state == GroupState::PreparingRebalance
            && self.group.generation_id == 0
            && let Some(JoinTimer::Initial {
                new_member_added, ..
            }) = &mut self.group.join_timer
        {
            *new_member_added = true;
        }
        if self.group.members.is_empty() {
            self.group.protocol_type = Some(request.protocol_type.clone());
        }
        self.group.add(Member {
            member_id: member_id.to_string(),
            group_instance_id: request.group_instance_id.clone(),
            client_id: request.client_id.clone(),
            client_host: request.client_host.clone(),
            session_timeout: joining.session_timeout,
            rebalance_timeout: joining.rebalance_timeout,
            protocols: request.protocols.clone(),
            assignment: Bytes::new(),
            awaiting_join: Some(ticket),
            awaiting_sync: None,
            session_deadline: self.now + joining.session_timeout,
            joined: self.order,
        });
        self.group
            .maybe_prepare_rebalance(self.replies, self.config, self.now);
        Pending::Wait(ticket)
    }

    /// `updateMemberAndRebalance`: new protocols and timeouts, and a rebalance. An earlier
    /// JoinGroup of the same member still waiting is told to rejoin.
    fn update_member(&mut self, member_id: &str, joining: &Joining<'_>) -> Pending<JoinResult> {
        let ticket = self.replies.issue();
        if let Some(member) = self.group.members.get_mut(member_id) {
            member.protocols = joining.request.protocols.clone();
            member.session_timeout = joining.session_timeout;
            member.rebalance_timeout = joining.rebalance_timeout;
            if let Some(old) = member.awaiting_join.replace(ticket) {
                self.replies.answer_join(
                    old,
                    JoinResult::error(member_id, ResponseError::RebalanceInProgress),
                );
            }
        }
        self.group
            .maybe_prepare_rebalance(self.replies, self.config, self.now);
        Pending::Wait(ticket)
    }

    /// `updateStaticMemberAndRebalance`: the new member id takes the old one's place, its
    /// assignment and leadership; the old id is fenced. A stable group whose protocol would not
    /// change answers at once, naming the old leader id so that the member does not reassign
    /// (v9+: it is told to skip the assignment instead).
    fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: &str,
        joining: &Joining<'_>,
    ) -> Pending<JoinResult> {
        let request = joining.request;
        let current_leader = self.group.leader.clone().unwrap_or_default();
        let Some(mut member) = self.group.members.remove(old_id) else {
            return self.add_member(new_id, joining);
        };
        if let Some(ticket) = member.awaiting_join.take() {
            self.replies.answer_join(
                ticket,
                JoinResult::error(old_id, ResponseError::FencedInstanceId),
            );
        }
        if let Some(ticket) = member.awaiting_sync.take() {
            self.replies.answer_sync(
                ticket,
                super::SyncResult::error(ResponseError::FencedInstanceId),
            );
        }
        member.member_id = new_id.to_string();
        member.client_id = request.client_id.clone();
        member.client_host = request.client_host.clone();
        member.protocols = request.protocols.clone();
        member.session_timeout = joining.session_timeout;
        member.rebalance_timeout = joining.rebalance_timeout;
        member.session_deadline = self.now + joining.session_timeout;
        if let Some(instance) = &request.group_instance_id {
            self.group
                .static_members
                .insert(instance.clone(), new_id.to_string());
        }
        if self.group.leader.as_deref() == Some(old_id) {
            self.group.leader = Some(new_id.to_string());
        }
        if self.group.pending_sync.remove(old_id) {
            self.group.pending_sync.insert(new_id.to_string());
        }
        self.group.members.insert(new_id.to_string(), member);
        match self.group.state {
            GroupState::Stable if self.group.select_protocol() == self.group.protocol_name => {
                let skip = request.supports_skip_assignment && self.group.is_leader(new_id);
                let mut result = self.current_generation(new_id, skip);
                result.leader = current_leader;
                result.skip_assignment = skip;
                Pending::Ready(result)
            }
            GroupState::PreparingRebalance => self.await_join(new_id),
            _ => {
                let pending = self.await_join(new_id);
                self.group
                    .prepare_rebalance(self.replies, self.config, self.now);
                pending
            }
        }
    }

    /// Marks a member as waiting on the rebalance.
    fn await_join(&mut self, member_id: &str) -> Pending<JoinResult> {
        let ticket = self.replies.issue();
        if let Some(member) = self.group.members.get_mut(member_id) {
            member.awaiting_join = Some(ticket);
        }
        Pending::Wait(ticket)
    }
}
