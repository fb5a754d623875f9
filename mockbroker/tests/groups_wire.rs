//! The group APIs over the wire with the protocol crate as the client: coordinator lookup
//! (single and batched), NOT_COORDINATOR elsewhere, the join/sync/heartbeat/commit/fetch/
//! describe/list/leave/delete cycle at old and flexible versions, error answers that old
//! clients can decode, and a delayed JoinGroup answer keeping its connection's response order.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use ktrial_mockbroker::MockCluster;
use ktrial_protocol::codec::{decode_response, encode_request};
use ktrial_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use ktrial_protocol::messages::leave_group_request::MemberIdentity;
use ktrial_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use ktrial_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic,
};
use ktrial_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use ktrial_protocol::messages::*;
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Duration, Instant, timeout};

const PATIENCE: Duration = Duration::from_secs(10);
const TOPIC: &str = "orders";

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

fn group(id: &str) -> GroupId {
    GroupId(s(id))
}

/// One client connection to one broker.
struct Conn {
    stream: TcpStream,
    next_correlation: i32,
}

impl Conn {
    async fn to(cluster: &MockCluster, broker: i32) -> Self {
        let address = cluster
            .bootstrap_servers()
            .split(',')
            .nth(usize::try_from(broker - 1).unwrap())
            .unwrap()
            .to_string();
        Self {
            stream: TcpStream::connect(address).await.unwrap(),
            next_correlation: 1,
        }
    }

    async fn send(&mut self, api_key: ApiKey, version: i16, body: RequestKind) -> i32 {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(s("wire-test")));
        self.stream
            .write_all(&encode_request(&header, &body).unwrap())
            .await
            .unwrap();
        correlation
    }

    async fn receive(&mut self, api_key: ApiKey, version: i16, correlation: i32) -> ResponseKind {
        let len = timeout(PATIENCE, self.stream.read_i32())
            .await
            .unwrap()
            .unwrap();
        let mut frame = vec![0; usize::try_from(len).unwrap()];
        timeout(PATIENCE, self.stream.read_exact(&mut frame))
            .await
            .unwrap()
            .unwrap();
        let (header, body) = decode_response(api_key, version, Bytes::from(frame)).unwrap();
        assert_eq!(
            header.correlation_id, correlation,
            "responses in request order"
        );
        body
    }

    async fn call(&mut self, api_key: ApiKey, version: i16, body: RequestKind) -> ResponseKind {
        let correlation = self.send(api_key, version, body).await;
        self.receive(api_key, version, correlation).await
    }
}

macro_rules! answer {
    ($response:expr, $kind:ident) => {
        match $response {
            ResponseKind::$kind(r) => r,
            other => panic!("expected {}, got {other:?}", stringify!($kind)),
        }
    };
}

async fn cluster(brokers: i32, delay: Duration) -> MockCluster {
    MockCluster::builder()
        .brokers(brokers)
        .topic(TOPIC, 2, 1)
        .initial_rebalance_delay(delay)
        .start()
        .await
        .unwrap()
}

async fn coordinator_of(cluster: &MockCluster, group_id: &str) -> i32 {
    let mut conn = Conn::to(cluster, 1).await;
    let body = FindCoordinatorRequest::default().with_key(s(group_id));
    let found = answer!(
        conn.call(
            ApiKey::FindCoordinator,
            2,
            RequestKind::FindCoordinator(body)
        )
        .await,
        FindCoordinator
    );
    assert_eq!(found.error_code, 0);
    found.node_id.0
}

fn join(group_id: &str, member_id: &str, protocols: &[&str]) -> RequestKind {
    RequestKind::JoinGroup(
        JoinGroupRequest::default()
            .with_group_id(group(group_id))
            .with_member_id(s(member_id))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(20_000)
            .with_protocol_type(s("consumer"))
            .with_protocols(
                protocols
                    .iter()
                    .map(|p| {
                        JoinGroupRequestProtocol::default()
                            .with_name(s(p))
                            .with_metadata(Bytes::from_static(b"subscription"))
                    })
                    .collect(),
            ),
    )
}

