//! One populated request per API ktrial uses, at any version: every field that exists at the
//! version carries a non-default value, fields the version lacks stay at their default (the
//! encoder refuses or drops them otherwise). The version gates mirror the message JSONs.

use bytes::Bytes;
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, DeleteGroupsRequest, DeleteTopicsRequest,
    DescribeClusterRequest, DescribeConfigsRequest, DescribeGroupsRequest, FetchRequest,
    FindCoordinatorRequest, HeartbeatRequest, InitProducerIdRequest, JoinGroupRequest,
    LeaveGroupRequest, ListGroupsRequest, ListOffsetsRequest, MetadataRequest, OffsetCommitRequest,
    OffsetFetchRequest, ProduceRequest, RequestKind, SyncGroupRequest, create_topics_request,
    delete_topics_request, describe_configs_request, fetch_request, join_group_request,
    leave_group_request, list_offsets_request, metadata_request, offset_commit_request,
    offset_fetch_request, produce_request, sync_group_request,
};

use super::{When, group, records, str, topic, topic_id};

/// A request of `api` at `v` with every field of that version populated.
pub fn sample(api: ApiKey, v: i16) -> RequestKind {
    match api {
        ApiKey::ApiVersions => RequestKind::ApiVersions(
            ApiVersionsRequest::default()
                .when(v >= 3, |m| m.with_client_software_name(str("ktrial")))
                .when(v >= 3, |m| m.with_client_software_version(str("0.1.0"))),
        ),
        ApiKey::Metadata => RequestKind::Metadata(metadata(v)),
        ApiKey::Produce => RequestKind::Produce(produce(v)),
        ApiKey::InitProducerId => RequestKind::InitProducerId(
            InitProducerIdRequest::default()
                .with_transactional_id(Some(str("txn-1").into()))
                .with_transaction_timeout_ms(60_000)
                .when(v >= 3, |m| m.with_producer_id(4242.into()))
                .when(v >= 3, |m| m.with_producer_epoch(7)),
        ),
        ApiKey::ListOffsets => RequestKind::ListOffsets(list_offsets(v)),
        ApiKey::Fetch => RequestKind::Fetch(fetch(v)),
        ApiKey::CreateTopics => RequestKind::CreateTopics(create_topics()),
        ApiKey::DeleteTopics => RequestKind::DeleteTopics(
            DeleteTopicsRequest::default()
                .when(v >= 6, |m| {
                    m.with_topics(vec![
                        delete_topics_request::DeleteTopicState::default()
                            .with_name(Some(topic("orders")))
                            .with_topic_id(topic_id(1)),
                    ])
                })
                .when(v <= 5, |m| {
                    m.with_topic_names(vec![topic("orders"), topic("audit")])
                })
                .with_timeout_ms(15_000),
        ),
        ApiKey::DescribeConfigs => RequestKind::DescribeConfigs(
            DescribeConfigsRequest::default()
                .with_resources(vec![
                    describe_configs_request::DescribeConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(str("orders"))
                        .with_configuration_keys(Some(vec![str("retention.ms")])),
                ])
                .with_include_synonyms(true)
                .when(v >= 3, |m| m.with_include_documentation(true)),
        ),
        ApiKey::DescribeCluster => RequestKind::DescribeCluster(
            DescribeClusterRequest::default()
                .with_include_cluster_authorized_operations(true)
                .when(v >= 1, |m| m.with_endpoint_type(2))
                .when(v >= 2, |m| m.with_include_fenced_brokers(true)),
        ),
        ApiKey::FindCoordinator => RequestKind::FindCoordinator(
            FindCoordinatorRequest::default()
                .when(v <= 3, |m| m.with_key(str("group-a")))
                .when(v >= 1, |m| m.with_key_type(1))
                .when(v >= 4, |m| {
                    m.with_coordinator_keys(vec![str("group-a"), str("group-b")])
                }),
        ),
        ApiKey::JoinGroup => RequestKind::JoinGroup(
            JoinGroupRequest::default()
                .with_group_id(group("group-a"))
                .with_session_timeout_ms(45_000)
                .when(v >= 1, |m| m.with_rebalance_timeout_ms(300_000))
                .with_member_id(str("member-1"))
                .when(v >= 5, |m| {
                    m.with_group_instance_id(Some(str("instance-1")))
                })
                .with_protocol_type(str("consumer"))
                .with_protocols(vec![
                    join_group_request::JoinGroupRequestProtocol::default()
                        .with_name(str("range"))
                        .with_metadata(Bytes::from_static(b"\x00\x01subscription")),
                ])
                .when(v >= 8, |m| m.with_reason(Some(str("rebalance")))),
        ),
        ApiKey::SyncGroup => RequestKind::SyncGroup(
            SyncGroupRequest::default()
                .with_group_id(group("group-a"))
                .with_generation_id(3)
                .with_member_id(str("member-1"))
                .when(v >= 3, |m| {
                    m.with_group_instance_id(Some(str("instance-1")))
                })
                .when(v >= 5, |m| m.with_protocol_type(Some(str("consumer"))))
                .when(v >= 5, |m| m.with_protocol_name(Some(str("range"))))
                .with_assignments(vec![
                    sync_group_request::SyncGroupRequestAssignment::default()
                        .with_member_id(str("member-1"))
                        .with_assignment(Bytes::from_static(b"\x00\x01assignment")),
                ]),
        ),
        ApiKey::Heartbeat => RequestKind::Heartbeat(
            HeartbeatRequest::default()
                .with_group_id(group("group-a"))
                .with_generation_id(3)
                .with_member_id(str("member-1"))
                .when(v >= 3, |m| {
                    m.with_group_instance_id(Some(str("instance-1")))
                }),
        ),
        ApiKey::LeaveGroup => RequestKind::LeaveGroup(
            LeaveGroupRequest::default()
                .with_group_id(group("group-a"))
                .when(v <= 2, |m| m.with_member_id(str("member-1")))
                .when(v >= 3, |m| {
                    m.with_members(vec![
                        leave_group_request::MemberIdentity::default()
                            .with_member_id(str("member-1"))
                            .with_group_instance_id(Some(str("instance-1")))
                            .when(v >= 5, |m| m.with_reason(Some(str("shutdown")))),
                    ])
                }),
        ),
        ApiKey::OffsetCommit => RequestKind::OffsetCommit(offset_commit(v)),
        ApiKey::OffsetFetch => RequestKind::OffsetFetch(offset_fetch(v)),
        ApiKey::ListGroups => RequestKind::ListGroups(
            ListGroupsRequest::default()
                .when(v >= 4, |m| m.with_states_filter(vec![str("Stable")]))
                .when(v >= 5, |m| m.with_types_filter(vec![str("classic")])),
        ),
        ApiKey::DescribeGroups => RequestKind::DescribeGroups(
            DescribeGroupsRequest::default()
                .with_groups(vec![group("group-a"), group("group-b")])
                .when(v >= 3, |m| m.with_include_authorized_operations(true)),
        ),
        ApiKey::DeleteGroups => RequestKind::DeleteGroups(
            DeleteGroupsRequest::default().with_groups_names(vec![group("group-a")]),
        ),
        other => panic!("no sample request for {other:?}"),
    }
}

