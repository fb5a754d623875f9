//! One populated response per API ktrial uses, at any version; the same rule as the requests:
//! every field the version has is set to a non-default value, the others keep their default.

use bytes::Bytes;
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsResponse, CreateTopicsResponse, DeleteGroupsResponse, DeleteTopicsResponse,
    DescribeClusterResponse, DescribeConfigsResponse, DescribeGroupsResponse, FetchResponse,
    FindCoordinatorResponse, HeartbeatResponse, InitProducerIdResponse, JoinGroupResponse,
    LeaveGroupResponse, ListGroupsResponse, ListOffsetsResponse, MetadataResponse,
    OffsetCommitResponse, OffsetFetchResponse, ProduceResponse, ResponseKind, SyncGroupResponse,
    api_versions_response, create_topics_response, delete_groups_response, delete_topics_response,
    describe_cluster_response, describe_configs_response, describe_groups_response, fetch_response,
    find_coordinator_response, join_group_response, leave_group_response, list_groups_response,
    list_offsets_response, metadata_response, offset_commit_response, offset_fetch_response,
    produce_response,
};

use super::{When, group, records, str, topic, topic_id};

/// A response of `api` at `v` with every field of that version populated.
pub fn sample(api: ApiKey, v: i16) -> ResponseKind {
    match api {
        ApiKey::ApiVersions => ResponseKind::ApiVersions(api_versions(v)),
        ApiKey::Metadata => ResponseKind::Metadata(metadata(v)),
        ApiKey::Produce => ResponseKind::Produce(produce(v)),
        ApiKey::InitProducerId => ResponseKind::InitProducerId(
            InitProducerIdResponse::default()
                .with_throttle_time_ms(5)
                .with_error_code(0)
                .with_producer_id(4242.into())
                .with_producer_epoch(7)
                .when(v >= 6, |m| {
                    m.with_ongoing_txn_producer_id(4241.into())
                        .with_ongoing_txn_producer_epoch(6)
                }),
        ),
        ApiKey::ListOffsets => ResponseKind::ListOffsets(
            ListOffsetsResponse::default()
                .when(v >= 2, |m| m.with_throttle_time_ms(5))
                .with_topics(vec![
                    list_offsets_response::ListOffsetsTopicResponse::default()
                        .with_name(topic("orders"))
                        .with_partitions(vec![
                            list_offsets_response::ListOffsetsPartitionResponse::default()
                                .with_partition_index(3)
                                .with_error_code(6)
                                .with_timestamp(1_700_000_000_000)
                                .with_offset(12_345)
                                .when(v >= 4, |m| m.with_leader_epoch(12)),
                        ]),
                ]),
        ),
        ApiKey::Fetch => ResponseKind::Fetch(fetch(v)),
        ApiKey::CreateTopics => ResponseKind::CreateTopics(create_topics(v)),
        ApiKey::DeleteTopics => ResponseKind::DeleteTopics(
            DeleteTopicsResponse::default()
                .with_throttle_time_ms(5)
                .with_responses(vec![
                    delete_topics_response::DeletableTopicResult::default()
                        .with_name(Some(topic("orders")))
                        .when(v >= 6, |m| m.with_topic_id(topic_id(1)))
                        .with_error_code(3)
                        .when(v >= 5, |m| m.with_error_message(Some(str("unknown topic")))),
                ]),
        ),
        ApiKey::DescribeConfigs => ResponseKind::DescribeConfigs(describe_configs(v)),
        ApiKey::DescribeCluster => ResponseKind::DescribeCluster(
            DescribeClusterResponse::default()
                .with_throttle_time_ms(5)
                .with_error_code(0)
                .with_error_message(Some(str("none")))
                .when(v >= 1, |m| m.with_endpoint_type(2))
                .with_cluster_id(str("cluster-1"))
                .with_controller_id(1.into())
                .with_brokers(vec![
                    describe_cluster_response::DescribeClusterBroker::default()
                        .with_broker_id(1.into())
                        .with_host(str("localhost"))
                        .with_port(9092)
                        .with_rack(Some(str("rack-a")))
                        .when(v >= 2, |m| m.with_is_fenced(true)),
                ])
                .with_cluster_authorized_operations(0x0ff8),
        ),
        ApiKey::FindCoordinator => ResponseKind::FindCoordinator(find_coordinator(v)),
        ApiKey::JoinGroup => ResponseKind::JoinGroup(join_group(v)),
        ApiKey::SyncGroup => ResponseKind::SyncGroup(
            SyncGroupResponse::default()
                .when(v >= 1, |m| m.with_throttle_time_ms(5))
                .with_error_code(27)
                .when(v >= 5, |m| {
                    m.with_protocol_type(Some(str("consumer")))
                        .with_protocol_name(Some(str("range")))
                })
                .with_assignment(Bytes::from_static(b"\x00\x01assignment")),
        ),
        ApiKey::Heartbeat => ResponseKind::Heartbeat(
            HeartbeatResponse::default()
                .when(v >= 1, |m| m.with_throttle_time_ms(5))
                .with_error_code(27),
        ),
        ApiKey::LeaveGroup => ResponseKind::LeaveGroup(
            LeaveGroupResponse::default()
                .when(v >= 1, |m| m.with_throttle_time_ms(5))
                .with_error_code(25)
                .when(v >= 3, |m| {
                    m.with_members(vec![
                        leave_group_response::MemberResponse::default()
                            .with_member_id(str("member-1"))
                            .with_group_instance_id(Some(str("instance-1")))
                            .with_error_code(25),
                    ])
                }),
        ),
        ApiKey::OffsetCommit => ResponseKind::OffsetCommit(
            OffsetCommitResponse::default()
                .when(v >= 3, |m| m.with_throttle_time_ms(5))
                .with_topics(vec![
                    offset_commit_response::OffsetCommitResponseTopic::default()
                        .when(v <= 9, |m| m.with_name(topic("orders")))
                        .when(v >= 10, |m| m.with_topic_id(topic_id(1)))
                        .with_partitions(vec![
                            offset_commit_response::OffsetCommitResponsePartition::default()
                                .with_partition_index(2)
                                .with_error_code(22),
                        ]),
                ]),
        ),
        ApiKey::OffsetFetch => ResponseKind::OffsetFetch(offset_fetch(v)),
        ApiKey::ListGroups => ResponseKind::ListGroups(
            ListGroupsResponse::default()
                .when(v >= 1, |m| m.with_throttle_time_ms(5))
                .with_error_code(0)
                .with_groups(vec![
                    list_groups_response::ListedGroup::default()
                        .with_group_id(group("group-a"))
                        .with_protocol_type(str("consumer"))
                        .when(v >= 4, |m| m.with_group_state(str("Stable")))
                        .when(v >= 5, |m| m.with_group_type(str("classic"))),
                ]),
        ),
        ApiKey::DescribeGroups => ResponseKind::DescribeGroups(describe_groups(v)),
        ApiKey::DeleteGroups => ResponseKind::DeleteGroups(
            DeleteGroupsResponse::default()
                .with_throttle_time_ms(5)
                .with_results(vec![
                    delete_groups_response::DeletableGroupResult::default()
                        .with_group_id(group("group-a"))
                        .with_error_code(69),
                ]),
        ),
        other => panic!("no sample response for {other:?}"),
    }
}