#[tokio::test]
async fn coordinator_lookup_single_and_batched_and_not_coordinator_elsewhere() {
    let cluster = cluster(3, Duration::ZERO).await;
    let ids: Vec<String> = (0..12).map(|i| format!("group-{i}")).collect();
    let mut conn = Conn::to(&cluster, 2).await;
    let batched = FindCoordinatorRequest::default()
        .with_coordinator_keys(ids.iter().map(|id| s(id)).collect());
    let found = answer!(
        conn.call(
            ApiKey::FindCoordinator,
            4,
            RequestKind::FindCoordinator(batched)
        )
        .await,
        FindCoordinator
    );
    assert_eq!(found.coordinators.len(), ids.len());
    let mut brokers = std::collections::BTreeSet::new();
    for (id, c) in ids.iter().zip(&found.coordinators) {
        assert_eq!((c.key.as_str(), c.error_code), (id.as_str(), 0));
        assert_eq!(c.node_id.0, coordinator_of(&cluster, id).await);
        brokers.insert(c.node_id.0);
    }
    assert!(brokers.len() > 1, "groups spread over brokers: {brokers:?}");
    let txn = FindCoordinatorRequest::default()
        .with_key(s("txn"))
        .with_key_type(1);
    let none = answer!(
        conn.call(
            ApiKey::FindCoordinator,
            3,
            RequestKind::FindCoordinator(txn)
        )
        .await,
        FindCoordinator
    );
    assert_eq!(
        none.error_code,
        ResponseError::CoordinatorNotAvailable.code()
    );

    let coordinator = coordinator_of(&cluster, "group-0").await;
    let elsewhere = (1..=3).find(|b| *b != coordinator).unwrap();
    let mut wrong = Conn::to(&cluster, elsewhere).await;
    let refused = answer!(
        wrong
            .call(ApiKey::JoinGroup, 5, join("group-0", "", &["range"]))
            .await,
        JoinGroup
    );
    assert_eq!(refused.error_code, ResponseError::NotCoordinator.code());
    let hb = HeartbeatRequest::default()
        .with_group_id(group("group-0"))
        .with_member_id(s("m"));
    let refused = answer!(
        wrong
            .call(ApiKey::Heartbeat, 4, RequestKind::Heartbeat(hb))
            .await,
        Heartbeat
    );
    assert_eq!(refused.error_code, ResponseError::NotCoordinator.code());
}

