//! What a fault does to a response: an error answer in the API's own shape (per partition for
//! Produce, Fetch and ListOffsets, per topic for Metadata and topic admin, top-level otherwise),
//! a Produce or Fetch split into partitions that fail and partitions that are applied,
//! `throttle_time_ms`, and corrupted bytes.

use bytes::{Bytes, BytesMut};
use ktrial_protocol::messages::create_topics_response::CreatableTopicResult;
use ktrial_protocol::messages::delete_topics_response::DeletableTopicResult;
use ktrial_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use ktrial_protocol::messages::find_coordinator_response::Coordinator;
use ktrial_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use ktrial_protocol::messages::metadata_response::MetadataResponseTopic;
use ktrial_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use ktrial_protocol::messages::{
    ApiVersionsResponse, CreateTopicsResponse, DeleteTopicsResponse, DescribeClusterResponse,
    FetchRequest, FetchResponse, FindCoordinatorResponse, HeartbeatResponse,
    InitProducerIdResponse, JoinGroupResponse, LeaveGroupResponse, ListOffsetsResponse,
    MetadataResponse, ProduceRequest, ProduceResponse, RequestKind, ResponseKind,
    SyncGroupResponse,
};

use super::ErrorCode;

/// The whole request answered with `code`, in the API's shape; `None` for an API this broker
/// has no error form for (the connection is then closed).
pub fn error_response(request: &RequestKind, code: ErrorCode) -> Option<ResponseKind> {
    let code = code.code();
    Some(match request {
        RequestKind::Produce(body) => ResponseKind::Produce(
            ProduceResponse::default().with_responses(
                body.topic_data
                    .iter()
                    .map(|t| {
                        TopicProduceResponse::default()
                            .with_name(t.name.clone())
                            .with_partition_responses(
                                t.partition_data
                                    .iter()
                                    .map(|p| failed_produce(p.index, code))
                                    .collect(),
                            )
                    })
                    .collect(),
            ),
        ),
        RequestKind::Fetch(body) => ResponseKind::Fetch(
            FetchResponse::default().with_responses(
                body.topics
                    .iter()
                    .map(|t| {
                        FetchableTopicResponse::default()
                            .with_topic(t.topic.clone())
                            .with_topic_id(t.topic_id)
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| failed_fetch(p.partition, code))
                                    .collect(),
                            )
                    })
                    .collect(),
            ),
        ),
        RequestKind::ListOffsets(body) => ResponseKind::ListOffsets(
            ListOffsetsResponse::default().with_topics(
                body.topics
                    .iter()
                    .map(|t| {
                        ListOffsetsTopicResponse::default()
                            .with_name(t.name.clone())
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        ListOffsetsPartitionResponse::default()
                                            .with_partition_index(p.partition_index)
                                            .with_error_code(code)
                                            .with_timestamp(-1)
                                            .with_offset(-1)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            ),
        ),
        RequestKind::Metadata(body) => ResponseKind::Metadata(
            MetadataResponse::default().with_topics(
                body.topics
                    .iter()
                    .flatten()
                    .map(|t| {
                        MetadataResponseTopic::default()
                            .with_name(t.name.clone())
                            .with_topic_id(t.topic_id)
                            .with_error_code(code)
                    })
                    .collect(),
            ),
        ),
        RequestKind::CreateTopics(body) => ResponseKind::CreateTopics(
            CreateTopicsResponse::default().with_topics(
                body.topics
                    .iter()
                    .map(|t| {
                        CreatableTopicResult::default()
                            .with_name(t.name.clone())
                            .with_error_code(code)
                            .with_num_partitions(-1)
                            .with_replication_factor(-1)
                    })
                    .collect(),
            ),
        ),
        RequestKind::DeleteTopics(body) => ResponseKind::DeleteTopics(
            DeleteTopicsResponse::default().with_responses(
                body.topic_names
                    .iter()
                    .map(|name| {
                        DeletableTopicResult::default()
                            .with_name(Some(name.clone()))
                            .with_error_code(code)
                    })
                    .collect(),
            ),
        ),
        RequestKind::FindCoordinator(body) => ResponseKind::FindCoordinator(
            FindCoordinatorResponse::default()
                .with_error_code(code)
                .with_node_id((-1).into())
                .with_port(-1)
                .with_coordinators(
                    body.coordinator_keys
                        .iter()
                        .map(|key| {
                            Coordinator::default()
                                .with_key(key.clone())
                                .with_node_id((-1).into())
                                .with_port(-1)
                                .with_error_code(code)
                        })
                        .collect(),
                ),
        ),
        RequestKind::ApiVersions(_) => {
            ResponseKind::ApiVersions(ApiVersionsResponse::default().with_error_code(code))
        }
        RequestKind::InitProducerId(_) => ResponseKind::InitProducerId(
            InitProducerIdResponse::default()
                .with_error_code(code)
                .with_producer_id((-1).into())
                .with_producer_epoch(-1),
        ),
        RequestKind::DescribeCluster(_) => {
            ResponseKind::DescribeCluster(DescribeClusterResponse::default().with_error_code(code))
        }
        RequestKind::JoinGroup(_) => ResponseKind::JoinGroup(
            JoinGroupResponse::default()
                .with_error_code(code)
                .with_generation_id(-1),
        ),
        RequestKind::SyncGroup(_) => {
            ResponseKind::SyncGroup(SyncGroupResponse::default().with_error_code(code))
        }
        RequestKind::Heartbeat(_) => {
            ResponseKind::Heartbeat(HeartbeatResponse::default().with_error_code(code))
        }
        RequestKind::LeaveGroup(_) => {
            ResponseKind::LeaveGroup(LeaveGroupResponse::default().with_error_code(code))
        }
        _ => return None,
    })
}