fn metadata(v: i16) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(vec![
            metadata_request::MetadataRequestTopic::default()
                .when(v >= 10, |m| m.with_topic_id(topic_id(1)))
                .with_name(Some(topic("orders"))),
        ]))
        .when(v >= 4, |m| m.with_allow_auto_topic_creation(false))
        .when((8..=10).contains(&v), |m| {
            m.with_include_cluster_authorized_operations(true)
        })
        .when(v >= 8, |m| m.with_include_topic_authorized_operations(true))
}

fn produce(v: i16) -> ProduceRequest {
    let partition = |index| {
        produce_request::PartitionProduceData::default()
            .with_index(index)
            .with_records(Some(records()))
    };
    ProduceRequest::default()
        .with_transactional_id(Some(str("txn-1").into()))
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            produce_request::TopicProduceData::default()
                .when(v <= 12, |m| m.with_name(topic("orders")))
                .when(v >= 13, |m| m.with_topic_id(topic_id(1)))
                .with_partition_data(vec![partition(0), partition(5)]),
        ])
}

fn list_offsets(v: i16) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(1.into())
        .when(v >= 2, |m| m.with_isolation_level(1))
        .with_topics(vec![
            list_offsets_request::ListOffsetsTopic::default()
                .with_name(topic("orders"))
                .with_partitions(vec![
                    list_offsets_request::ListOffsetsPartition::default()
                        .with_partition_index(3)
                        .when(v >= 4, |m| m.with_current_leader_epoch(12))
                        .with_timestamp(-2),
                ]),
        ])
        .when(v >= 10, |m| m.with_timeout_ms(5_000))
}