#[tokio::test]
async fn group_cycle_at_old_and_flexible_versions() {
    let cluster = cluster(1, Duration::ZERO).await;
    let mut conn = Conn::to(&cluster, 1).await;

    // v0: no MEMBER_ID_REQUIRED; the answer carries a non-null protocol name.
    let j = answer!(
        conn.call(ApiKey::JoinGroup, 0, join("g", "", &["range"]))
            .await,
        JoinGroup
    );
    assert_eq!((j.error_code, j.generation_id), (0, 1));
    assert_eq!(j.leader, j.member_id);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(j.members.len(), 1);
    let member = j.member_id.clone();
    assert!(member.starts_with("wire-test-"));

    let sync = SyncGroupRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(member.clone())
        .with_assignments(vec![
            SyncGroupRequestAssignment::default()
                .with_member_id(member.clone())
                .with_assignment(Bytes::from_static(b"both partitions")),
        ]);
    let synced = answer!(
        conn.call(ApiKey::SyncGroup, 0, RequestKind::SyncGroup(sync))
            .await,
        SyncGroup
    );
    assert_eq!(synced.error_code, 0);
    assert_eq!(synced.assignment, Bytes::from_static(b"both partitions"));
    let hb = HeartbeatRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(member.clone());
    let beat = answer!(
        conn.call(ApiKey::Heartbeat, 0, RequestKind::Heartbeat(hb.clone()))
            .await,
        Heartbeat
    );
    assert_eq!(beat.error_code, 0);

    // OffsetCommit v2 and v8 (flexible): a real partition, and one that does not exist.
    for (version, offset) in [(2, 7), (8, 9)] {
        let commit = OffsetCommitRequest::default()
            .with_group_id(group("g"))
            .with_generation_id_or_member_epoch(1)
            .with_member_id(member.clone())
            .with_topics(vec![
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(s(TOPIC)))
                    .with_partitions(vec![
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(1)
                            .with_committed_offset(offset)
                            .with_committed_metadata(Some(s("meta"))),
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(99)
                            .with_committed_offset(1),
                    ]),
            ]);
        let committed = answer!(
            conn.call(
                ApiKey::OffsetCommit,
                version,
                RequestKind::OffsetCommit(commit)
            )
            .await,
            OffsetCommit
        );
        let codes: Vec<i16> = committed.topics[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(
            codes,
            vec![0, ResponseError::UnknownTopicOrPartition.code()]
        );
    }
    assert_eq!(
        cluster.committed_offsets("g")[&(TOPIC.to_string(), 1)].offset,
        9
    );

    // OffsetFetch v1 (one group) and v8 (several groups, flexible).
    let fetch = OffsetFetchRequest::default()
        .with_group_id(group("g"))
        .with_topics(Some(vec![
            OffsetFetchRequestTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partition_indexes(vec![0, 1]),
        ]));
    let fetched = answer!(
        conn.call(ApiKey::OffsetFetch, 1, RequestKind::OffsetFetch(fetch))
            .await,
        OffsetFetch
    );
    let offsets: Vec<(i64, Option<String>)> = fetched.topics[0]
        .partitions
        .iter()
        .map(|p| {
            (
                p.committed_offset,
                p.metadata.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    assert_eq!(
        offsets,
        vec![(-1, Some(String::new())), (9, Some("meta".to_string()))]
    );
    let multi = OffsetFetchRequest::default().with_groups(vec![
        OffsetFetchRequestGroup::default()
            .with_group_id(group("g"))
            .with_topics(None),
        OffsetFetchRequestGroup::default()
            .with_group_id(group("never-used"))
            .with_topics(None),
    ]);
    let fetched = answer!(
        conn.call(ApiKey::OffsetFetch, 8, RequestKind::OffsetFetch(multi))
            .await,
        OffsetFetch
    );
    assert_eq!(fetched.groups.len(), 2);
    assert_eq!(
        fetched.groups[0].topics[0].partitions[0].committed_offset,
        9
    );
    assert!(fetched.groups[1].topics.is_empty());

    // DescribeGroups v0 and v6; ListGroups v4 with a state filter.
    let describe = DescribeGroupsRequest::default().with_groups(vec![group("g"), group("nope")]);
    let described = answer!(
        conn.call(
            ApiKey::DescribeGroups,
            6,
            RequestKind::DescribeGroups(describe.clone())
        )
        .await,
        DescribeGroups
    );
    let g = &described.groups[0];
    assert_eq!(
        (g.group_state.as_str(), g.protocol_data.as_str()),
        ("Stable", "range")
    );
    assert_eq!(
        g.members[0].member_assignment,
        Bytes::from_static(b"both partitions")
    );
    assert_eq!(g.members[0].client_host.as_str(), "/127.0.0.1");
    assert_eq!(
        described.groups[1].error_code,
        ResponseError::GroupIdNotFound.code()
    );
    let old = answer!(
        conn.call(
            ApiKey::DescribeGroups,
            0,
            RequestKind::DescribeGroups(describe)
        )
        .await,
        DescribeGroups
    );
    assert_eq!(
        (old.groups[1].error_code, old.groups[1].group_state.as_str()),
        (0, "Dead")
    );
    for (filter, expected) in [("Stable", 1), ("Empty", 0)] {
        let list = ListGroupsRequest::default().with_states_filter(vec![s(filter)]);
        let listed = answer!(
            conn.call(ApiKey::ListGroups, 4, RequestKind::ListGroups(list))
                .await,
            ListGroups
        );
        assert_eq!(listed.groups.len(), expected, "{filter}");
    }

    // DeleteGroups refuses a group with members; LeaveGroup v3 (batched) empties it.
    let delete = DeleteGroupsRequest::default().with_groups_names(vec![group("g"), group("nope")]);
    let refused = answer!(
        conn.call(
            ApiKey::DeleteGroups,
            2,
            RequestKind::DeleteGroups(delete.clone())
        )
        .await,
        DeleteGroups
    );
    let codes: Vec<i16> = refused.results.iter().map(|r| r.error_code).collect();
    assert_eq!(
        codes,
        vec![
            ResponseError::NonEmptyGroup.code(),
            ResponseError::GroupIdNotFound.code()
        ]
    );
    let leave = LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_members(vec![
            MemberIdentity::default().with_member_id(member.clone()),
            MemberIdentity::default().with_member_id(s("stranger")),
        ]);
    let left = answer!(
        conn.call(ApiKey::LeaveGroup, 3, RequestKind::LeaveGroup(leave))
            .await,
        LeaveGroup
    );
    let codes: Vec<i16> = left.members.iter().map(|m| m.error_code).collect();
    assert_eq!(codes, vec![0, ResponseError::UnknownMemberId.code()]);
    let gone = answer!(
        conn.call(ApiKey::Heartbeat, 0, RequestKind::Heartbeat(hb))
            .await,
        Heartbeat
    );
    assert_eq!(gone.error_code, ResponseError::UnknownMemberId.code());
    let deleted = answer!(
        conn.call(ApiKey::DeleteGroups, 2, RequestKind::DeleteGroups(delete))
            .await,
        DeleteGroups
    );
    assert_eq!(deleted.results[0].error_code, 0);
    assert!(cluster.committed_offsets("g").is_empty());
}

#[tokio::test]
async fn new_member_id_required_on_v4_plus_and_errors_decode_at_every_version() {
    let cluster = cluster(1, Duration::ZERO).await;
    let mut conn = Conn::to(&cluster, 1).await;
    for version in [4, 6, 9] {
        let asked = answer!(
            conn.call(ApiKey::JoinGroup, version, join("v", "", &["range"]))
                .await,
            JoinGroup
        );
        assert_eq!(asked.error_code, ResponseError::MemberIdRequired.code());
        assert!(!asked.member_id.is_empty());
    }
    // An empty protocol list: INCONSISTENT_GROUP_PROTOCOL at every version; old versions get
    // "" for the protocol name, flexible ones null.
    for version in 0..=9 {
        let refused = answer!(
            conn.call(ApiKey::JoinGroup, version, join("w", "", &[]))
                .await,
            JoinGroup
        );
        assert_eq!(
            refused.error_code,
            ResponseError::InconsistentGroupProtocol.code(),
            "v{version}"
        );
        let expected = if version < 7 { Some("") } else { None };
        assert_eq!(refused.protocol_name.as_deref(), expected, "v{version}");
    }
    // SyncGroup from a member nobody knows, at the oldest and newest versions.
    for version in [0, 5] {
        let sync = SyncGroupRequest::default()
            .with_group_id(group("v"))
            .with_member_id(s("nobody"));
        let refused = answer!(
            conn.call(ApiKey::SyncGroup, version, RequestKind::SyncGroup(sync))
                .await,
            SyncGroup
        );
        assert_eq!(refused.error_code, ResponseError::UnknownMemberId.code());
    }
    assert!(cluster.describe_group("w").is_none());
}

#[tokio::test]
async fn join_answer_waits_for_the_rebalance_and_keeps_response_order() {
    let delay = Duration::from_millis(300);
    let cluster = cluster(1, delay).await;
    let mut conn = Conn::to(&cluster, 1).await;
    let start = Instant::now();
    // JoinGroup v3 (no MEMBER_ID_REQUIRED) then Metadata, pipelined on one connection.
    let joined = conn
        .send(ApiKey::JoinGroup, 3, join("slow", "", &["range"]))
        .await;
    let metadata = conn
        .send(
            ApiKey::Metadata,
            1,
            RequestKind::Metadata(MetadataRequest::default().with_topics(Some(Vec::new()))),
        )
        .await;
    let j = answer!(conn.receive(ApiKey::JoinGroup, 3, joined).await, JoinGroup);
    assert!(start.elapsed() >= delay, "answered after the initial delay");
    assert_eq!((j.error_code, j.generation_id), (0, 1));
    answer!(conn.receive(ApiKey::Metadata, 1, metadata).await, Metadata);
}
