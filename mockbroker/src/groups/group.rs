//! One group as plain data: state, generation, members, static-member map, committed offsets;
//! and the membership bookkeeping the coordinator builds on (Kafka's `GroupMetadata`, now
//! `ClassicGroup` in `group-coordinator/.../classic/ClassicGroup.java`).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use ktrial_protocol::ResponseError;
use tokio::time::{Duration, Instant};

use super::messages::{CommittedOffset, JoinedMember, MemberDescription, Protocol};
use super::replies::{Replies, Ticket};
use super::{JoinResult, SyncResult};

/// The states of a classic group (`ClassicGroupState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupState {
    /// No members; may hold committed offsets.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
    /// Deleted.
    Dead,
}

impl GroupState {
    /// Kafka's name, as DescribeGroups and ListGroups report it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) protocols: Vec<Protocol>,
    pub(crate) assignment: Bytes,
    /// The JoinGroup this member waits on, during a rebalance.
    pub(crate) awaiting_join: Option<Ticket>,
    /// The SyncGroup this member waits on, until the leader assigns.
    pub(crate) awaiting_sync: Option<Ticket>,
    /// The session ends here unless a heartbeat comes first (not while awaiting an answer).
    pub(crate) session_deadline: Instant,
    /// Join order, for choosing a leader the way Kafka's insertion-ordered map does.
    pub(crate) joined: u64,
}

impl Member {
    /// Its metadata for `protocol`.
    fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    /// Whether it rejoins with exactly the protocols it has (`MemberMetadata.matches`).
    pub(crate) fn matches(&self, protocols: &[Protocol]) -> bool {
        self.protocols == protocols
    }

    /// Whether a JoinGroup or SyncGroup of it is outstanding (Kafka keeps such members alive).
    pub(crate) fn is_awaiting(&self) -> bool {
        self.awaiting_join.is_some() || self.awaiting_sync.is_some()
    }
}

/// The timer of the rebalance in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinTimer {
    /// `InitialDelayedJoin`: the first rebalance of an empty group waits for more members,
    /// extending by the initial delay while new members keep coming, up to the rebalance timeout.
    Initial {
        deadline: Instant,
        remaining: Duration,
        new_member_added: bool,
    },
    /// `DelayedJoin`: completes when every member has rejoined, or at the rebalance timeout.
    Rebalance { deadline: Instant },
}

impl JoinTimer {
    pub(crate) fn deadline(self) -> Instant {
        match self {
            JoinTimer::Initial { deadline, .. } | JoinTimer::Rebalance { deadline } => deadline,
        }
    }
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub(crate) id: String,
    pub(crate) state: GroupState,
    pub(crate) generation_id: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader: Option<String>,
    pub(crate) members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, with the end of their session.
    pub(crate) pending_members: BTreeMap<String, Instant>,
    /// `group.instance.id` to member id.
    pub(crate) static_members: BTreeMap<String, String>,
    /// Members of this generation that have not sent SyncGroup yet.
    pub(crate) pending_sync: BTreeSet<String>,
    pub(crate) join_timer: Option<JoinTimer>,
    /// Members still in `pending_sync` then are removed (`DelayedSync`, KAFKA-13651).
    pub(crate) sync_deadline: Option<Instant>,
    pub(crate) offsets: BTreeMap<(String, i32), CommittedOffset>,
}