fn fetch(v: i16) -> FetchRequest {
    FetchRequest::default()
        .when(v >= 12, |m| m.with_cluster_id(Some(str("cluster-1"))))
        .when(v <= 14, |m| m.with_replica_id(2.into()))
        .when(v >= 15, |m| {
            m.with_replica_state(
                fetch_request::ReplicaState::default()
                    .with_replica_id(2.into())
                    .with_replica_epoch(9),
            )
        })
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_max_bytes(52_428_800)
        .with_isolation_level(1)
        .when(v >= 7, |m| m.with_session_id(77))
        .when(v >= 7, |m| m.with_session_epoch(4))
        .with_topics(vec![
            fetch_request::FetchTopic::default()
                .when(v <= 12, |m| m.with_topic(topic("orders")))
                .when(v >= 13, |m| m.with_topic_id(topic_id(1)))
                .with_partitions(vec![
                    fetch_request::FetchPartition::default()
                        .with_partition(0)
                        .when(v >= 9, |m| m.with_current_leader_epoch(12))
                        .with_fetch_offset(1_000)
                        .when(v >= 12, |m| m.with_last_fetched_epoch(11))
                        .when(v >= 5, |m| m.with_log_start_offset(10))
                        .with_partition_max_bytes(1_048_576)
                        .when(v >= 17, |m| m.with_replica_directory_id(topic_id(9)))
                        .when(v >= 18, |m| m.with_high_watermark(990)),
                ]),
        ])
        .when(v >= 7, |m| {
            m.with_forgotten_topics_data(vec![
                fetch_request::ForgottenTopic::default()
                    .when(v <= 12, |m| m.with_topic(topic("audit")))
                    .when(v >= 13, |m| m.with_topic_id(topic_id(2)))
                    .with_partitions(vec![1, 2]),
            ])
        })
        .when(v >= 11, |m| m.with_rack_id(str("rack-a")))
}

fn create_topics() -> CreateTopicsRequest {
    CreateTopicsRequest::default()
        .with_topics(vec![
            create_topics_request::CreatableTopic::default()
                .with_name(topic("orders"))
                .with_num_partitions(-1)
                .with_replication_factor(-1)
                .with_assignments(vec![
                    create_topics_request::CreatableReplicaAssignment::default()
                        .with_partition_index(0)
                        .with_broker_ids(vec![1.into(), 2.into(), 3.into()]),
                ])
                .with_configs(vec![
                    create_topics_request::CreatableTopicConfig::default()
                        .with_name(str("cleanup.policy"))
                        .with_value(Some(str("compact"))),
                ]),
        ])
        .with_timeout_ms(30_000)
        .with_validate_only(true)
}

fn offset_commit(v: i16) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(group("group-a"))
        .with_generation_id_or_member_epoch(3)
        .with_member_id(str("member-1"))
        .when(v >= 7, |m| {
            m.with_group_instance_id(Some(str("instance-1")))
        })
        .when(v <= 4, |m| m.with_retention_time_ms(86_400_000))
        .with_topics(vec![
            offset_commit_request::OffsetCommitRequestTopic::default()
                .with_name(topic("orders"))
                .with_partitions(vec![
                    offset_commit_request::OffsetCommitRequestPartition::default()
                        .with_partition_index(2)
                        .with_committed_offset(12_345)
                        .when(v >= 6, |m| m.with_committed_leader_epoch(12))
                        .with_committed_metadata(Some(str("checkpoint"))),
                ]),
        ])
}

fn offset_fetch(v: i16) -> OffsetFetchRequest {
    OffsetFetchRequest::default()
        .when(v <= 7, |m| m.with_group_id(group("group-a")))
        .when(v <= 7, |m| {
            m.with_topics(Some(vec![
                offset_fetch_request::OffsetFetchRequestTopic::default()
                    .with_name(topic("orders"))
                    .with_partition_indexes(vec![0, 1, 2]),
            ]))
        })
        .when(v >= 8, |m| {
            m.with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default()
                    .with_group_id(group("group-a"))
                    .when(v >= 9, |m| m.with_member_id(Some(str("member-1"))))
                    .when(v >= 9, |m| m.with_member_epoch(5))
                    .with_topics(Some(vec![
                        offset_fetch_request::OffsetFetchRequestTopics::default()
                            .with_name(topic("orders"))
                            .with_partition_indexes(vec![0, 1, 2]),
                    ])),
            ])
        })
        .when(v >= 7, |m| m.with_require_stable(true))
}
