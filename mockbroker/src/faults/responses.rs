//! What a fault does to a response: an error answer in the API's own shape (per partition for
//! Produce, Fetch, ListOffsets, OffsetCommit and OffsetFetch, per topic for Metadata and topic
//! admin, per resource or group for DescribeConfigs, DescribeGroups and DeleteGroups, top-level
//! otherwise),
//! a Produce or Fetch split into partitions that fail and partitions that are applied,
//! `throttle_time_ms`, and corrupted bytes.

use bytes::{Bytes, BytesMut};
use ktrial_protocol::messages::create_topics_response::CreatableTopicResult;
use ktrial_protocol::messages::delete_groups_response::DeletableGroupResult;
use ktrial_protocol::messages::delete_topics_response::DeletableTopicResult;
use ktrial_protocol::messages::describe_configs_response::DescribeConfigsResult;
use ktrial_protocol::messages::describe_groups_response::DescribedGroup;
use ktrial_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use ktrial_protocol::messages::find_coordinator_response::Coordinator;
use ktrial_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use ktrial_protocol::messages::metadata_response::MetadataResponseTopic;
use ktrial_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use ktrial_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use ktrial_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use ktrial_protocol::messages::{
    ApiVersionsResponse, CreateTopicsResponse, DeleteGroupsResponse, DeleteTopicsResponse,
    DescribeClusterResponse, DescribeConfigsResponse, DescribeGroupsResponse, FetchRequest,
    FetchResponse, FindCoordinatorResponse, HeartbeatResponse, InitProducerIdResponse,
    JoinGroupResponse, LeaveGroupResponse, ListGroupsResponse, ListOffsetsResponse,
    MetadataResponse, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    ProduceRequest, ProduceResponse, RequestKind, ResponseKind, SyncGroupResponse,
};
use ktrial_protocol::{ResponseError, StrBytes};

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
        RequestKind::DescribeConfigs(body) => ResponseKind::DescribeConfigs(
            DescribeConfigsResponse::default().with_results(
                body.resources
                    .iter()
                    .map(|r| {
                        DescribeConfigsResult::default()
                            .with_error_code(code)
                            .with_error_message(error_message(code))
                            .with_resource_type(r.resource_type)
                            .with_resource_name(r.resource_name.clone())
                    })
                    .collect(),
            ),
        ),
        RequestKind::OffsetCommit(body) => ResponseKind::OffsetCommit(
            OffsetCommitResponse::default().with_topics(
                body.topics
                    .iter()
                    .map(|t| {
                        OffsetCommitResponseTopic::default()
                            .with_name(t.name.clone())
                            .with_topic_id(t.topic_id)
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        OffsetCommitResponsePartition::default()
                                            .with_partition_index(p.partition_index)
                                            .with_error_code(code)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            ),
        ),
        RequestKind::OffsetFetch(body) => ResponseKind::OffsetFetch(offset_fetch_error(body, code)),
        RequestKind::DescribeGroups(body) => ResponseKind::DescribeGroups(
            DescribeGroupsResponse::default().with_groups(
                body.groups
                    .iter()
                    .map(|group| {
                        DescribedGroup::default()
                            .with_group_id(group.clone())
                            .with_error_code(code)
                    })
                    .collect(),
            ),
        ),
        RequestKind::ListGroups(_) => {
            ResponseKind::ListGroups(ListGroupsResponse::default().with_error_code(code))
        }
        RequestKind::DeleteGroups(body) => ResponseKind::DeleteGroups(
            DeleteGroupsResponse::default().with_results(
                body.groups_names
                    .iter()
                    .map(|group| {
                        DeletableGroupResult::default()
                            .with_group_id(group.clone())
                            .with_error_code(code)
                    })
                    .collect(),
            ),
        ),
        _ => return None,
    })
}

/// OffsetFetch answered with `code` as Kafka's `OffsetFetchRequest.getErrorResponse` does: per
/// group from v8 (the request lists `groups`); before, every partition asked for reads -1 with
/// the error, and the top-level error (v2+) carries it too.
fn offset_fetch_error(request: &OffsetFetchRequest, code: i16) -> OffsetFetchResponse {
    if !request.groups.is_empty() {
        return OffsetFetchResponse::default().with_groups(
            request
                .groups
                .iter()
                .map(|g| {
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(code)
                })
                .collect(),
        );
    }
    let topics = request.topics.iter().flatten().map(|t| {
        OffsetFetchResponseTopic::default()
            .with_name(t.name.clone())
            .with_partitions(
                t.partition_indexes
                    .iter()
                    .map(|index| {
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(*index)
                            .with_committed_offset(-1)
                            .with_committed_leader_epoch(-1)
                            .with_metadata(Some(StrBytes::default()))
                            .with_error_code(code)
                    })
                    .collect(),
            )
    });
    OffsetFetchResponse::default()
        .with_error_code(code)
        .with_topics(topics.collect())
}

