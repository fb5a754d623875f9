//! Heartbeat and LeaveGroup: a member keeps its session alive or leaves (Kafka's `doHeartbeat`
//! and `handleLeaveGroup`, `classicGroupHeartbeat` and `classicGroupLeave` in Kafka 4).

use ktrial_protocol::ResponseError;
use tokio::time::Instant;

use super::coordinator::GroupCoordinator;
use super::group::GroupState;
use super::messages::MemberRef;

impl GroupCoordinator {
    /// Handles a Heartbeat. During a rebalance it answers REBALANCE_IN_PROGRESS, which tells the
    /// member to rejoin; the session is renewed either way.
    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member: &MemberRef,
        now: Instant,
    ) -> Result<(), ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        group.validate_member(&member.member_id, member.group_instance_id.as_deref())?;
        if generation_id != group.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        let renewed = match group.state {
            GroupState::Empty | GroupState::Dead => return Err(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => Err(ResponseError::RebalanceInProgress),
            GroupState::CompletingRebalance | GroupState::Stable => Ok(()),
        };
        if let Some(m) = group.members.get_mut(&member.member_id) {
            m.session_deadline = now + m.session_timeout;
        }
        renewed
    }

    /// Handles a LeaveGroup for each member given (one before v3, a batch from v3); the outer
    /// error is the group's, the inner ones each member's.
    pub fn leave(
        &mut self,
        group_id: &str,
        members: &[MemberRef],
        now: Instant,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let Self {
            config,
            groups,
            replies,
            ..
        } = self;
        let Some(group) = groups.get_mut(group_id) else {
            return Ok(vec![Err(ResponseError::UnknownMemberId); members.len()]);
        };
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        let mut results = Vec::with_capacity(members.len());
        for leaving in members {
            let member_id = match (&leaving.group_instance_id, leaving.member_id.is_empty()) {
                // A static member may leave by instance id alone (KIP-345's admin removal).
                (Some(instance), true) => match group.static_members.get(instance) {
                    Some(id) => id.clone(),
                    None => {
                        results.push(Err(ResponseError::UnknownMemberId));
                        continue;
                    }
                },
                _ => leaving.member_id.clone(),
            };
            if group.pending_members.remove(&member_id).is_some() {
                group.try_complete_join(replies, now);
                results.push(Ok(()));
                continue;
            }
            if let Err(e) = group.validate_member(&member_id, leaving.group_instance_id.as_deref())
            {
                results.push(Err(e));
                continue;
            }
            tracing::info!(group = %group_id, member = %member_id, "member left");
            group.remove_member_and_update(&member_id, replies, config, now);
            results.push(Ok(()));
        }
        Ok(results)
    }
}