fn api_versions(v: i16) -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(0)
        .with_api_keys(vec![
            api_versions_response::ApiVersion::default()
                .with_api_key(0)
                .with_min_version(3)
                .with_max_version(13),
            api_versions_response::ApiVersion::default()
                .with_api_key(18)
                .with_min_version(0)
                .with_max_version(4),
        ])
        .when(v >= 1, |m| m.with_throttle_time_ms(5))
        .when(v >= 3, |m| {
            m.with_supported_features(vec![
                api_versions_response::SupportedFeatureKey::default()
                    .with_name(str("metadata.version"))
                    .with_min_version(1)
                    .with_max_version(21),
            ])
            .with_finalized_features_epoch(8)
            .with_finalized_features(vec![
                api_versions_response::FinalizedFeatureKey::default()
                    .with_name(str("metadata.version"))
                    .with_max_version_level(21)
                    .with_min_version_level(21),
            ])
            .with_zk_migration_ready(true)
        })
}

fn metadata(v: i16) -> MetadataResponse {
    MetadataResponse::default()
        .when(v >= 3, |m| m.with_throttle_time_ms(5))
        .with_brokers(vec![
            metadata_response::MetadataResponseBroker::default()
                .with_node_id(1.into())
                .with_host(str("localhost"))
                .with_port(9092)
                .when(v >= 1, |m| m.with_rack(Some(str("rack-a")))),
        ])
        .when(v >= 2, |m| m.with_cluster_id(Some(str("cluster-1"))))
        .when(v >= 1, |m| m.with_controller_id(1.into()))
        .with_topics(vec![
            metadata_response::MetadataResponseTopic::default()
                .with_error_code(0)
                .with_name(Some(topic("orders")))
                .when(v >= 10, |m| m.with_topic_id(topic_id(1)))
                .when(v >= 1, |m| m.with_is_internal(true))
                .with_partitions(vec![
                    metadata_response::MetadataResponsePartition::default()
                        .with_error_code(9)
                        .with_partition_index(4)
                        .with_leader_id(1.into())
                        .when(v >= 7, |m| m.with_leader_epoch(12))
                        .with_replica_nodes(vec![1.into(), 2.into(), 3.into()])
                        .with_isr_nodes(vec![1.into(), 2.into()])
                        .when(v >= 5, |m| m.with_offline_replicas(vec![3.into()])),
                ])
                .when(v >= 8, |m| m.with_topic_authorized_operations(0x0ff8)),
        ])
        .when((8..=10).contains(&v), |m| {
            m.with_cluster_authorized_operations(0x0ff8)
        })
        .when(v >= 13, |m| m.with_error_code(29))
}

