//! Committed offsets: OffsetCommit checks the committer against the group as Kafka's
//! `doCommitOffsets` does (simple commits with generation -1 go to an empty group, created if
//! needed), each partition against the cluster's topics; OffsetFetch reads them back.

use ktrial_protocol::ResponseError;
use tokio::time::Instant;

use super::coordinator::GroupCoordinator;
use super::group::GroupState;
use super::messages::{CommitPartition, CommittedOffset, MemberRef};

/// An OffsetCommit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRequest {
    /// The group.
    pub group_id: String,
    /// The committer's generation, or -1 for a commit from outside the group protocol.
    pub generation_id: i32,
    /// The committer (member id empty for a simple commit).
    pub member: MemberRef,
    /// The offsets.
    pub partitions: Vec<CommitPartition>,
}

/// One topic's answer to OffsetFetch: each partition with its committed offset, if any.
pub type FetchedTopic = (String, Vec<(i32, Option<CommittedOffset>)>);

impl GroupCoordinator {
    /// Handles an OffsetCommit: one result per partition, in request order. `partition_exists`
    /// says whether the cluster has the topic partition (UNKNOWN_TOPIC_OR_PARTITION if not);
    /// `wall_clock_ms` stamps the commit.
    pub fn commit_offsets(
        &mut self,
        request: &CommitRequest,
        partition_exists: impl Fn(&str, i32) -> bool,
        now: Instant,
        wall_clock_ms: i64,
    ) -> Vec<Result<(), ResponseError>> {
        if let Err(error) = self.check_committer(request, now) {
            return vec![Err(error); request.partitions.len()];
        }
        let max_metadata = self.config.offset_metadata_max_bytes;
        let Some(group) = self.groups.get_mut(&request.group_id) else {
            return vec![Err(ResponseError::CoordinatorNotAvailable); request.partitions.len()];
        };
        request
            .partitions
            .iter()
            .map(|p| {
                if !partition_exists(&p.topic, p.partition) {
                    return Err(ResponseError::UnknownTopicOrPartition);
                }
                let metadata = p.metadata.clone().unwrap_or_default();
                if metadata.len() > max_metadata {
                    return Err(ResponseError::OffsetMetadataTooLarge);
                }
                group.offsets.insert(
                    (p.topic.clone(), p.partition),
                    CommittedOffset {
                        offset: p.offset,
                        leader_epoch: p.leader_epoch,
                        metadata,
                        commit_timestamp_ms: wall_clock_ms,
                    },
                );
                Ok(())
            })
            .collect()
    }

    /// Whether the committer may commit now; a known member's session is renewed.
    fn check_committer(
        &mut self,
        request: &CommitRequest,
        now: Instant,
    ) -> Result<(), ResponseError> {
        let member = &request.member;
        if !self.groups.contains_key(&request.group_id) {
            if request.generation_id >= 0 {
                return Err(ResponseError::IllegalGeneration);
            }
            self.group_or_create(&request.group_id)?;
        }
        let group = self
            .groups
            .get_mut(&request.group_id)
            .ok_or(ResponseError::CoordinatorNotAvailable)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        if let Some(instance) = &member.group_instance_id
            && group
                .static_members
                .get(instance)
                .is_some_and(|id| *id != member.member_id)
        {
            return Err(ResponseError::FencedInstanceId);
        }
        if !member.member_id.is_empty() && !group.members.contains_key(&member.member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        if request.generation_id >= 0 && request.generation_id != group.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        match group.state {
            GroupState::CompletingRebalance => Err(ResponseError::RebalanceInProgress),
            _ => {
                if let Some(m) = group.members.get_mut(&member.member_id) {
                    m.session_deadline = now + m.session_timeout;
                }
                Ok(())
            }
        }
    }

    /// OffsetFetch for one group: the committed offset of each requested partition (`None`:
    /// nothing committed, which the wire shows as -1), or of every committed partition when
    /// `topics` is `None`.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
    ) -> Vec<FetchedTopic> {
        let group = self.groups.get(group_id);
        match topics {
            Some(topics) => topics
                .iter()
                .map(|(topic, partitions)| {
                    let offsets = partitions
                        .iter()
                        .map(|&p| {
                            let committed = group
                                .and_then(|g| g.offsets.get(&(topic.clone(), p)))
                                .cloned();
                            (p, committed)
                        })
                        .collect();
                    (topic.clone(), offsets)
                })
                .collect(),
            None => {
                let mut all: Vec<FetchedTopic> = Vec::new();
                for ((topic, partition), committed) in group.iter().flat_map(|g| &g.offsets) {
                    let entry = (*partition, Some(committed.clone()));
                    match all.last_mut() {
                        Some((t, parts)) if t == topic => parts.push(entry),
                        _ => all.push((topic.clone(), vec![entry])),
                    }
                }
                all
            }
        }
    }
}
