//! OffsetFetch: committed offsets of one group (v0-v7) or of several (v8+); a partition with no
//! commit reads -1 with empty metadata, as in Kafka; a null topic list (v2+) asks for every
//! committed partition. Transactions are not modelled, so `require_stable` never waits.

use ktrial_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use ktrial_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};

use super::{RequestContext, code, topic_name};
use crate::groups::{CommittedOffset, FetchedTopic};
use crate::model::Cluster;
use crate::shared::SharedCluster;

/// OffsetFetch v8 looks up several groups.
const MULTI_GROUP_VERSION: i16 = 8;

/// Handles an OffsetFetch request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    version: i16,
    request: &OffsetFetchRequest,
) -> ResponseKind {
    let response = cluster.read(cluster.now(), |c| {
        if version >= MULTI_GROUP_VERSION {
            let groups = request
                .groups
                .iter()
                .map(|g| {
                    let topics = g.topics.as_ref().map(|ts| {
                        ts.iter()
                            .map(|t| (t.name.0.to_string(), t.partition_indexes.clone()))
                            .collect::<Vec<_>>()
                    });
                    let (fetched, error) = fetch(c, ctx, &g.group_id.0, topics.as_deref());
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(code(error))
                        .with_topics(
                            fetched
                                .into_iter()
                                .map(|(topic, parts)| {
                                    OffsetFetchResponseTopics::default()
                                        .with_name(topic_name(&topic))
                                        .with_partitions(
                                            parts
                                                .into_iter()
                                                .map(|(p, o)| multi_partition(p, o))
                                                .collect(),
                                        )
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_groups(groups)
        } else {
            let topics = request.topics.as_ref().map(|ts| {
                ts.iter()
                    .map(|t| (t.name.0.to_string(), t.partition_indexes.clone()))
                    .collect::<Vec<_>>()
            });
            let (fetched, error) = fetch(c, ctx, &request.group_id.0, topics.as_deref());
            OffsetFetchResponse::default()
                .with_error_code(code(error))
                .with_topics(
                    fetched
                        .into_iter()
                        .map(|(topic, parts)| {
                            OffsetFetchResponseTopic::default()
                                .with_name(topic_name(&topic))
                                .with_partitions(
                                    parts
                                        .into_iter()
                                        .map(|(p, o)| single_partition(p, o))
                                        .collect(),
                                )
                        })
                        .collect(),
                )
        }
    });
    ResponseKind::OffsetFetch(response)
}

/// One group's offsets, or the error that stands for all of them.
fn fetch(
    c: &Cluster,
    ctx: &RequestContext,
    group_id: &str,
    topics: Option<&[(String, Vec<i32>)]>,
) -> (Vec<FetchedTopic>, Option<ResponseError>) {
    match c.check_group_coordinator(ctx.broker, group_id) {
        Ok(()) => (c.groups().fetch_offsets(group_id, topics), None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// Offset, leader epoch and metadata as the wire has them: -1, -1 and "" when nothing is
/// committed.
fn fields(committed: Option<CommittedOffset>) -> (i64, i32, StrBytes) {
    match committed {
        Some(o) => (o.offset, o.leader_epoch, StrBytes::from_string(o.metadata)),
        None => (-1, -1, StrBytes::default()),
    }
}

fn single_partition(
    index: i32,
    committed: Option<CommittedOffset>,
) -> OffsetFetchResponsePartition {
    let (offset, epoch, metadata) = fields(committed);
    OffsetFetchResponsePartition::default()
        .with_partition_index(index)
        .with_committed_offset(offset)
        .with_committed_leader_epoch(epoch)
        .with_metadata(Some(metadata))
}

fn multi_partition(
    index: i32,
    committed: Option<CommittedOffset>,
) -> OffsetFetchResponsePartitions {
    let (offset, epoch, metadata) = fields(committed);
    OffsetFetchResponsePartitions::default()
        .with_partition_index(index)
        .with_committed_offset(offset)
        .with_committed_leader_epoch(epoch)
        .with_metadata(Some(metadata))
}
