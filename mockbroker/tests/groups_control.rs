//! Groups on the control API: `GET /v1/groups` and `GET /v1/groups/{group}` report state,
//! generation, members and committed offsets; an unknown group is a 404.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use ktrial_mockbroker::MockCluster;
use ktrial_mockbroker::groups::{
    CommitPartition, CommitRequest, JoinRequest, MemberRef, Pending, Protocol, SyncRequest,
};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::time::Duration;

async fn get(address: std::net::SocketAddr, path: &str) -> (u16, Value) {
    common::http::http(address, "GET", path, None).await
}

#[tokio::test]
async fn groups_and_their_offsets_on_the_control_api() {
    let cluster = MockCluster::builder()
        .topic("orders", 2, 1)
        .initial_rebalance_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let shared = Arc::clone(cluster.model());
    let now = shared.now();
    let member = shared.update(now, |c| {
        let join = JoinRequest {
            group_id: "app".into(),
            member_id: String::new(),
            group_instance_id: None,
            client_id: "svc".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout_ms: 30_000,
            rebalance_timeout_ms: 30_000,
            protocol_type: "consumer".into(),
            protocols: vec![Protocol {
                name: "range".into(),
                metadata: Bytes::new(),
            }],
            require_known_member_id: false,
            supports_skip_assignment: false,
        };
        let Pending::Wait(ticket) = c.groups_mut().join(&join, now) else {
            panic!("a first join waits")
        };
        c.tick(now);
        let member = c.groups_mut().take_join(ticket).unwrap().member_id;
        let sync = SyncRequest {
            group_id: "app".into(),
            generation_id: 1,
            member_id: member.clone(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![(member.clone(), Bytes::from_static(b"abc"))],
        };
        c.groups_mut().sync(&sync, now);
        let commit = CommitRequest {
            group_id: "app".into(),
            generation_id: 1,
            member: MemberRef {
                member_id: member.clone(),
                group_instance_id: None,
            },
            partitions: vec![CommitPartition {
                topic: "orders".into(),
                partition: 1,
                offset: 42,
                leader_epoch: 0,
                metadata: Some("m".into()),
            }],
        };
        let results = c
            .groups_mut()
            .commit_offsets(&commit, |_, _| true, now, 1_000);
        assert_eq!(results, vec![Ok(())]);
        member
    });

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(ktrial_mockbroker::control::serve(
        listener,
        Arc::clone(&shared),
        std::future::pending(),
    ));

    let (status, all) = get(address, "/v1/groups").await;
    assert_eq!(status, 200);
    assert_eq!(all["groups"].as_array().unwrap().len(), 1);
    let (status, app) = get(address, "/v1/groups/app").await;
    assert_eq!(status, 200);
    assert_eq!(app["state"], "Stable");
    assert_eq!(app["generation_id"], 1);
    assert_eq!(app["protocol"], "range");
    assert_eq!(app["leader"], member.as_str());
    assert_eq!(app["members"][0]["client_id"], "svc");
    assert_eq!(app["members"][0]["assignment_bytes"], 3);
    let offset = &app["offsets"][0];
    assert_eq!(
        (
            offset["topic"].as_str(),
            offset["partition"].as_i64(),
            offset["offset"].as_i64()
        ),
        (Some("orders"), Some(1), Some(42))
    );
    assert_eq!(offset["metadata"], "m");
    assert_eq!(offset["commit_timestamp_ms"], 1_000);
    let (status, missing) = get(address, "/v1/groups/nope").await;
    assert_eq!(status, 404);
    assert_eq!(missing["field"], "group");
    server.abort();
    cluster.shutdown().await;
}
