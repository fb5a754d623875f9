//! OffsetCommit: a member (or, with generation -1, anyone) stores the next offset to read per
//! partition, with metadata; partitions the cluster does not have get
//! UNKNOWN_TOPIC_OR_PARTITION, as Kafka checks its metadata cache first. The retention time of
//! v2-v4 is ignored (offsets are kept as long as the group).

use ktrial_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use ktrial_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse, ResponseKind};

use super::{RequestContext, code};
use crate::groups::{CommitPartition, CommitRequest, MemberRef};
use crate::shared::SharedCluster;

/// Handles an OffsetCommit request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    request: &OffsetCommitRequest,
) -> ResponseKind {
    let commit = CommitRequest {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id_or_member_epoch,
        member: MemberRef {
            member_id: request.member_id.to_string(),
            group_instance_id: request.group_instance_id.as_ref().map(|s| s.to_string()),
        },
        partitions: request
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| CommitPartition {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_ref().map(|s| s.to_string()),
                })
            })
            .collect(),
    };
    let now = cluster.now();
    let results = cluster.update(now, |c| {
        if let Err(e) = c.check_group_coordinator(ctx.broker, &commit.group_id) {
            return vec![Err(e); commit.partitions.len()];
        }
        let wall_clock_ms = c.wall_clock_ms(now);
        let topics = &c.topics;
        let exists = |topic: &str, partition: i32| {
            topics
                .get(topic)
                .and_then(|t| t.partition(partition))
                .is_some()
        };
        c.groups.commit_offsets(&commit, exists, now, wall_clock_ms)
    });
    let mut results = results.into_iter();
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code(results.next().and_then(Result::err)))
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_topic_id(t.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    ResponseKind::OffsetCommit(OffsetCommitResponse::default().with_topics(topics))
}