fn produce(v: i16) -> ProduceResponse {
    ProduceResponse::default()
        .with_responses(vec![
            produce_response::TopicProduceResponse::default()
                .when(v <= 12, |m| m.with_name(topic("orders")))
                .when(v >= 13, |m| m.with_topic_id(topic_id(1)))
                .with_partition_responses(vec![
                    produce_response::PartitionProduceResponse::default()
                        .with_index(5)
                        .with_error_code(6)
                        .with_base_offset(12_345)
                        .with_log_append_time_ms(1_700_000_000_000)
                        .when(v >= 5, |m| m.with_log_start_offset(100))
                        .when(v >= 8, |m| {
                            m.with_record_errors(vec![
                                produce_response::BatchIndexAndErrorMessage::default()
                                    .with_batch_index(2)
                                    .with_batch_index_error_message(Some(str("bad record"))),
                            ])
                            .with_error_message(Some(str("not leader")))
                        })
                        .when(v >= 10, |m| {
                            m.with_current_leader(
                                produce_response::LeaderIdAndEpoch::default()
                                    .with_leader_id(2.into())
                                    .with_leader_epoch(13),
                            )
                        }),
                ]),
        ])
        .with_throttle_time_ms(5)
        .when(v >= 10, |m| {
            m.with_node_endpoints(vec![
                produce_response::NodeEndpoint::default()
                    .with_node_id(2.into())
                    .with_host(str("broker-2"))
                    .with_port(9093)
                    .with_rack(Some(str("rack-b"))),
            ])
        })
}