impl Group {
    pub(crate) fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            join_timer: None,
            sync_deadline: None,
            offsets: BTreeMap::new(),
        }
    }

    /// The group id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its state.
    pub fn state(&self) -> GroupState {
        self.state
    }

    /// Its generation.
    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    /// The leader's member id.
    pub fn leader(&self) -> Option<&str> {
        self.leader.as_deref()
    }

    /// The selected protocol.
    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }

    /// Member ids, in join order.
    pub fn member_ids(&self) -> Vec<String> {
        self.in_join_order().map(|m| m.member_id.clone()).collect()
    }

    /// Members in join order (Kafka keeps them in an insertion-ordered map).
    fn in_join_order(&self) -> impl Iterator<Item = &Member> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.joined);
        members.into_iter()
    }

    /// A member's current assignment.
    pub fn assignment(&self, member_id: &str) -> Option<&Bytes> {
        self.members.get(member_id).map(|m| &m.assignment)
    }

    /// Committed offsets by topic and partition.
    pub fn offsets(&self) -> &BTreeMap<(String, i32), CommittedOffset> {
        &self.offsets
    }

    pub(crate) fn is_leader(&self, member_id: &str) -> bool {
        self.leader.as_deref() == Some(member_id)
    }

    /// The longest rebalance timeout of its members (`GroupMetadata.rebalanceTimeoutMs`).
    pub(crate) fn rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    /// Every member awaits its JoinGroup and no handed-out id is still to join.
    pub(crate) fn all_members_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    /// `supportsProtocols`: an empty group takes any non-empty protocol list; otherwise the
    /// type must match and one of the protocols must be supported by every member.
    pub(crate) fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.state == GroupState::Empty {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|q| q.name == p.name))
            })
    }

    /// `selectProtocol`: among the protocols every member supports, each member votes for its
    /// most preferred one; the most votes win (ties: the smaller name, for determinism).
    pub(crate) fn select_protocol(&self) -> Option<String> {
        let candidates: BTreeSet<&str> = self
            .members
            .values()
            .next()?
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|name| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|p| p.name == *name))
            })
            .collect();
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for member in self.members.values() {
            if let Some(choice) = member
                .protocols
                .iter()
                .find(|p| candidates.contains(p.name.as_str()))
            {
                *votes.entry(choice.name.as_str()).or_default() += 1;
            }
        }
        let most = votes.values().copied().max()?;
        votes
            .into_iter()
            .find(|(_, n)| *n == most)
            .map(|(name, _)| name.to_string())
    }

    /// Every member with its metadata for the selected protocol, in join order (for the leader).
    pub(crate) fn member_metadata(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        self.in_join_order()
            .map(|m| JoinedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(&protocol),
            })
            .collect()
    }

    /// DescribeGroups' view of the members: metadata and assignment only when stable.
    pub(crate) fn member_descriptions(&self) -> Vec<MemberDescription> {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let stable = self.state == GroupState::Stable;
        self.in_join_order()
            .map(|m| MemberDescription {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect()
    }

    /// `validateCurrentMember`: a static member must be the one its instance id maps to
    /// (FENCED_INSTANCE_ID otherwise), and the member must exist.
    pub(crate) fn validate_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<(), ResponseError> {
        if let Some(instance) = group_instance_id {
            return match self.static_members.get(instance) {
                Some(current) if current != member_id => Err(ResponseError::FencedInstanceId),
                Some(_) => Ok(()),
                None => Err(ResponseError::UnknownMemberId),
            };
        }
        if self.members.contains_key(member_id) {
            Ok(())
        } else {
            Err(ResponseError::UnknownMemberId)
        }
    }

    /// Adds a member; the first one leads.
    pub(crate) fn add(&mut self, member: Member) {
        self.pending_members.remove(&member.member_id);
        if let Some(instance) = &member.group_instance_id {
            self.static_members
                .insert(instance.clone(), member.member_id.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.member_id.clone());
        }
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member, answering what it waits on with UNKNOWN_MEMBER_ID (so that its client
    /// rejoins, as Kafka's `removeMemberAndUpdateGroup` does); a new leader is the earliest
    /// joined member left.
    pub(crate) fn remove(&mut self, member_id: &str, replies: &mut Replies) -> Option<Member> {
        let member = self.members.remove(member_id)?;
        if let Some(ticket) = member.awaiting_join {
            replies.answer_join(
                ticket,
                JoinResult::error(member_id, ResponseError::UnknownMemberId),
            );
        }
        if let Some(ticket) = member.awaiting_sync {
            replies.answer_sync(ticket, SyncResult::error(ResponseError::UnknownMemberId));
        }
        if let Some(instance) = &member.group_instance_id
            && self.static_members.get(instance).map(String::as_str) == Some(member_id)
        {
            self.static_members.remove(instance);
        }
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader = self
                .members
                .values()
                .min_by_key(|m| m.joined)
                .map(|m| m.member_id.clone());
        }
        Some(member)
    }

    /// When its next timer fires: the rebalance, the sync wait, a session, a pending member.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let sessions = self
            .members
            .values()
            .filter(|m| !m.is_awaiting())
            .map(|m| m.session_deadline);
        self.join_timer
            .map(JoinTimer::deadline)
            .into_iter()
            .chain(self.sync_deadline)
            .chain(sessions)
            .chain(self.pending_members.values().copied())
            .min()
    }
}