fn failed_produce(index: i32, code: i16) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
}

fn failed_fetch(index: i32, code: i16) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(code)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_records(Some(Bytes::new()))
}

/// A Produce or Fetch split by partition index: the request without `partitions` (to apply)
/// and what to merge into its response. `None` for other APIs, which fail whole.
pub fn split(request: &RequestKind, partitions: &[i32]) -> Option<(RequestKind, Failed)> {
    let failing = |index: i32| partitions.contains(&index);
    match request {
        RequestKind::Produce(body) => {
            let mut rest: ProduceRequest = body.clone();
            let mut failed = Vec::new();
            for topic in &mut rest.topic_data {
                for p in topic.partition_data.iter().filter(|p| failing(p.index)) {
                    failed.push((topic.name.0.to_string(), p.index));
                }
                topic.partition_data.retain(|p| !failing(p.index));
            }
            rest.topic_data.retain(|t| !t.partition_data.is_empty());
            Some((RequestKind::Produce(rest), Failed(failed)))
        }
        RequestKind::Fetch(body) => {
            let mut rest: FetchRequest = body.clone();
            let mut failed = Vec::new();
            for topic in &mut rest.topics {
                for p in topic.partitions.iter().filter(|p| failing(p.partition)) {
                    failed.push((topic.topic.0.to_string(), p.partition));
                }
                topic.partitions.retain(|p| !failing(p.partition));
            }
            Some((RequestKind::Fetch(rest), Failed(failed)))
        }
        _ => None,
    }
}

/// The (topic, partition) pairs a split took out of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed(pub Vec<(String, i32)>);

impl Failed {
    /// Adds the failed partitions, with `code`, to the response of the rest of the request.
    pub fn merge_into(&self, response: &mut ResponseKind, code: ErrorCode) {
        let code = code.code();
        for (topic, index) in &self.0 {
            match response {
                ResponseKind::Produce(body) => {
                    let entry = match body
                        .responses
                        .iter()
                        .position(|t| t.name.0.as_str() == topic.as_str())
                    {
                        Some(i) => &mut body.responses[i],
                        None => {
                            body.responses.push(
                                TopicProduceResponse::default()
                                    .with_name(crate::handlers::topic_name(topic)),
                            );
                            let last = body.responses.len() - 1;
                            &mut body.responses[last]
                        }
                    };
                    entry.partition_responses.push(failed_produce(*index, code));
                }
                ResponseKind::Fetch(body) => {
                    if let Some(t) = body
                        .responses
                        .iter_mut()
                        .find(|t| t.topic.0.as_str() == topic.as_str())
                    {
                        t.partitions.push(failed_fetch(*index, code));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Sets `throttle_time_ms` in a response that has it.
pub fn set_throttle(response: &mut ResponseKind, ms: i32) {
    macro_rules! throttle {
        ($($kind:ident),*) => {
            match response {
                $(ResponseKind::$kind(body) => body.throttle_time_ms = ms,)*
                _ => {}
            }
        };
    }
    throttle!(
        Produce,
        Fetch,
        Metadata,
        ListOffsets,
        InitProducerId,
        FindCoordinator,
        ApiVersions,
        CreateTopics,
        DeleteTopics,
        DescribeConfigs,
        DescribeCluster,
        JoinGroup,
        SyncGroup,
        Heartbeat,
        LeaveGroup,
        OffsetCommit,
        OffsetFetch
    );
}

/// Inverts every byte of a response frame after its size prefix and header, so that the client
/// cannot decode the body; `header_bytes` is the header's size (4, or 5 for flexible headers).
pub fn corrupt(frame: &Bytes, header_bytes: usize) -> Bytes {
    let mut bytes = BytesMut::from(&frame[..]);
    for byte in bytes.iter_mut().skip(4 + header_bytes) {
        *byte = !*byte;
    }
    bytes.freeze()
}
