//! The HTTP control API on a real listener: every endpoint's happy path, and every refusal (HTTP
//! 400 with `{"error", "field"}`) leaves the cluster and the fault plan as they were.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::http::http;
use common::{batch, produce_request};
use ktrial_mockbroker::faults::{ClusterEvent, ScheduledEvent};
use ktrial_mockbroker::{MockCluster, control};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::ProducerState;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Three brokers, `orders` with 3 partitions on all three, 3 records in `orders-0`, and the
/// control API on an ephemeral port.
async fn start() -> (MockCluster, SocketAddr) {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic("orders", 3, 3)
        .start()
        .await
        .unwrap();
    let shared = Arc::clone(cluster.model());
    let now = shared.now();
    shared.update(now, |c| {
        let request = produce_request(
            1,
            1000,
            &[(
                "orders",
                0,
                batch(Compression::None, 3, ProducerState::NONE),
            )],
        );
        let mut outcome = c.produce(1, 9, &request, now);
        c.complete_produce(1, &mut outcome, false);
        assert!(!outcome.has_error());
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(control::serve(listener, shared, std::future::pending()));
    (cluster, address)
}

fn produce_rule() -> Value {
    json!({
        "when": {"api": "Produce", "topic": "orders", "partition": 1},
        "do": {"error": {"code": "NOT_LEADER_OR_FOLLOWER"}},
        "limit": 2
    })
}

#[tokio::test]
async fn cluster_state_and_records() {
    let (cluster, address) = start().await;
    let (status, state) = http(address, "GET", "/v1/cluster", None).await;
    assert_eq!(status, 200);
    assert_eq!(state["controller"], 1);
    assert_eq!(state["brokers"].as_array().unwrap().len(), 3);
    assert!(
        state["brokers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["up"] == true)
    );
    let p0 = &state["topics"]["orders"]["partitions"][0];
    assert_eq!(p0["partition"], 0);
    assert_eq!(p0["leader"], 1);
    assert_eq!(p0["leader_epoch"], 0);
    assert_eq!(p0["replicas"], json!([1, 2, 3]));
    assert_eq!(p0["isr"], json!([1, 2, 3]));
    assert_eq!(p0["log_end_offset"], 3);
    assert_eq!(p0["high_watermark"], 3, "followers copy at once");
    assert_eq!(
        state["topics"]["orders"]["partitions"][1]["log_end_offset"],
        0
    );

    let (status, page) = http(
        address,
        "GET",
        "/v1/topics/orders/partitions/0/records?offset=1&limit=1",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["offset"], 1);
    assert_eq!(records[0]["key"], "k1");
    assert_eq!(records[0]["value"], "v1");
    let (_, all) = http(
        address,
        "GET",
        "/v1/topics/orders/partitions/0/records",
        None,
    )
    .await;
    assert_eq!(all["records"].as_array().unwrap().len(), 3);

    let refused = [
        ("/v1/topics/orders/partitions/7/records", 404, "partition"),
        (
            "/v1/topics/orders/partitions/0/records?limit=999999",
            400,
            "limit",
        ),
        ("/v1/topics/orders/partitions/x/records", 400, "partition"),
        (
            "/v1/topics/orders/partitions/0/records?offset=1&colour=red",
            400,
            "query",
        ),
    ];
    for (path, expected, field) in refused {
        let (status, error) = http(address, "GET", path, None).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (expected, Some(field)),
            "{path}"
        );
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn rules_are_added_listed_and_removed() {
    let (cluster, address) = start().await;
    let (status, added) = http(address, "POST", "/v1/faults", Some(&produce_rule())).await;
    assert_eq!(status, 201);
    let first = added["id"].as_u64().unwrap();
    let (status, second) = http(
        address,
        "POST",
        "/v1/faults",
        Some(&json!({"when": {"api": "Metadata", "nth": 2}, "do": "drop"})),
    )
    .await;
    assert_eq!(status, 201);
    let second = second["id"].as_u64().unwrap();
    assert_ne!(first, second);

    let (status, listed) = http(address, "GET", "/v1/faults", None).await;
    assert_eq!(status, 200);
    let rules = listed["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["id"], first);
    assert_eq!(rules[0]["when"], produce_rule()["when"]);
    assert_eq!(rules[0]["do"], produce_rule()["do"]);
    assert_eq!(rules[0]["limit"], 2);
    assert_eq!(
        (rules[0]["matched"].as_u64(), rules[0]["fired"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(rules[1]["do"], "drop");
    assert_eq!(rules[1]["limit"], "always");
    assert_eq!(cluster.faults().len(), 2, "the same plan as the Rust API's");

    let path = format!("/v1/faults/{first}");
    assert_eq!(http(address, "DELETE", &path, None).await.0, 204);
    let (status, error) = http(address, "DELETE", &path, None).await;
    assert_eq!((status, error["field"].as_str()), (404, Some("id")));
    let (status, error) = http(address, "DELETE", "/v1/faults/first", None).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("id")));
    let (_, listed) = http(address, "GET", "/v1/faults", None).await;
    assert_eq!(listed["rules"][0]["id"], second);
    assert_eq!(listed["rules"].as_array().unwrap().len(), 1);

    assert_eq!(http(address, "DELETE", "/v1/faults", None).await.0, 204);
    let (_, listed) = http(address, "GET", "/v1/faults", None).await;
    assert_eq!(listed["rules"], json!([]));
    cluster.shutdown().await;
}

#[tokio::test]
async fn bad_rules_are_refused_whole_naming_the_field() {
    let (cluster, address) = start().await;
    assert_eq!(
        http(address, "POST", "/v1/faults", Some(&produce_rule()))
            .await
            .0,
        201
    );
    let cases = [
        (
            json!({"when": {"api": "Produc"}, "do": "drop"}),
            "when.api",
            "unknown API",
        ),
        (
            json!({"do": {"error": {"code": "NOT_A_LEADER"}}}),
            "do.error.code",
            "unknown Kafka error code",
        ),
        (
            json!({"do": {"error": {"code": 9999}}}),
            "do.error.code",
            "unknown Kafka error code",
        ),
        (
            json!({"when": {"topic": "orders", "partition": 3}, "do": "drop"}),
            "when.partition",
            "has partitions 0..3",
        ),
        (
            json!({"when": {"topic": "nope"}, "do": "drop"}),
            "when.topic",
            "no topic",
        ),
        (
            json!({"when": {"broker": 4}, "do": "drop"}),
            "when.broker",
            "no broker 4",
        ),
        (
            json!({"do": "drop", "limit": -1}),
            "limit",
            "positive count",
        ),
        (
            json!({"when": {"nth": -2}, "do": "drop"}),
            "when.nth",
            "invalid value",
        ),
        (
            json!({"do": {"delay": {"ms": -5}}}),
            "do.delay.ms",
            "invalid value",
        ),
        (
            json!({"when": {"colour": "red"}, "do": "drop"}),
            "when.colour",
            "unknown field",
        ),
        (json!({"do": "explode"}), "do", "unknown variant"),
        (json!({"when": {}}), "", "missing field `do`"),
    ];
    for (rule, field, reason) in cases {
        let (status, error) = http(address, "POST", "/v1/faults", Some(&rule)).await;
        assert_eq!(status, 400, "{rule}");
        assert_eq!(error["field"], field, "{rule}: {error}");
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(reason), "{rule}: {message}");
    }
    let (status, error) = http(address, "POST", "/v1/faults", None).await;
    assert_eq!(status, 400, "an empty body: {error}");
    let (_, listed) = http(address, "GET", "/v1/faults", None).await;
    assert_eq!(
        listed["rules"].as_array().unwrap().len(),
        1,
        "only the good rule is in force"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn events_apply_now_or_at_their_time_and_bad_ones_change_nothing() {
    let (cluster, address) = start().await;
    let elect =
        json!({"event": {"elect_leader": {"topic": "orders", "partition": 0, "leader": 2}}});
    assert_eq!(
        http(address, "POST", "/v1/events", Some(&elect)).await.0,
        204
    );
    let (_, state) = http(address, "GET", "/v1/cluster", None).await;
    let p0 = &state["topics"]["orders"]["partitions"][0];
    assert_eq!(
        (p0["leader"].as_i64(), p0["leader_epoch"].as_i64()),
        (Some(2), Some(1))
    );

    let later = json!({"at_ms": 3_600_000, "event": {"broker_down": {"broker": 3}}});
    assert_eq!(
        http(address, "POST", "/v1/events", Some(&later)).await.0,
        204
    );
    let scheduled = cluster.model().read(cluster.model().now(), |c| {
        c.scheduled_events()
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(scheduled, [ClusterEvent::BrokerDown { broker: 3 }]);
    let (_, state) = http(address, "GET", "/v1/cluster", None).await;
    assert_eq!(state["brokers"][2]["up"], true, "not before its time");

    let refused = [
        (
            json!({"event": {"broker_down": {"broker": 9}}}),
            "event.broker",
        ),
        (
            json!({"event": {"elect_leader": {"topic": "orders", "partition": 5}}}),
            "event.partition",
        ),
        (
            json!({"event": {"elect_leader": {"topic": "gone", "partition": 0}}}),
            "event.topic",
        ),
        (
            json!({"event": {"latency": {"broker": 1, "ms": -1}}}),
            "event.latency.ms",
        ),
        (json!({"event": {"meteor": {}}}), "event"),
        (
            json!({"event": {"broker_up": {"broker": 1}}, "when": 5}),
            "when",
        ),
    ];
    for (event, field) in refused {
        let (status, error) = http(address, "POST", "/v1/events", Some(&event)).await;
        assert_eq!(status, 400, "{event}");
        assert_eq!(error["field"], field, "{event}: {error}");
    }
    // An election with nobody eligible is well-formed but cannot happen: 409, and nothing moves.
    let impossible =
        json!({"event": {"elect_leader": {"topic": "orders", "partition": 1, "leader": 7}}});
    assert_eq!(
        http(address, "POST", "/v1/events", Some(&impossible))
            .await
            .0,
        400,
        "broker 7 does not exist"
    );
    cluster.broker_down(3).unwrap();
    let unreachable =
        json!({"event": {"elect_leader": {"topic": "orders", "partition": 1, "leader": 3}}});
    let (status, error) = http(address, "POST", "/v1/events", Some(&unreachable)).await;
    assert_eq!((status, error["field"].as_str()), (409, Some("event")));
    let (_, state) = http(address, "GET", "/v1/cluster", None).await;
    let p1 = &state["topics"]["orders"]["partitions"][1];
    assert_eq!(p1["leader"], 2, "partition 1 stays with its leader");
    assert_eq!(
        state["topics"]["orders"]["partitions"][0]["leader_epoch"], 1,
        "no refused event moved anything"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_journal_reads_from_a_sequence_number() {
    let (cluster, address) = start().await;
    cluster
        .model()
        .apply_event(ScheduledEvent {
            at_ms: None,
            event: ClusterEvent::ElectLeader {
                topic: "orders".into(),
                partition: 2,
                unclean: false,
                leader: None,
            },
        })
        .unwrap();
    let (status, journal) = http(address, "GET", "/v1/journal?since=0", None).await;
    assert_eq!(status, 200);
    let entries = journal["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    let election = entries
        .iter()
        .find(|e| e["what"]["notice"]["election"].is_object())
        .unwrap_or_else(|| panic!("an election in {journal}"));
    assert_eq!(election["what"]["type"], "cluster");
    assert_eq!(election["what"]["notice"]["election"]["partition"], 2);
    assert!(election["at_ms"].is_u64());
    let last = entries.last().unwrap()["seq"].as_u64().unwrap();
    let (_, tail) = http(address, "GET", &format!("/v1/journal?since={last}"), None).await;
    assert_eq!(tail["entries"].as_array().unwrap().len(), 1);
    assert_eq!(tail["entries"][0]["seq"], last);
    let (_, none) = http(
        address,
        "GET",
        &format!("/v1/journal?since={}", last + 1),
        None,
    )
    .await;
    assert_eq!(none["entries"], json!([]));
    for bad in ["/v1/journal?from=0", "/v1/journal?since=-1"] {
        let (status, error) = http(address, "GET", bad, None).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some("query")),
            "{bad}"
        );
    }
    cluster.shutdown().await;
}
