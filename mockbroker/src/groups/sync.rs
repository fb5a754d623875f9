//! SyncGroup: members collect their assignment; the leader's request carries everyone's
//! (Kafka's `doSyncGroup`, `GroupMetadataManager.classicGroupSync` in Kafka 4). Assignments
//! naming ids that are not members are ignored and members without one get an empty
//! assignment, as Kafka does.

use ktrial_protocol::ResponseError;
use tokio::time::Instant;

use super::coordinator::GroupCoordinator;
use super::group::GroupState;
use super::messages::{SyncRequest, SyncResult};
use super::replies::Pending;

impl GroupCoordinator {
    /// Handles a SyncGroup: an answer now, or a ticket answered when the leader assigns
    /// (collect it with [`GroupCoordinator::take_sync`]).
    pub fn sync(&mut self, request: &SyncRequest, now: Instant) -> Pending<SyncResult> {
        match self.try_sync(request, now) {
            Ok(pending) => pending,
            Err(error) => Pending::Ready(SyncResult::error(error)),
        }
    }

    fn try_sync(
        &mut self,
        request: &SyncRequest,
        now: Instant,
    ) -> Result<Pending<SyncResult>, ResponseError> {
        if request.group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let Self {
            groups, replies, ..
        } = self;
        let group = groups
            .get_mut(&request.group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        group.validate_member(&request.member_id, request.group_instance_id.as_deref())?;
        if request.generation_id != group.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        let mismatch =
            |given: &Option<String>, ours: &Option<String>| given.is_some() && given != ours;
        if mismatch(&request.protocol_type, &group.protocol_type)
            || mismatch(&request.protocol_name, &group.protocol_name)
        {
            return Err(ResponseError::InconsistentGroupProtocol);
        }
        let answer = SyncResult {
            error: None,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            assignment: bytes::Bytes::new(),
        };
        match group.state {
            GroupState::Empty | GroupState::Dead => Err(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => Err(ResponseError::RebalanceInProgress),
            GroupState::Stable => Ok(Pending::Ready(group.synced(
                &request.member_id,
                now,
                answer,
            ))),
            GroupState::CompletingRebalance if group.is_leader(&request.member_id) => {
                for member in group.members.values_mut() {
                    member.assignment = request
                        .assignments
                        .iter()
                        .find(|(id, _)| *id == member.member_id)
                        .map(|(_, a)| a.clone())
                        .unwrap_or_default();
                }
                group.state = GroupState::Stable;
                for member in group.members.values_mut() {
                    if let Some(ticket) = member.awaiting_sync.take() {
                        member.session_deadline = now + member.session_timeout;
                        replies.answer_sync(
                            ticket,
                            SyncResult {
                                assignment: member.assignment.clone(),
                                ..answer.clone()
                            },
                        );
                    }
                }
                Ok(Pending::Ready(group.synced(
                    &request.member_id,
                    now,
                    answer,
                )))
            }
            GroupState::CompletingRebalance => {
                let ticket = replies.issue();
                if let Some(member) = group.members.get_mut(&request.member_id)
                    && let Some(old) = member.awaiting_sync.replace(ticket)
                {
                    replies.answer_sync(old, SyncResult::error(ResponseError::RebalanceInProgress));
                }
                group.synced(&request.member_id, now, answer);
                Ok(Pending::Wait(ticket))
            }
        }
    }
}

impl super::group::Group {
    /// The member has sent SyncGroup: it no longer holds up the sync wait, its session runs, and
    /// it gets `answer` with its assignment.
    fn synced(&mut self, member_id: &str, now: Instant, answer: SyncResult) -> SyncResult {
        self.pending_sync.remove(member_id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
        let Some(member) = self.members.get_mut(member_id) else {
            return answer;
        };
        member.session_deadline = now + member.session_timeout;
        SyncResult {
            assignment: member.assignment.clone(),
            ..answer
        }
    }
}