/// Kafka's message for an error code, as admin clients show it.
fn error_message(code: i16) -> Option<StrBytes> {
    ResponseError::try_from_code(code).map(|e| StrBytes::from_string(e.to_string()))
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
        OffsetFetch,
        DescribeGroups,
        ListGroups,
        DeleteGroups
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

#[cfg(test)]
mod tests {
    use ktrial_protocol::codec::{decode_response, encode_response};
    use ktrial_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use ktrial_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use ktrial_protocol::messages::offset_fetch_request::{
        OffsetFetchRequestGroup, OffsetFetchRequestTopic,
    };
    use ktrial_protocol::messages::{
        ApiKey, DeleteGroupsRequest, DescribeConfigsRequest, DescribeGroupsRequest, GroupId,
        ListGroupsRequest, OffsetCommitRequest, TopicName,
    };

    use super::*;
    use crate::handlers::api_versions::SUPPORTED;

    const NOT_COORDINATOR: i16 = 16;

    fn group() -> GroupId {
        GroupId(StrBytes::from_static_str("app"))
    }

    fn topic() -> TopicName {
        TopicName(StrBytes::from_static_str("orders"))
    }

    /// The error codes a client reads from a response, wherever the API puts them.
    fn codes(response: &ResponseKind) -> Vec<i16> {
        match response {
            ResponseKind::DescribeConfigs(r) => r.results.iter().map(|r| r.error_code).collect(),
            ResponseKind::OffsetCommit(r) => r
                .topics
                .iter()
                .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
                .collect(),
            ResponseKind::OffsetFetch(r) => r
                .groups
                .iter()
                .map(|g| g.error_code)
                .chain(
                    r.topics
                        .iter()
                        .flat_map(|t| t.partitions.iter().map(|p| p.error_code)),
                )
                .collect(),
            ResponseKind::DescribeGroups(r) => r.groups.iter().map(|g| g.error_code).collect(),
            ResponseKind::ListGroups(r) => vec![r.error_code],
            ResponseKind::DeleteGroups(r) => r.results.iter().map(|g| g.error_code).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The request a client of `version` sends (OffsetFetch lists groups from v8).
    fn request(api: ApiKey, version: i16) -> RequestKind {
        match api {
            ApiKey::DescribeConfigs => RequestKind::DescribeConfigs(
                DescribeConfigsRequest::default().with_resources(vec![
                    DescribeConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(StrBytes::from_static_str("orders")),
                ]),
            ),
            ApiKey::OffsetCommit => RequestKind::OffsetCommit(
                OffsetCommitRequest::default()
                    .with_group_id(group())
                    .with_topics(vec![
                        OffsetCommitRequestTopic::default()
                            .with_name(topic())
                            .with_partitions(vec![
                                OffsetCommitRequestPartition::default().with_partition_index(0),
                                OffsetCommitRequestPartition::default().with_partition_index(3),
                            ]),
                    ]),
            ),
            ApiKey::OffsetFetch if version >= 8 => {
                RequestKind::OffsetFetch(OffsetFetchRequest::default().with_groups(vec![
                    OffsetFetchRequestGroup::default().with_group_id(group()),
                ]))
            }
            ApiKey::OffsetFetch => RequestKind::OffsetFetch(
                OffsetFetchRequest::default()
                    .with_group_id(group())
                    .with_topics(Some(vec![
                        OffsetFetchRequestTopic::default()
                            .with_name(topic())
                            .with_partition_indexes(vec![0, 1]),
                    ])),
            ),
            ApiKey::DescribeGroups => RequestKind::DescribeGroups(
                DescribeGroupsRequest::default().with_groups(vec![group()]),
            ),
            ApiKey::ListGroups => RequestKind::ListGroups(ListGroupsRequest::default()),
            ApiKey::DeleteGroups => RequestKind::DeleteGroups(
                DeleteGroupsRequest::default().with_groups_names(vec![group()]),
            ),
            other => panic!("no request for {other:?}"),
        }
    }

    #[test]
    fn group_and_config_apis_answer_errors_in_their_own_shape_at_every_version() {
        let code = ErrorCode::from_code(NOT_COORDINATOR).unwrap();
        for api in [
            ApiKey::DescribeConfigs,
            ApiKey::OffsetCommit,
            ApiKey::OffsetFetch,
            ApiKey::DescribeGroups,
            ApiKey::ListGroups,
            ApiKey::DeleteGroups,
        ] {
            let range = SUPPORTED.iter().find(|s| s.api_key == api).unwrap();
            for version in range.accepted_min..=range.max {
                let response = error_response(&request(api, version), code)
                    .unwrap_or_else(|| panic!("{api:?} has an error form"));
                let frame = encode_response(7, version, &response)
                    .unwrap_or_else(|e| panic!("{api:?} v{version} encodes: {e}"));
                let (header, decoded) = decode_response(api, version, frame.slice(4..)).unwrap();
                assert_eq!(header.correlation_id, 7);
                let seen = codes(&decoded);
                let expected = match api {
                    ApiKey::OffsetCommit => 2,
                    ApiKey::OffsetFetch if version < 8 => 2,
                    _ => 1,
                };
                assert_eq!(seen, vec![NOT_COORDINATOR; expected], "{api:?} v{version}");
            }
        }
    }

    #[test]
    fn offset_fetch_before_v8_carries_the_error_at_the_top_too() {
        let code = ErrorCode::from_code(NOT_COORDINATOR).unwrap();
        let Some(ResponseKind::OffsetFetch(response)) =
            error_response(&request(ApiKey::OffsetFetch, 7), code)
        else {
            panic!("an OffsetFetch answer");
        };
        assert_eq!(response.error_code, NOT_COORDINATOR);
        let partition = &response.topics[0].partitions[1];
        assert_eq!(
            (partition.partition_index, partition.committed_offset),
            (1, -1)
        );
    }
}