fn fetch(v: i16) -> FetchResponse {
    FetchResponse::default()
        .with_throttle_time_ms(5)
        .when(v >= 7, |m| m.with_error_code(0).with_session_id(77))
        .with_responses(vec![
            fetch_response::FetchableTopicResponse::default()
                .when(v <= 12, |m| m.with_topic(topic("orders")))
                .when(v >= 13, |m| m.with_topic_id(topic_id(1)))
                .with_partitions(vec![
                    fetch_response::PartitionData::default()
                        .with_partition_index(0)
                        .with_error_code(0)
                        .with_high_watermark(1_000)
                        .with_last_stable_offset(990)
                        .when(v >= 5, |m| m.with_log_start_offset(10))
                        .with_aborted_transactions(Some(vec![
                            fetch_response::AbortedTransaction::default()
                                .with_producer_id(4242.into())
                                .with_first_offset(995),
                        ]))
                        .when(v >= 11, |m| m.with_preferred_read_replica(2.into()))
                        .with_records(Some(records()))
                        .when(v >= 12, |m| {
                            m.with_diverging_epoch(
                                fetch_response::EpochEndOffset::default()
                                    .with_epoch(11)
                                    .with_end_offset(980),
                            )
                            .with_current_leader(
                                fetch_response::LeaderIdAndEpoch::default()
                                    .with_leader_id(2.into())
                                    .with_leader_epoch(13),
                            )
                            .with_snapshot_id(
                                fetch_response::SnapshotId::default()
                                    .with_end_offset(500)
                                    .with_epoch(10),
                            )
                        }),
                ]),
        ])
        .when(v >= 16, |m| {
            m.with_node_endpoints(vec![
                fetch_response::NodeEndpoint::default()
                    .with_node_id(2.into())
                    .with_host(str("broker-2"))
                    .with_port(9093)
                    .with_rack(Some(str("rack-b"))),
            ])
        })
}

fn create_topics(v: i16) -> CreateTopicsResponse {
    CreateTopicsResponse::default()
        .with_throttle_time_ms(5)
        .with_topics(vec![
            create_topics_response::CreatableTopicResult::default()
                .with_name(topic("orders"))
                .when(v >= 7, |m| m.with_topic_id(topic_id(1)))
                .with_error_code(36)
                .with_error_message(Some(str("already exists")))
                .when(v >= 5, |m| {
                    m.with_num_partitions(6)
                        .with_replication_factor(3)
                        .with_configs(Some(vec![
                            create_topics_response::CreatableTopicConfigs::default()
                                .with_name(str("cleanup.policy"))
                                .with_value(Some(str("compact")))
                                .with_read_only(true)
                                .with_config_source(1)
                                .with_is_sensitive(true),
                        ]))
                        .with_topic_config_error_code(29)
                }),
        ])
}

fn describe_configs(v: i16) -> DescribeConfigsResponse {
    DescribeConfigsResponse::default()
        .with_throttle_time_ms(5)
        .with_results(vec![
            describe_configs_response::DescribeConfigsResult::default()
                .with_error_code(0)
                .with_error_message(Some(str("none")))
                .with_resource_type(2)
                .with_resource_name(str("orders"))
                .with_configs(vec![
                    describe_configs_response::DescribeConfigsResourceResult::default()
                        .with_name(str("retention.ms"))
                        .with_value(Some(str("604800000")))
                        .with_read_only(true)
                        .with_config_source(5)
                        .with_is_sensitive(true)
                        .with_synonyms(vec![
                            describe_configs_response::DescribeConfigsSynonym::default()
                                .with_name(str("log.retention.ms"))
                                .with_value(Some(str("604800000")))
                                .with_source(5),
                        ])
                        .when(v >= 3, |m| {
                            m.with_config_type(5)
                                .with_documentation(Some(str("How long to keep a log")))
                        }),
                ]),
        ])
}

fn find_coordinator(v: i16) -> FindCoordinatorResponse {
    FindCoordinatorResponse::default()
        .when(v >= 1, |m| m.with_throttle_time_ms(5))
        .when(v <= 3, |m| {
            m.with_error_code(15)
                .with_node_id(1.into())
                .with_host(str("localhost"))
                .with_port(9092)
        })
        .when((1..=3).contains(&v), |m| {
            m.with_error_message(Some(str("loading")))
        })
        .when(v >= 4, |m| {
            m.with_coordinators(vec![
                find_coordinator_response::Coordinator::default()
                    .with_key(str("group-a"))
                    .with_node_id(1.into())
                    .with_host(str("localhost"))
                    .with_port(9092)
                    .with_error_code(15)
                    .with_error_message(Some(str("loading"))),
            ])
        })
}

