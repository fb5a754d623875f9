//! ListOffsets: the earliest offset (-2), the latest (-1, the high watermark for consumers), or
//! the first offset at or after a timestamp, from each partition's leader.

use ktrial_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use ktrial_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse, ResponseKind};

use super::{RequestContext, code};
use crate::shared::SharedCluster;

/// ListOffsets v4 added the leader epoch to answers.
const LEADER_EPOCH_VERSION: i16 = 4;

/// Handles a ListOffsets request.
pub fn handle(
    cluster: &SharedCluster,
    ctx: &RequestContext,
    version: i16,
    request: &ListOffsetsRequest,
) -> ResponseKind {
    let topics = cluster.read(cluster.now(), |c| {
        request
            .topics
            .iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|p| {
                        let response = ListOffsetsPartitionResponse::default()
                            .with_partition_index(p.partition_index);
                        match c.list_offset(
                            ctx.broker,
                            &topic.name.0,
                            p.partition_index,
                            p.current_leader_epoch,
                            p.timestamp,
                        ) {
                            Ok((offset, timestamp, epoch)) => {
                                let response =
                                    response.with_offset(offset).with_timestamp(timestamp);
                                // The field exists from v4; setting it earlier cannot be encoded.
                                if version >= LEADER_EPOCH_VERSION {
                                    response.with_leader_epoch(epoch)
                                } else {
                                    response
                                }
                            }
                            Err(error) => response.with_error_code(code(Some(error))),
                        }
                    })
                    .collect();
                ListOffsetsTopicResponse::default()
                    .with_name(topic.name.clone())
                    .with_partitions(partitions)
            })
            .collect()
    });
    ResponseKind::ListOffsets(ListOffsetsResponse::default().with_topics(topics))
}