fn join_group(v: i16) -> JoinGroupResponse {
    JoinGroupResponse::default()
        .when(v >= 2, |m| m.with_throttle_time_ms(5))
        .with_error_code(79)
        .with_generation_id(3)
        .when(v >= 7, |m| m.with_protocol_type(Some(str("consumer"))))
        .with_protocol_name(Some(str("range")))
        .with_leader(str("member-1"))
        .when(v >= 9, |m| m.with_skip_assignment(true))
        .with_member_id(str("member-1"))
        .with_members(vec![
            join_group_response::JoinGroupResponseMember::default()
                .with_member_id(str("member-1"))
                .when(v >= 5, |m| {
                    m.with_group_instance_id(Some(str("instance-1")))
                })
                .with_metadata(Bytes::from_static(b"\x00\x01subscription")),
        ])
}

fn offset_fetch(v: i16) -> OffsetFetchResponse {
    OffsetFetchResponse::default()
        .when(v >= 3, |m| m.with_throttle_time_ms(5))
        .when(v <= 7, |m| {
            m.with_topics(vec![
                offset_fetch_response::OffsetFetchResponseTopic::default()
                    .with_name(topic("orders"))
                    .with_partitions(vec![
                        offset_fetch_response::OffsetFetchResponsePartition::default()
                            .with_partition_index(2)
                            .with_committed_offset(12_345)
                            .when(v >= 5, |m| m.with_committed_leader_epoch(12))
                            .with_metadata(Some(str("checkpoint")))
                            .with_error_code(0),
                    ]),
            ])
        })
        .when((2..=7).contains(&v), |m| m.with_error_code(14))
        .when(v >= 8, |m| {
            m.with_groups(vec![
                offset_fetch_response::OffsetFetchResponseGroup::default()
                    .with_group_id(group("group-a"))
                    .with_topics(vec![
                        offset_fetch_response::OffsetFetchResponseTopics::default()
                            .when(v <= 9, |m| m.with_name(topic("orders")))
                            .when(v >= 10, |m| m.with_topic_id(topic_id(1)))
                            .with_partitions(vec![
                                offset_fetch_response::OffsetFetchResponsePartitions::default()
                                    .with_partition_index(2)
                                    .with_committed_offset(12_345)
                                    .with_committed_leader_epoch(12)
                                    .with_metadata(Some(str("checkpoint")))
                                    .with_error_code(0),
                            ]),
                    ])
                    .with_error_code(14),
            ])
        })
}

fn describe_groups(v: i16) -> DescribeGroupsResponse {
    DescribeGroupsResponse::default()
        .when(v >= 1, |m| m.with_throttle_time_ms(5))
        .with_groups(vec![
            describe_groups_response::DescribedGroup::default()
                .with_error_code(0)
                .when(v >= 6, |m| m.with_error_message(Some(str("none"))))
                .with_group_id(group("group-a"))
                .with_group_state(str("Stable"))
                .with_protocol_type(str("consumer"))
                .with_protocol_data(str("range"))
                .with_members(vec![
                    describe_groups_response::DescribedGroupMember::default()
                        .with_member_id(str("member-1"))
                        .when(v >= 4, |m| {
                            m.with_group_instance_id(Some(str("instance-1")))
                        })
                        .with_client_id(str("client-1"))
                        .with_client_host(str("/127.0.0.1"))
                        .with_member_metadata(Bytes::from_static(b"\x00\x01subscription"))
                        .with_member_assignment(Bytes::from_static(b"\x00\x01assignment")),
                ])
                .when(v >= 3, |m| m.with_authorized_operations(0x0ff8)),
        ])
}
